/**
 * The dashboard's data model, shared by the server (which builds it from a store) and the page
 * (which folds the records the server streams into it): plain JSON, no node and no DOM here.
 */
import type { SpaceDescription } from '@modnas/core';
import type { SlotRecord } from '@modnas/services';

/** One run in the runs table. */
export interface RunEntry {
  /** The experiment folder, relative to the folder `modnas ui` serves ('' for the folder itself). */
  dir: string;
  experiment: string;
  id: string;
  /** The store's status, with a dead process shown as 'killed'. */
  status: string;
  backend?: string;
  /** The search optimizer's type (config optim.type), for grouping runs. */
  optim?: string;
  start: string;
  end?: string;
  /** From start to end (or to the last heartbeat of a running run). */
  seconds: number;
  trials: number;
  best?: number;
  resumes: number;
}

/** What live updates say about the run besides its records. */
export type RunState = Pick<RunEntry, 'status' | 'seconds' | 'end'>;

export interface ExperimentEntry {
  dir: string;
  experiment: string;
  runs: RunEntry[];
  /** outputs/arch_*_best.yaml of the folder (written by its newest run). */
  archFiles: string[];
  /** Set when the experiment's store cannot be opened or read (it is listed without runs; the others are served). */
  error?: { code: string; message: string };
}

export interface EpochPoint {
  id: number;
  estim: string;
  epoch: number;
  time: string;
  values: Record<string, number>;
}

export interface Trial {
  id: number;
  estim: string;
  /** The trial's number in its estimator's search, from 1 (as the logs count). */
  index: number;
  arch: Record<string, unknown>;
  metrics: Record<string, number>;
  status: string;
  score: number | null;
  seconds?: number;
  time?: string;
}

export interface AlphaPoint {
  id: number;
  estim: string;
  epoch: number;
  ops: Array<{ param: string; candidates: string[]; probs: number[] }>;
}

export interface ArchFile {
  name: string;
  /** The estimator it comes from: arch_<estim>_best.yaml. */
  estim: string;
  text: string;
  desc: unknown;
}

export interface RunView {
  dir: string;
  run: RunEntry;
  metrics: EpochPoint[];
  trials: Trial[];
  alpha: AlphaPoint[];
  slots: SlotRecord[];
  /** The search space as the run recorded it (stream 'space', once per run): params with their choices, and the graph it declares. */
  space?: SpaceDescription;
  /** The folder's arch files, when this run wrote them (the folder's newest run). */
  arch: ArchFile[];
  /** The newest record id folded in (live updates continue after it). */
  lastId: number;
}

/** A record as the store returns it (StoredRecord of @modnas/core). */
export interface RecordIn {
  id: number;
  stream: string;
  record: Record<string, unknown>;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function numbers(o: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof o !== 'object' || o === null) return out;
  for (const [k, v] of Object.entries(o)) if (isNum(v)) out[k] = v;
  return out;
}

/** A declared graph the page can draw: named nodes, edges between nodes in range, each naming its param. */
function isGraph(g: unknown): g is NonNullable<SpaceDescription['graph']> {
  if (typeof g !== 'object' || g === null) return false;
  const { nodes, edges } = g as { nodes?: unknown; edges?: unknown };
  if (!Array.isArray(nodes) || !nodes.every((n) => typeof n === 'string') || !Array.isArray(edges)) return false;
  const node = (k: unknown): boolean => Number.isInteger(k) && (k as number) >= 0 && (k as number) < nodes.length;
  return edges.every((e) => typeof e === 'object' && e !== null && node((e as { from?: unknown }).from) && node((e as { to?: unknown }).to) && typeof (e as { param?: unknown }).param === 'string');
}

/** Fold one store record into the view (records arrive oldest first; one already folded in is skipped). */
export function foldRecord(view: RunView, r: RecordIn): void {
  if (r.id <= view.lastId) return;
  view.lastId = r.id;
  const rec = r.record;
  const estim = typeof rec.estim === 'string' ? rec.estim : '';
  switch (r.stream) {
    case 'metrics': {
      const { estim: _e, epoch, epochs: _n, time, ...values } = rec;
      view.metrics.push({ id: r.id, estim, epoch: isNum(epoch) ? epoch : view.metrics.length, time: typeof time === 'string' ? time : '', values: numbers(values) });
      break;
    }
    case 'candidates':
    case 'trials': {
      const { estim: _e, index, query, arch, status, score, seconds, time, row: _r, metrics, fitness, worker: _w, ...rest } = rec;
      const m = metrics === undefined ? numbers(rest) : numbers(metrics);
      const s = isNum(score) ? score : isNum(fitness) ? fitness : null;
      view.trials.push({
        id: r.id,
        estim,
        // 'candidates' count from 0 (index), tabular 'trials' from 1 (query): shown from 1 both
        index: isNum(index) ? index + 1 : isNum(query) ? query : view.trials.length + 1,
        arch: typeof arch === 'object' && arch !== null ? (arch as Record<string, unknown>) : {},
        metrics: m,
        status: typeof status === 'string' ? status : 'done',
        score: s,
        ...(isNum(seconds) ? { seconds } : {}),
        ...(typeof time === 'string' ? { time } : {}),
      });
      if (s !== null && (view.run.best === undefined || s > view.run.best)) view.run.best = s;
      view.run.trials = view.trials.length;
      break;
    }
    case 'alpha':
      view.alpha.push({ id: r.id, estim, epoch: isNum(rec.epoch) ? rec.epoch : view.alpha.length, ops: Array.isArray(rec.ops) ? (rec.ops as AlphaPoint['ops']) : [] });
      break;
    case 'slots':
      if (Array.isArray(rec.slots)) view.slots = rec.slots as SlotRecord[];
      break;
    case 'run_info':
      if (typeof rec.backend === 'string') view.run.backend = rec.backend;
      break;
    case 'space':
      if (Array.isArray(rec.params)) view.space = { params: rec.params as SpaceDescription['params'], ...(isGraph(rec.graph) ? { graph: rec.graph } : {}) };
      break;
    default:
      break;
  }
}

/** Best score so far after each trial (trials in store order; a trial without a score keeps the previous best). */
export function bestSoFar(trials: readonly Trial[]): Array<number | null> {
  let best: number | null = null;
  return trials.map((t) => {
    if (t.score !== null && (best === null || t.score > best)) best = t.score;
    return best;
  });
}

/** Whether an objective is better lower ('min': costs, losses) or higher ('max': score, accuracy). */
export type Direction = 'min' | 'max';

/**
 * Indices of the points on the Pareto front of two objectives: no other point is at least as good
 * in both and better in one. By default the cost is minimised and the score maximised (the highest
 * score for the least cost); `dir` turns either around, for any two metrics as the axes. A sort and
 * one scan: O(n log n). Of points equal in both, one is kept.
 */
export function paretoFront(points: ReadonlyArray<{ cost: number; score: number }>, dir: { cost?: Direction; score?: Direction } = {}): number[] {
  // in these signs, a lower c and a higher s are better
  const cs = dir.cost === 'max' ? -1 : 1;
  const ss = dir.score === 'min' ? -1 : 1;
  const c = points.map((p) => cs * p.cost);
  const s = points.map((p) => ss * p.score);
  const order = points.map((_, i) => i).sort((a, b) => c[a] - c[b] || s[b] - s[a]);
  const front: number[] = [];
  let best = -Infinity;
  for (const i of order) {
    if (s[i] > best) {
      front.push(i);
      best = s[i];
    }
  }
  return front;
}

/**
 * The trial metrics that are costs the scatter plots score against (whichever the trials have):
 * one plot per key, so latencies measured on several targets (keys such as latency_wasm and
 * latency_webgl) each get theirs; a latency's spread (`<key>_iqr`) is not a cost.
 */
export const COST_METRICS = ['flops', 'params', 'latency'];

export function costKeys(trials: readonly Trial[]): string[] {
  const keys = new Set<string>();
  for (const t of trials) for (const k of Object.keys(t.metrics)) if (COST_METRICS.some((c) => k.toLowerCase().includes(c)) && !k.endsWith('_iqr')) keys.add(k);
  return [...keys].sort();
}

/**
 * Which way a trial metric (or 'score') is better, for a Pareto front over any two of them: costs
 * (the keys costKeys finds, and their spreads), losses and errors are minimised; the score,
 * accuracies and the rest maximised.
 */
export function metricDirection(key: string): Direction {
  return COST_METRICS.some((c) => key.toLowerCase().includes(c)) || /loss|error|(^|_)err($|_)/i.test(key) ? 'min' : 'max';
}

/** Mean and (population) standard deviation at each index over several series of possibly different lengths (a series contributes while it lasts). */
export function meanStd(series: ReadonlyArray<ReadonlyArray<number | null>>): { mean: Array<number | null>; std: Array<number | null>; n: number[] } {
  const len = Math.max(0, ...series.map((s) => s.length));
  const mean: Array<number | null> = [];
  const std: Array<number | null> = [];
  const n: number[] = [];
  for (let i = 0; i < len; i++) {
    const xs = series.map((s) => s[i]).filter(isNum);
    n.push(xs.length);
    if (xs.length === 0) {
      mean.push(null);
      std.push(null);
      continue;
    }
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    mean.push(m);
    std.push(Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length));
  }
  return { mean, std, n };
}

/**
 * The trials as the server sends them (GET /api/run): a column per field, strings as codes into a
 * table of the distinct values, times as milliseconds after the first; a tenth of the JSON of
 * the trial objects on a large run, and quicker to parse.
 */
export interface PackedTrials {
  n: number;
  id: number[];
  index: number[];
  score: Array<number | null>;
  seconds: Array<number | null>;
  /** Milliseconds after `t0` (null: no time). */
  time: Array<number | null>;
  t0: number;
  estim: Coded;
  status: Coded;
  /** Per arch key: its values as JSON, and each trial's code (-1: the trial has no such key). */
  arch: Record<string, Coded>;
  metrics: Record<string, Array<number | null>>;
}

/** Distinct values and, per trial, the index of its value. */
export interface Coded {
  values: string[];
  codes: number[];
}

/** What GET /api/run answers: the run's view with its trials packed. */
export type WireView = Omit<RunView, 'trials'> & { trials: PackedTrials };

function coder(n: number): { codes: number[]; code(i: number, v: string): void; values: string[] } {
  const at = new Map<string, number>();
  const values: string[] = [];
  const codes = new Array<number>(n).fill(-1);
  return {
    codes,
    values,
    code(i, v) {
      let c = at.get(v);
      if (c === undefined) {
        c = values.length;
        at.set(v, c);
        values.push(v);
      }
      codes[i] = c;
    },
  };
}

export function packTrials(trials: readonly Trial[]): PackedTrials {
  const n = trials.length;
  const times = trials.map((t) => (t.time ? Date.parse(t.time) : NaN));
  const t0 = times.find(Number.isFinite) ?? 0;
  const estim = coder(n);
  const status = coder(n);
  const arch = new Map<string, ReturnType<typeof coder>>();
  const metrics = new Map<string, Array<number | null>>();
  trials.forEach((t, i) => {
    estim.code(i, t.estim);
    status.code(i, t.status);
    for (const [k, v] of Object.entries(t.arch)) {
      let c = arch.get(k);
      if (!c) arch.set(k, (c = coder(n)));
      c.code(i, JSON.stringify(v));
    }
    for (const [k, v] of Object.entries(t.metrics)) {
      let m = metrics.get(k);
      if (!m) metrics.set(k, (m = new Array<number | null>(n).fill(null)));
      m[i] = v;
    }
  });
  const plain = (c: ReturnType<typeof coder>): Coded => ({ values: c.values, codes: c.codes });
  return {
    n,
    id: trials.map((t) => t.id),
    index: trials.map((t) => t.index),
    score: trials.map((t) => t.score),
    seconds: trials.map((t) => t.seconds ?? null),
    time: times.map((x) => (Number.isFinite(x) ? x - t0 : null)),
    t0,
    estim: plain(estim),
    status: plain(status),
    arch: Object.fromEntries([...arch].map(([k, c]) => [k, plain(c)])),
    metrics: Object.fromEntries(metrics),
  };
}

export function unpackTrials(p: PackedTrials): Trial[] {
  const arch = Object.entries(p.arch).map(([k, c]) => ({ k, codes: c.codes, values: c.values.map((v) => JSON.parse(v) as unknown) }));
  const metrics = Object.entries(p.metrics);
  const out = new Array<Trial>(p.n);
  for (let i = 0; i < p.n; i++) {
    const a: Record<string, unknown> = {};
    for (const { k, codes, values } of arch) if (codes[i] >= 0) a[k] = values[codes[i]];
    const m: Record<string, number> = {};
    for (const [k, col] of metrics) if (col[i] !== null) m[k] = col[i] as number;
    const seconds = p.seconds[i];
    const time = p.time[i];
    out[i] = {
      id: p.id[i],
      estim: p.estim.values[p.estim.codes[i]],
      index: p.index[i],
      arch: a,
      metrics: m,
      status: p.status.values[p.status.codes[i]],
      score: p.score[i],
      ...(seconds === null ? {} : { seconds }),
      ...(time === null ? {} : { time: new Date(p.t0 + time).toISOString() }),
    };
  }
  return out;
}

export const packView = (v: RunView): WireView => ({ ...v, trials: packTrials(v.trials) });
export const unpackView = (w: WireView): RunView => ({ ...w, trials: unpackTrials(w.trials) });
