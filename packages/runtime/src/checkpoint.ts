/**
 * Checkpoints and resume (PyTorch Lightning's ckpt_path="last"): at epoch boundaries and every N
 * candidates an estimator calls `estimCheckpoints(ctx).save(kind, position)` (kit-estim); the runner's
 * Checkpointer then writes, in one store transaction, the weights, the trainer's slots, the arch
 * params, the search optimizer's state(), every RNG and the estimator's position. On resume the
 * runner builds the experiment as before (same seeds), loads the newest checkpoint over it, drops
 * the records written after it, and hands the estimator its position back.
 */
import type { ArchSpace, Assignment, EstimCheckpoints, EstimContext, Module, Rng, SearchOptimizer, StateOptimizer } from '@modnas/core';
import { ModnasError, getTensorSeedState, setTensorSeedState, tf } from '@modnas/core';
import { checkpointDigest, checkpointFault, jsonSafe } from '@modnas/kit-io';
import type { CheckpointRecord, ExperimentStore } from '@modnas/services';

export const CHECKPOINT_FORMAT = 1;

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

interface EncodedTensor {
  dtype: string;
  shape: number[];
  /** base64 of the little-endian values. */
  b64: string;
}

export function encodeTensor(t: tf.Tensor): EncodedTensor {
  const data = t.dataSync<'float32' | 'int32' | 'bool'>();
  return { dtype: t.dtype, shape: [...t.shape], b64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}

export function decodeTensor(e: EncodedTensor): tf.Tensor {
  const buf = Buffer.from(e.b64, 'base64');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const values = e.dtype === 'int32' ? new Int32Array(ab) : e.dtype === 'bool' ? new Uint8Array(ab) : new Float32Array(ab);
  return tf.tensor(values, e.shape, e.dtype as tf.DataType);
}

/** What a checkpoint holds (JSON). */
export interface CheckpointPayload {
  format: number;
  /** Index of the estimator in config order and its name. */
  estimIndex: number;
  estim: string;
  kind: string;
  /** The estimator's own position (undefined for kind 'estim': the estimator is done). */
  position?: unknown;
  /** Summaries of the estimators finished before (RunSummary.estims). */
  summary: Record<string, unknown>;
  weights: Record<string, EncodedTensor>;
  trainer?: unknown;
  optim?: unknown;
  space: { assignment: Assignment; tensors: Record<string, number[]> };
  /** root: the run's; estim: the running estimator's; tensor: the weight initialiser's; build: every generator forked while building (mixed ops' samplers, optimizers'), by position. */
  rng: { root: number; estim: number; tensor: number; build?: number[] };
  /** Candidates since the last candidate checkpoint (the N-candidates policy carries over). */
  sinceCandidates: number;
}

export function decodeCheckpoint(rec: CheckpointRecord, where = 'the experiment store'): CheckpointPayload {
  // The store hands back only checkpoints that verify (the contract); this catches one that does not follow it.
  const fault = checkpointFault(rec);
  if (fault !== undefined) {
    throw new ModnasError('MODNAS_E_STORE_CHECKPOINT', `checkpoint ${rec.seq} of run ${rec.run} from ${where} does not match the size and SHA-256 recorded when it was written (${fault}), and the store returned it anyway`, {
      fix: 'the store must pass over a checkpoint that does not verify (ExperimentStore.latestCheckpoint in @modnas/services; describeStoreContract in @modnas/testkit checks it); until it does, start a new run (without --resume)',
      where,
    });
  }
  let raw: CheckpointPayload;
  try {
    raw = JSON.parse(Buffer.from(rec.data).toString('utf8')) as CheckpointPayload;
  } catch (e) {
    throw new ModnasError('MODNAS_E_RESUME_CHECKPOINT', `checkpoint ${rec.seq} of run ${rec.run} in ${where} cannot be read: ${(e as Error).message} (${rec.data.length.toLocaleString('en-US')} bytes${rec.sha256 ? '' : '; it records no checksum: written before @modnas recorded them'})`, {
      fix: 'start a new run (without --resume); the records of this one stay in the store',
      where,
      cause: e,
    });
  }
  // jsonSafe wrote NaN/Infinity (scores, losses) as strings: numbers again, except in the encoded weights.
  const p = { ...(reviveNonFinite({ ...raw, weights: undefined }) as CheckpointPayload), weights: raw.weights };
  if (p.format !== CHECKPOINT_FORMAT) {
    throw new ModnasError('MODNAS_E_RESUME_FORMAT', `checkpoint ${rec.seq} of run ${rec.run} has format ${p.format}; this modnas reads format ${CHECKPOINT_FORMAT}`, {
      fix: 'resume with the modnas version that wrote it, or start a new run (without --resume)',
    });
  }
  return p;
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

  save(kind: 'epoch' | 'candidate', position: unknown, count = 1): void {
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
    this.write(kind, position);
  }

  /** An estimator finished (its summary is in this.summary): the next one starts afresh on resume. */
  estimDone(index: number, name: string): void {
    this.estimIndex = index + 1;
    this.estimName = name;
    this.write('estim', undefined);
  }

  private write(kind: string, position: unknown): void {
    if (this.policy.enabled === false) return;
    const { model, space, rng, trainer, optim } = this.parts;
    const weights: Record<string, EncodedTensor> = {};
    for (const [k, v] of model.stateDict()) weights[k] = encodeTensor(v);
    const tensors: Record<string, number[]> = {};
    for (const t of space.tensors()) tensors[t.name] = t.toArray();
    const payload: CheckpointPayload = {
      format: CHECKPOINT_FORMAT,
      estimIndex: this.estimIndex,
      estim: this.estimName,
      kind,
      position,
      summary: this.summary,
      weights,
      trainer: trainer?.state(),
      optim: optim?.state(),
      space: { assignment: space.assignment(), tensors },
      rng: { root: rng.getState(), estim: this.estimRng?.getState() ?? 0, tensor: getTensorSeedState(), build: this.buildRngs.map((r) => r.getState()) },
      sinceCandidates: this.sinceCandidates,
    };
    const data = Buffer.from(JSON.stringify(payload, jsonSafe), 'utf8');
    // size and SHA-256 taken here, before the store writes it: a payload the disk cut short does not verify on resume
    this.store.saveCheckpoint({ run: this.runId, estim: this.estimName, kind, time: new Date().toISOString(), watermark: this.store.lastRecordId(), ...checkpointDigest(data), data });
    this.store.pruneCheckpoints(this.runId, this.policy.keep);
  }

  /** Load a checkpoint over the freshly built experiment. */
  restore(p: CheckpointPayload): void {
    const { model, space, rng, trainer, optim } = this.parts;
    const tensors = new Map<string, tf.Tensor>();
    for (const [k, e] of Object.entries(p.weights)) tensors.set(k, decodeTensor(e));
    try {
      model.loadStateDict(tensors, { strict: false });
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
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

/** jsonSafe wrote NaN/Infinity as strings; numbers-as-strings come back as numbers. */
function reviveNonFinite(v: unknown): unknown {
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (Array.isArray(v)) return v.map(reviveNonFinite);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reviveNonFinite(x)]));
  return v;
}
export { reviveNonFinite };
