/**
 * Checkpoints and resume (PyTorch Lightning's ckpt_path="last"): at epoch boundaries and every N
 * candidates an estimator awaits `estimCheckpoints(ctx).save(kind, position)` (kit-estim); the runner's
 * Checkpointer then writes, in one store transaction, the weights, the trainer's slots, the arch
 * params, the search optimizer's state(), every RNG and the estimator's position. On resume the
 * runner builds the experiment as before (same seeds), loads the newest checkpoint over it, drops
 * the records written after it, and hands the estimator its position back. The payload's format and
 * bytes, and the weight codec, are the store's (@modnas/services).
 */
import type { ArchSpace, EstimCheckpoints, EstimContext, Module, Rng, SearchOptimizer, StateOptimizer } from '@modnas/core';
import { ModnasError, getTensorSeedState, readVariables, setTensorSeedState } from '@modnas/core';
import type { CheckpointPayload, ExperimentStore } from '@modnas/services';
import { CHECKPOINT_FORMAT, encodeCheckpoint, encodeWeights, loadWeights } from '@modnas/services';

/** When estimators checkpoint (config key `checkpoint`). */
export interface CheckpointPolicy {
  /** Every this many epochs (0: never inside an estimator). */
  epochs: number;
  /** Every this many evaluated candidates (0: never inside an estimator). */
  candidates: number;
  /** Checkpoints kept per run. */
  keep: number;
  /** False: never write (runs kept in memory, e.g. benchmarks' repeated runs). */
  enabled?: boolean;
}

/** The runner's side: owns the policy, collects every state, writes and restores. */
export class Checkpointer implements EstimCheckpoints {
  private estimIndex = 0;
  private estimName = '';
  private estimRng: Rng | undefined;
  private pending: unknown;
  private sinceEpochs = 0;
  private sinceCandidates = 0;
  summary: Record<string, unknown> = {};
  /** The generators forked from the run's while building (taken when the Checkpointer is made, after the build). */
  private readonly buildRngs: Rng[];

  constructor(
    private readonly store: ExperimentStore,
    private readonly runId: string,
    private readonly policy: CheckpointPolicy,
    private readonly parts: { model: Module; space: ArchSpace; rng: Rng; trainer?: StateOptimizer; optim?: SearchOptimizer; signal?: AbortSignal },
  ) {
    this.buildRngs = parts.rng.family().slice(1);
  }

  /** The runner starts an estimator (position: what a resumed checkpoint saved for it). */
  beginEstim(index: number, name: string, ctx: EstimContext, position?: unknown, sinceCandidates = 0): void {
    this.estimIndex = index;
    this.estimName = name;
    this.estimRng = ctx.rng;
    this.pending = position;
    this.sinceEpochs = 0;
    this.sinceCandidates = sinceCandidates;
  }

  resumed<T = unknown>(): T | undefined {
    const p = this.pending as T | undefined;
    this.pending = undefined;
    return p;
  }

  async save(kind: 'epoch' | 'candidate', position: unknown, count = 1): Promise<void> {
    // After Ctrl-C/SIGTERM the step that was cut short is not a boundary: keep the last real checkpoint.
    if (this.parts.signal?.aborted) return;
    if (kind === 'epoch') {
      if (this.policy.epochs <= 0 || ++this.sinceEpochs < this.policy.epochs) return;
      this.sinceEpochs = 0;
    } else {
      this.sinceCandidates += count;
      if (this.policy.candidates <= 0 || this.sinceCandidates < this.policy.candidates) return;
      this.sinceCandidates = 0;
    }
    await this.write(kind, position);
  }

  /** An estimator finished (its summary is in this.summary): the next one starts afresh on resume. */
  async estimDone(index: number, name: string): Promise<void> {
    this.estimIndex = index + 1;
    this.estimName = name;
    await this.write('estim', undefined);
  }

  private async write(kind: string, position: unknown): Promise<void> {
    if (this.policy.enabled === false) return;
    const { model, space, rng, trainer, optim } = this.parts;
    // What is encoded below is read synchronously (the weights, the arch params, the trainer's and
    // optimizer's buffers, all variables): read them first without blocking the backend.
    await readVariables();
    const tensors: Record<string, number[]> = {};
    for (const t of space.tensors()) tensors[t.name] = t.toArray();
    const payload: CheckpointPayload = {
      format: CHECKPOINT_FORMAT,
      estimIndex: this.estimIndex,
      estim: this.estimName,
      kind,
      position,
      summary: this.summary,
      weights: encodeWeights(model),
      trainer: trainer?.state(),
      optim: optim?.state(),
      space: { assignment: space.assignment(), tensors },
      rng: { root: rng.getState(), estim: this.estimRng?.getState() ?? 0, tensor: getTensorSeedState(), build: this.buildRngs.map((r) => r.getState()) },
      sinceCandidates: this.sinceCandidates,
    };
    this.store.saveCheckpoint({ run: this.runId, estim: this.estimName, kind, time: new Date().toISOString(), watermark: this.store.lastRecordId(), ...encodeCheckpoint(payload) });
    this.store.pruneCheckpoints(this.runId, this.policy.keep);
  }

  /** Load a checkpoint over the freshly built experiment. */
  restore(p: CheckpointPayload): void {
    const { model, space, rng, trainer, optim } = this.parts;
    loadWeights(model, p.weights, { strict: false });
    if (Object.keys(p.space.assignment).length > 0) space.apply(p.space.assignment);
    for (const t of space.tensors()) {
      const v = p.space.tensors[t.name];
      if (v) t.assign(v);
    }
    if (trainer && p.trainer !== undefined) trainer.restore(p.trainer);
    if (optim && p.optim !== undefined) optim.restore(p.optim);
    rng.setState(p.rng.root);
    setTensorSeedState(p.rng.tensor);
    if (p.rng.build && p.rng.build.length === this.buildRngs.length) p.rng.build.forEach((s, i) => this.buildRngs[i].setState(s));
    else if (p.rng.build) {
      throw new ModnasError('MODNAS_E_RESUME_RNG', `the checkpoint has ${p.rng.build.length} build-time random generators, this build made ${this.buildRngs.length}: the experiment is built differently than when the run started`, {
        fix: 'resume with the same config and plugin versions, or start a new run (without --resume)',
      });
    }
    this.summary = p.summary;
  }
}
