/**
 * Shared estimator plumbing: one epoch of weight training with progress, events and a clean stop;
 * validation; batch-norm recalibration; metrics; reporting of epochs and candidates; the
 * GradientAccess a supernet hands to gradient optimizers. Estimator plugins (default, supernet,
 * subnet, progressive shrinking, ...) compose these functions instead of copying loops.
 */
import type { DependencyContainer } from 'tsyringe';
import { BatchCycler } from './data.js';
import type { Batch, DataSplit, EstimContext, GradientAccess, LossTerm, StateOptimizer, TrialResult, Module, Assignment, Rng } from '@modnas/core';
import { Tokens, resolveToken, ModnasError, isModnasError, tf } from '@modnas/core';
import type { ExecutedTrial } from '@modnas/services';
import { formatNum } from './format.js';
import { recordAlpha, recordSlots } from './arch-record.js';
import { prepareBatch } from './losses.js';

// ---------------------------------------------------------------- loss terms

/**
 * Which losses an extra term joins: 'train' = weight steps, 'eval' = validation, 'arch' = the loss
 * that search optimizers differentiate (StateOptimizer.loss; the original's criterion mode
 * 'valid'), 'all' = every one of them.
 */
export type LossTermMode = 'all' | 'train' | 'eval' | 'arch';

export interface LossTermOptions {
  mode?: LossTermMode;
  /** Shown in logs and in the step metrics. */
  name?: string;
  /** The task loss is multiplied by this while the term is added (default 1; knowledge distillation weighs it by 1 - kd_ratio). */
  taskWeight?: number;
}

/** A trainer that accepts extra loss terms (e.g. ProxylessNAS' latency term). */
export interface LossTermHost {
  /** Add a term; returns the function that removes it again. */
  addLossTerm(term: LossTerm, opts?: LossTermOptions): () => void;
}

export function supportsLossTerms(x: unknown): x is LossTermHost {
  return typeof x === 'object' && x !== null && typeof (x as LossTermHost).addLossTerm === 'function';
}

// ---------------------------------------------------------------- small helpers

export function isAborted(ctx: { signal?: AbortSignal }): boolean {
  return ctx.signal?.aborted === true;
}

/** Batches per pass over a split. */
export function stepsPerEpoch(split: DataSplit, batchSize: number, dropLast = false): number {
  if (split.size === 0) return 0;
  return dropLast ? Math.max(Math.floor(split.size / batchSize), 1) : Math.ceil(split.size / batchSize);
}

function disposeBatch(b: Batch): void {
  b.x.dispose();
  b.y.dispose();
}

/** The input shape [h, w, c] of the experiment's data (from the Dataset in the container, else a batch). */
export function inputShapeOf(ctx: { container: DependencyContainer; data: EstimContext['data'] }): [number, number, number] | undefined {
  const dataset = resolveToken(ctx.container, Tokens.Dataset);
  if (dataset) return dataset.inputShape;
  for (const split of [ctx.data.valid, ctx.data.train]) {
    if (split.size === 0) continue;
    for (const b of split.batches(1)) {
      const shape = b.x.shape.slice(1) as [number, number, number];
      disposeBatch(b);
      return shape;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- divergence

export const DIVERGED_CODE = 'MODNAS_E_TRAIN_DIVERGED';

/**
 * A loss above this counts as diverged, as NaN and ±Infinity do: a cross-entropy of a million
 * means logits of that size, the weights have blown up (with gradient clipping they grow by
 * lr·clip per step and stay finite for a while), and float32 overflows to NaN soon after.
 */
export const DIVERGED_LOSS = 1e6;

/** Whether a loss value means the training diverged (NaN, infinite, or above DIVERGED_LOSS). */
export function isDivergedLoss(loss: number): boolean {
  return !Number.isFinite(loss) || loss > DIVERGED_LOSS;
}

/** Where a loss stopped being finite. */
export interface DivergenceInfo {
  estim: string;
  /** 'training' (a weight step) or 'validation'. */
  phase: 'training' | 'validation';
  loss: number;
  /** 1-based epoch and step, when known. */
  epoch?: number;
  epochs?: number;
  step?: number;
  steps?: number;
  lr?: number;
}

/** The error of a trial (or run) whose loss became NaN or infinite, naming the probable causes and the fix. */
export function divergedError(info: DivergenceInfo, what = `estim ${info.estim}`): ModnasError {
  const at =
    info.phase === 'training'
      ? `at step ${info.step ?? '?'}/${info.steps ?? '?'} of ${info.estim} epoch ${info.epoch ?? '?'}/${info.epochs ?? '?'}`
      : `in the validation of ${info.estim}`;
  const lr = info.lr === undefined ? '' : ` (learning rate ${info.lr})`;
  return new ModnasError(DIVERGED_CODE, `${what} diverged: the ${info.phase} loss became ${info.loss}${Number.isFinite(info.loss) ? ` (above ${DIVERGED_LOSS})` : ''} ${at}${lr}. The usual causes are a learning rate too high for the network, or data with NaN/infinite values or without normalisation`, {
    fix: `lower trainer.lr${info.lr === undefined ? '' : ` (now ${info.lr}; try ${Number((info.lr / 10).toPrecision(3))})`}, keep trainer.grad_clip on (e.g. 5), and check that the dataset's inputs are finite and normalised`,
    where: `estim.${info.estim}`,
  });
}

export function isDivergedError(e: unknown): e is ModnasError {
  return isModnasError(e) && e.code === DIVERGED_CODE;
}

/** A trial that diverged: no score, never the best (`isBetterTrial` skips it). */
export function divergedTrial(arch: Assignment, metrics: Record<string, number> = {}): TrialResult {
  return { arch, score: Number.NaN, metrics: { ...metrics, diverged: 1 }, status: 'diverged' };
}

/** A trial whose evaluation threw on a remote worker: no score, never the best, the worker's error kept. */
export function failedTrial(arch: Assignment, error: string): TrialResult {
  return { arch, score: Number.NaN, metrics: { failed: 1 }, status: 'failed', error };
}

/** Whether r should replace best as the best trial so far (diverged, failed and NaN-scored trials never do). */
export function isBetterTrial(r: TrialResult, best: TrialResult | undefined, feasible: (t: TrialResult) => boolean = () => true): boolean {
  if (r.status === 'diverged' || r.status === 'failed' || Number.isNaN(r.score)) return false;
  if (!best) return true;
  // a feasible result beats an infeasible one whatever their scores (the optimizer's hard constraints)
  const f = feasible(r);
  if (f !== feasible(best)) return f;
  return r.score > best.score;
}

// ---------------------------------------------------------------- train and validate

export interface EvalResult {
  /** Mean loss per example. */
  loss: number;
  /** Top-1 accuracy in [0, 1]. */
  acc: number;
  count: number;
}

/** Forward every batch of `split` with the model in eval mode (its mode is restored after). */
export async function evaluate(model: Module, trainer: StateOptimizer, split: DataSplit, opts: { batchSize?: number; maxBatches?: number } = {}): Promise<EvalResult> {
  const wasTraining = model.training;
  model.eval();
  let loss = 0;
  let correct = 0;
  let count = 0;
  let n = 0;
  try {
    for (const b of split.batches(opts.batchSize ?? trainer.batchSize)) {
      try {
        const r = await trainer.evalStep(model, b);
        loss += r.loss * r.count;
        correct += r.correct;
        count += r.count;
      } finally {
        disposeBatch(b);
      }
      if (opts.maxBatches !== undefined && ++n >= opts.maxBatches) break;
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: count ? loss / count : 0, acc: count ? correct / count : 0, count };
}

export interface TrainEpochOptions {
  /** 0-based epoch and the total, for the LR schedule and the reports. */
  epoch: number;
  epochs: number;
  /** The split to train on (default ctx.data.train). */
  split?: DataSplit;
  /** The network (default ctx.model). */
  model?: Module;
  /** Cap on the number of steps (default: one pass over the split). */
  maxSteps?: number;
  /** Set the trainer's LR for this epoch first (default true). */
  setLr?: boolean;
  /** Progress phase label (default "<estim> epoch e/E"). */
  label?: string;
  /** Runs before each weight step: a supernet updates arch params here. */
  beforeStep?(step: number, steps: number): void | Promise<void>;
}

export interface EpochStats {
  /** Mean training loss per example, top-1 accuracy on the training batches, LR of the last step. */
  loss: number;
  acc: number;
  lr: number;
  steps: number;
  count: number;
  seconds: number;
  /** True when ctx.signal stopped the epoch early. */
  aborted: boolean;
}

/**
 * One pass of weight training: shuffled, augmented batches from the split, trainer.trainStep on each, with a
 * progress task (ETA), a 'step:end' event per step and ctx.signal checked between steps.
 */
export async function trainEpoch(ctx: EstimContext, opts: TrainEpochOptions): Promise<EpochStats> {
  const model = opts.model ?? ctx.model;
  const split = opts.split ?? ctx.data.train;
  const trainer = ctx.trainer;
  const bs = trainer.batchSize;
  const steps = Math.min(stepsPerEpoch(split, bs), opts.maxSteps ?? Infinity);
  if (opts.setLr !== false) trainer.setEpoch(opts.epoch, opts.epochs);
  const t0 = Date.now();
  const task = ctx.progress.start(opts.label ?? `${ctx.name} epoch ${opts.epoch + 1}/${opts.epochs}`, steps);
  let loss = 0;
  let correct = 0;
  let count = 0;
  let step = 0;
  let aborted = false;
  let lr = trainer.currentLr();
  const it = split.batches(bs, { shuffle: true, rng: ctx.rng, augment: true })[Symbol.iterator]();
  try {
    while (step < steps) {
      if (isAborted(ctx)) {
        aborted = true;
        break;
      }
      if (opts.beforeStep) {
        await opts.beforeStep(step, steps);
        if (isAborted(ctx)) {
          aborted = true;
          break;
        }
      }
      const r0 = it.next();
      if (r0.done) break;
      const batch = r0.value;
      prepareBatch(ctx, batch);
      lr = trainer.currentLr();
      // the architecture's values on the host, so that sampling a path reads no tensor in the step
      await ctx.space.readTensors();
      let r;
      try {
        model.train();
        r = await trainer.trainStep(model, batch);
      } finally {
        disposeBatch(batch);
      }
      step++;
      if (isDivergedLoss(r.loss)) {
        // Said at the step it happens; the estimator (or the runner) decides what fails.
        const err = divergedError({ estim: ctx.name, phase: 'training', loss: r.loss, epoch: opts.epoch + 1, epochs: opts.epochs, step, steps, lr });
        ctx.logger.error(`${ctx.name} epoch ${opts.epoch + 1}/${opts.epochs}: step ${step}/${steps}: loss ${r.loss} (lr ${lr}): training diverged`);
        throw err;
      }
      loss += r.loss * r.count;
      correct += r.correct;
      count += r.count;
      const status = { loss: count ? loss / count : 0, acc: count ? correct / count : 0, lr };
      task.tick(1, status);
      await ctx.events.emit('step:end', { estim: ctx.name, epoch: opts.epoch, step, steps, metrics: { loss: r.loss, acc: r.count ? r.correct / r.count : 0, lr } });
      await yieldToEventLoop();
    }
  } finally {
    it.return?.();
  }
  const stats: EpochStats = { loss: count ? loss / count : 0, acc: count ? correct / count : 0, lr, steps: step, count, seconds: (Date.now() - t0) / 1000, aborted };
  task.done({ loss: stats.loss, acc: stats.acc });
  return stats;
}

// ---------------------------------------------------------------- batch norm

/** A module with batch-norm running statistics (nn's BatchNorm2d, elastic variants ...). */
interface BatchNormLike {
  momentum: number;
  resetRunningStats(): void;
}

function isBatchNormLike(m: Module): m is Module & BatchNormLike {
  const b = m as unknown as Partial<BatchNormLike>;
  return typeof b.resetRunningStats === 'function' && typeof b.momentum === 'number';
}

export interface RecalibrateOptions {
  /** Number of training batches to forward (the original's num_bn_batch). */
  batches: number;
  batchSize: number;
  rng?: Rng;
  /** Reset the statistics first (the original's clear_subnet_bn, default true). */
  reset?: boolean;
  /**
   * 'cumulative' (default): the statistics become the plain average over the batches (PyTorch's
   * momentum=None), exact after a few batches. 'ema': each layer's own momentum, as the original.
   */
  average?: 'cumulative' | 'ema';
}

/**
 * Recompute the running statistics of every batch-norm layer for the network as it is now (a
 * subnet of a supernet has statistics of its own): forward training batches in train mode without
 * touching the weights. Returns the number of batches used.
 */
export function recalibrateBatchNorm(model: Module, split: DataSplit, opts: RecalibrateOptions): number {
  const bns = [...model.modules()].map(([, m]) => m).filter(isBatchNormLike);
  if (bns.length === 0 || opts.batches <= 0 || split.size === 0) return 0;
  const wasTraining = model.training;
  const momenta = bns.map((m) => m.momentum);
  const cumulative = (opts.average ?? 'cumulative') === 'cumulative';
  // tidy: a layer's reset may allocate the zeros/ones it assigns
  if (opts.reset !== false) tf.tidy(() => bns.forEach((m) => m.resetRunningStats()));
  let used = 0;
  model.train();
  try {
    for (const b of split.batches(opts.batchSize, { shuffle: true, rng: opts.rng })) {
      try {
        if (cumulative) for (const m of bns) m.momentum = 1 / (used + 1);
        tf.tidy(() => {
          model.call(b.x);
        });
      } finally {
        disposeBatch(b);
      }
      if (++used >= opts.batches) break;
    }
  } finally {
    bns.forEach((m, i) => (m.momentum = momenta[i]));
    model.train(wasTraining);
  }
  return used;
}

// ---------------------------------------------------------------- metrics and reports

/** Run every metrics function of the experiment on the model and merge the values. */
export async function measureMetrics(ctx: EstimContext, model: Module = ctx.model): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (ctx.metrics.length === 0) return out;
  const inputShape = inputShapeOf(ctx);
  if (!inputShape) return out;
  for (const fn of ctx.metrics) Object.assign(out, await fn(model, { inputShape }));
  return out;
}

/** Validation on ctx.data.valid (loss, acc) plus every metrics function. */
export async function validateWithMetrics(ctx: EstimContext, opts: { model?: Module; maxBatches?: number } = {}): Promise<Record<string, number>> {
  const model = opts.model ?? ctx.model;
  await ctx.space.readTensors();
  const v = await evaluate(model, ctx.trainer, ctx.data.valid, { maxBatches: opts.maxBatches });
  if (v.count > 0 && isDivergedLoss(v.loss)) {
    ctx.logger.error(`${ctx.name}: validation loss ${v.loss}: the network diverged`);
    throw divergedError({ estim: ctx.name, phase: 'validation', loss: v.loss, lr: ctx.trainer.currentLr() });
  }
  return { loss: v.loss, acc: v.acc, ...(await measureMetrics(ctx, model)) };
}

/**
 * The score of a metrics record, higher is better: `key` names a metric ("acc"), a leading '-'
 * negates it ("-latency" for lower-is-better). A missing metric scores -Infinity.
 */
export function scoreOf(metrics: Record<string, number>, key: string): number {
  const neg = key.startsWith('-');
  const v = metrics[neg ? key.slice(1) : key];
  if (typeof v !== 'number' || Number.isNaN(v)) return -Infinity;
  return neg ? -v : v;
}

/** "k=v k=v" with short numbers, for log lines. */
export function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k}=${formatNum(v)}`)
    .join(' ');
}

/** Append an epoch's metrics to the store (stream 'metrics'; 'slots' and 'alpha' for the dashboard) and emit 'epoch:end' (with the same alpha). */
export async function reportEpoch(ctx: EstimContext, epoch: number, epochs: number, metrics: Record<string, number>): Promise<void> {
  recordSlots(ctx);
  ctx.store.append('metrics', { estim: ctx.name, epoch, epochs, ...metrics, time: new Date().toISOString() });
  const alpha = recordAlpha(ctx, epoch);
  await ctx.events.emit('epoch:end', { estim: ctx.name, epoch, epochs, metrics, ...(alpha ? { alpha } : {}) });
}

/** Append an evaluated candidate to the store (stream 'candidates', before anything else can fail) and emit 'candidate:end'. */
export async function reportCandidate(ctx: EstimContext, result: ExecutedTrial, index: number): Promise<void> {
  const status = result.status ?? 'done';
  const score = status === 'done' ? result.score : null;
  recordSlots(ctx);
  ctx.store.append('candidates', {
    estim: ctx.name,
    index,
    arch: result.arch,
    status,
    score,
    metrics: result.metrics,
    ...(result.seconds === undefined ? {} : { seconds: result.seconds }),
    ...(result.worker === undefined ? {} : { worker: result.worker }),
    ...(result.error === undefined ? {} : { error: result.error }),
    time: new Date().toISOString(),
  });
  await ctx.events.emit('candidate:end', { estim: ctx.name, index, arch: result.arch, score: result.score, metrics: result.metrics });
  await yieldToEventLoop();
}

/**
 * Let timers, signals (Ctrl-C) and I/O run between long synchronous tensor steps; awaiting a
 * resolved promise is not enough, it only runs microtasks. Node's setImmediate; a browser's
 * setTimeout (it has no setImmediate), where the page also gets to paint.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

// ---------------------------------------------------------------- weights

/** A copy of every weight and buffer (for evaluating a candidate and putting the supernet back). */
export function snapshotState(model: Module): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [k, v] of model.stateDict()) out.set(k, tf.clone(v));
  return out;
}

/** Load a snapshot back and free it. */
export function restoreState(model: Module, snapshot: Map<string, tf.Tensor>): void {
  try {
    model.loadStateDict(snapshot, { strict: false });
  } finally {
    for (const t of snapshot.values()) t.dispose();
    snapshot.clear();
  }
}

/** Apply a candidate to the arch space (a no-op for an empty assignment). */
export function applyCandidate(ctx: EstimContext, arch: Assignment): void {
  if (Object.keys(arch).length > 0) ctx.space.apply(arch);
}

// ---------------------------------------------------------------- gradient access

export interface ManagedGradientAccess extends GradientAccess {
  /** Dispose the batches handed out since the last release (the estimator calls it after optim.step). */
  release(): void;
  /** Where the batch streams are, as JSON (checkpoints), and back. */
  state(): unknown;
  restore(state: unknown): void;
}

/**
 * What a supernet estimator hands to a gradient search optimizer. Batches from trainBatch() and
 * validBatch() belong to the estimator: they are disposed by release() after optim.step returns,
 * so optimizers must not keep them. Training batches are augmented (the dataset's augmentation),
 * validation batches are not; with an empty valid split, validBatch() draws from the training stream.
 */
export function createGradientAccess(ctx: EstimContext, opts: { batchSize?: number; rng?: Rng } = {}): ManagedGradientAccess {
  const bs = opts.batchSize ?? ctx.trainer.batchSize;
  const rng = opts.rng ?? ctx.rng;
  const train = new BatchCycler(ctx.data.train, bs, rng.fork(1), { augment: true });
  const valid = ctx.data.valid.size > 0 ? new BatchCycler(ctx.data.valid, bs, rng.fork(2)) : train;
  let out: Batch[] = [];
  const hand = (b: Batch): Batch => {
    out.push(b);
    return b;
  };
  return {
    model: ctx.model,
    space: ctx.space,
    trainer: ctx.trainer,
    trainBatch: () => hand(train.next()),
    validBatch: () => hand(valid.next()),
    loss: (batch: Batch) => ctx.trainer.loss(ctx.model, batch),
    release: () => {
      for (const b of out) disposeBatch(b);
      out = [];
    },
    state: () => ({ train: train.state(), valid: valid === train ? undefined : valid.state() }),
    restore: (s: unknown) => {
      const st = s as { train: { rng: number; used: number }; valid?: { rng: number; used: number } };
      train.restore(st.train);
      if (st.valid && valid !== train) valid.restore(st.valid);
    },
  };
}
