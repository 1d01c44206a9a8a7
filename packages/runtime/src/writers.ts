/**
 * The run's TensorBoard event files (the original's `writer`: tensorboardX's SummaryWriter in the
 * experiment's writer folder), under <experiment folder>/writers/<run id>/, so that
 * `tensorboard --logdir <experiment folder>/writers` shows each run as its own line. Scalars:
 *   <estim>/<metric>                 every metric of 'epoch:end', step epoch + 1
 *   <estim>/alpha/<param>/<choice>   softmax(α) of each tensor-driven arch param, step epoch + 1
 *   <estim>/best_score               the best finite score so far at each 'candidate:end', step = candidates so far
 * Each epoch and candidate is appended as it ends (kit-io's EventFileWriter). A resumed run
 * rewrites its folder from the store first (the records up to its checkpoint; those after are
 * computed again), so no step appears twice; TensorBoard has no way to retract a point in a file.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AlphaProbs, EventBus, EventMap } from '@modnas/core';
import type { Scalar, TfEvent } from '@modnas/kit-io';
import { EventFileWriter, guardedWrite } from '@modnas/kit-io';
import type { ExperimentStore } from '@modnas/services';

/** The folder of a run's event files. */
export const writerDir = (outputDir: string, runId: string): string => join(outputDir, 'writers', runId);

/** The scalars of one epoch: its metrics, then softmax(α) of each param. */
export function epochScalars(estim: string, metrics: Record<string, number>, alpha: readonly AlphaProbs[] = []): Scalar[] {
  const out: Scalar[] = [];
  for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number') out.push({ tag: `${estim}/${k}`, value: v });
  for (const a of alpha) a.candidates.forEach((c, i) => out.push({ tag: `${estim}/alpha/${a.param}/${c}`, value: a.probs[i] }));
  return out;
}

/** Keys of a 'metrics' store record that are not metrics (reportEpoch adds them). */
const NOT_METRICS = new Set(['estim', 'epoch', 'epochs', 'time']);

/** Seconds since the epoch of a record's ISO `time` (now when it has none). */
const secondsOf = (time: unknown): number => {
  const t = typeof time === 'string' ? Date.parse(time) : NaN;
  return (Number.isFinite(t) ? t : Date.now()) / 1000;
};

export class RunWriter {
  /** Candidates so far and the best finite score, per estimator. */
  private readonly candidates = new Map<string, { count: number; best?: number }>();

  private constructor(private readonly file: EventFileWriter) {}

  /**
   * Open the run's folder with a new event file, holding (for a resumed run) what the store kept
   * of it; older event files of the folder are removed once the new one is written.
   */
  static open(dir: string, store: ExperimentStore | undefined, runId: string): RunWriter {
    return guardedWrite(`writers/${runId}`, dir, () => {
      mkdirSync(dir, { recursive: true });
      const old = readdirSync(dir).filter((f) => f.includes('tfevents'));
      const w = new RunWriter(new EventFileWriter(dir));
      if (store) w.file.add(w.replay(store, runId));
      for (const f of old) rmSync(join(dir, f), { force: true });
      return w;
    });
  }

  get path(): string {
    return this.file.file;
  }

  /** Events of the run's stored records, oldest first (epochs, α, candidates and tabular trials). */
  private replay(store: ExperimentStore, runId: string): TfEvent[] {
    const events: TfEvent[] = [];
    for (const { stream, record: r } of store.records(undefined, runId)) {
      const estim = typeof r.estim === 'string' ? r.estim : undefined;
      if (!estim) continue;
      const wallTime = secondsOf(r.time);
      if ((stream === 'metrics' || stream === 'alpha') && typeof r.epoch === 'number') {
        const metrics = stream === 'metrics' ? Object.fromEntries(Object.entries(r).filter(([k, v]) => !NOT_METRICS.has(k) && typeof v === 'number')) as Record<string, number> : {};
        const scalars = epochScalars(estim, metrics, stream === 'alpha' && Array.isArray(r.ops) ? (r.ops as AlphaProbs[]) : []);
        if (scalars.length) events.push({ wallTime, step: r.epoch + 1, scalars });
      } else if (stream === 'candidates' || stream === 'trials') {
        // a candidate record's score is null unless it finished; a tabular trial's score is its fitness
        const score = stream === 'candidates' ? r.score : r.fitness;
        const e = this.candidateEvent(estim, typeof score === 'number' ? score : NaN, wallTime);
        if (e) events.push(e);
      }
    }
    return events;
  }

  private candidateEvent(estim: string, score: number, wallTime: number): TfEvent | undefined {
    const c = this.candidates.get(estim) ?? { count: 0 };
    this.candidates.set(estim, c);
    c.count++;
    if (Number.isFinite(score) && (c.best === undefined || score > c.best)) c.best = score;
    return c.best === undefined ? undefined : { wallTime, step: c.count, scalars: [{ tag: `${estim}/best_score`, value: c.best }] };
  }

  epochEnd(p: EventMap['epoch:end'], wallTime = Date.now() / 1000): void {
    this.file.addScalars(p.epoch + 1, epochScalars(p.estim, p.metrics, p.alpha), wallTime);
  }

  candidateEnd(p: EventMap['candidate:end'], wallTime = Date.now() / 1000): void {
    const e = this.candidateEvent(p.estim, p.score, wallTime);
    if (e) this.file.add([e]);
  }

  /** Write on the bus's 'epoch:end' and 'candidate:end' (each write whole, a failed one a coded IO error); returns the unsubscribe. */
  attach(events: EventBus, runId: string): () => void {
    const what = `writers/${runId}`;
    const offs = [
      events.on('epoch:end', (p) => guardedWrite(what, this.path, () => this.epochEnd(p))),
      events.on('candidate:end', (p) => guardedWrite(what, this.path, () => this.candidateEnd(p))),
    ];
    return () => offs.forEach((off) => off());
  }
}
