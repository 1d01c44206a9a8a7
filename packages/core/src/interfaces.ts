/**
 * The operators of a NAS method, as interfaces with string tokens of the same name (STYLE:
 * Effect-style tokens; strings so that two copies of core still match).
 *
 *   Ω  SearchOptimizer   proposes / updates architecture params α
 *   ω  StateOptimizer    trains the architecture states v (the weights)
 *   η  StateEstimator    drives the search loop and measures metrics r from v
 *   δ  StateTransformer  rewrites v as α dictates: constructors at build time, param listeners at run time
 */
import type { DependencyContainer } from 'tsyringe';
import type { EventBus } from './events.js';
import type { Logger, ProgressReporter } from './log.js';
import type { Module } from './module.js';
import type { TensorEngine } from './plugin.js';
import type { ArchSpace, Assignment } from './params.js';
import type { Rng } from './rng.js';
import type { tf } from './tf.js';

/**
 * A DI token: a package-qualified string (two copies of core still match) that carries the type
 * it resolves to, so `resolveToken(container, Tokens.Dataset)` is a Dataset without a cast.
 */
export type Token<T> = string & { readonly __resolves?: T };

export function token<T>(name: string): Token<T> {
  // a string is a Token<T> already (its brand is optional); the return type attaches T
  return name;
}

/**
 * What the runtime binds in each experiment's child container, once, as it builds the
 * components; the contexts components get (BuildContext, EstimContext) are resolved from it, and
 * a component may resolve any of these itself from `ctx.container`. A caller replaces a service
 * by registering it in the container the experiment's is a child of (runExperiment's `container`).
 */
export const Tokens = {
  /** Ω: present when the config names an optimizer. */
  SearchOptimizer: token<SearchOptimizer>('@modnas/core:SearchOptimizer'),
  /** ω: present when the experiment has a model. */
  StateOptimizer: token<StateOptimizer>('@modnas/core:StateOptimizer'),
  ArchSpace: token<ArchSpace>('@modnas/core:ArchSpace'),
  Model: token<Module>('@modnas/core:Model'),
  Dataset: token<Dataset>('@modnas/core:Dataset'),
  /** The splits estimators train and measure on (EstimContext.data). */
  Data: token<EstimContext['data']>('@modnas/core:Data'),
  /** The metrics the config names, in order (EstimContext.metrics). */
  Metrics: token<MetricsFn[]>('@modnas/core:Metrics'),
  /** Where components record results (EstimContext.store): the run's records in the experiment store. */
  Store: token<ResultStore>('@modnas/core:Store'),
  /** The run's checkpoints as estimators see them. */
  Checkpoints: token<EstimCheckpoints>('@modnas/core:Checkpoints'),
  EventBus: token<EventBus>('@modnas/core:EventBus'),
  Logger: token<Logger>('@modnas/core:Logger'),
  Progress: token<ProgressReporter>('@modnas/core:Progress'),
  /** The run's root random stream (seeded from the config); estimators get a fork of it. */
  Rng: token<Rng>('@modnas/core:Rng'),
  /** The validated experiment config (read-only). */
  Config: token<Readonly<Record<string, unknown>>>('@modnas/core:Config'),
  /** The architecture description the fixed network is built from (final training). */
  ArchDesc: token<unknown>('@modnas/core:ArchDesc'),
  /**
   * The experiment's folder, bound when the run writes one: a component that writes a file the
   * config names resolves it against this folder and never leaves it (kit-io's fileInside).
   */
  OutputDir: token<string>('@modnas/core:OutputDir'),
  /** Runs a trial experiment inside this one's folder (hyperparameter tuning): bound by the runtime. */
  TrialRunner: token<TrialRunner>('@modnas/core:TrialRunner'),
} as const;

/** A trial experiment: a config with dotted-key overrides (HPTuneEstim's hyperparameters). */
export interface TrialSpec {
  /** The trial's name; it runs in `<experiment folder>/trials/<name>`. */
  name: string;
  /** A config object, or a config file inside the experiment's config folder (else MODNAS_E_TRIAL_CONFIG). */
  config: string | Readonly<Record<string, unknown>>;
  /** Values by dotted config key (`trainer.lr`), applied over the config. */
  overrides?: Readonly<Record<string, unknown>>;
}

/** What a trial experiment ended with. */
export interface TrialSummary {
  /** Its folder (under the experiment's). */
  outputDir: string;
  /** The best score of its last estimator, else that estimator's `acc` metric; NaN when it has neither. */
  bestScore: number;
  /** Its last estimator's metrics. */
  metrics: Record<string, number>;
}

/** Runs trial experiments with the running experiment's engine and registry (Tokens.TrialRunner). */
export interface TrialRunner {
  run(spec: TrialSpec): Promise<TrialSummary>;
}

/** The instance bound to a token in this container (or a parent), or undefined when none is. */
export function resolveToken<T>(container: DependencyContainer, t: Token<T>): T | undefined {
  return container.isRegistered(t, true) ? container.resolve<T>(t) : undefined;
}

// ---------------------------------------------------------------- data

/** A batch: images NHWC float32 and int32 class labels. */
export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

export interface BatchOptions {
  shuffle?: boolean;
  rng?: Rng;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /**
   * Batches that train weights: the split applies its dataset's augmentation (random crop, flip,
   * cutout), drawn from `rng`. Evaluation and batch-norm recalibration never set it.
   */
  augment?: boolean;
}

/** A split of a dataset. Batches are created on demand; the consumer disposes them. */
export interface DataSplit {
  readonly size: number;
  batches(batchSize: number, opts?: BatchOptions): Iterable<Batch>;
  /** A sub-split of the given example indices. */
  subset(indices: readonly number[]): DataSplit;
}

/**
 * How an image file becomes one input of the network. A dataset of images says it, and an exported
 * model carries it, so whoever feeds the model prepares images exactly as training did.
 */
export interface ImagePreprocess {
  /** The network's input size. */
  height: number;
  width: number;
  /** 1: grey (luminance), 3: RGB (alpha dropped). */
  channels: 1 | 3;
  /**
   * How an image of another size reaches height x width: 'fill' resizes it (bilinear, aspect ratio
   * not kept); 'pad' resizes it to `inner` and centres that on a black canvas (MNIST in a 32x32
   * input), or without `inner` fits it inside keeping its aspect ratio and centres it (letterbox).
   */
  resize: 'fill' | 'pad';
  /** With resize 'pad': [height, width] of the image inside the canvas. */
  inner?: [number, number];
  /** Per channel, on pixels scaled to [0, 1]: x = (p / 255 - mean) / std. */
  mean: number[];
  std: number[];
}

export interface Dataset {
  readonly name: string;
  /** [height, width, channels] of one example. */
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  readonly train: DataSplit;
  readonly test?: DataSplit;
  /** A validation split of its own (an image folder's val/); absent: the runner splits train by data_provider.train_portion. */
  readonly valid?: DataSplit;
  /** Files that could not be read and were left out, as the run finds them (reported in the log and the summary). */
  readonly skipped?: readonly string[];
  /** Class names by label (absent: the labels' numbers). Exported models carry them. */
  readonly classes?: readonly string[];
  /** How images become inputs (absent: the data is not images, e.g. synthetic tensors). */
  readonly preprocess?: ImagePreprocess;
}

// ---------------------------------------------------------------- ω

export interface StepResult {
  loss: number;
  /** Correctly classified examples in the batch. */
  correct: number;
  count: number;
}

/** An extra loss term added to the task loss (e.g. ProxylessNAS' latency term). Returns a scalar. */
export type LossTerm = (ctx: { model: Module; logits: tf.Tensor; batch: Batch }) => tf.Scalar;

/** ω: trains the weights of a network. */
export interface StateOptimizer {
  readonly batchSize: number;
  /** Set the learning rate for this point of the schedule. */
  setEpoch(epoch: number, totalEpochs: number): void;
  currentLr(): number;
  /**
   * Forward, backward and update of the model's weights on one batch. The update is queued on the
   * backend before it returns; the loss and accuracy may come back later (a GPU backend reads them
   * asynchronously: a synchronous read stalls it, and in a browser has no reliable way). Callers
   * await the result before the next step.
   */
  trainStep(model: Module, batch: Batch): StepResult | Promise<StepResult>;
  /** Forward only (model in its current mode); answered as trainStep is. */
  evalStep(model: Module, batch: Batch): StepResult | Promise<StepResult>;
  /** The task loss of a batch (no update), for use inside tf.variableGrads by search optimizers. */
  loss(model: Module, batch: Batch): tf.Scalar;
  /** Forget optimizer slots (momentum), e.g. after weights were swapped. */
  reset(): void;
  state(): unknown;
  restore(state: unknown): void;
  dispose(): void;
}

// ---------------------------------------------------------------- Ω

/** An evaluated candidate. Higher score is better. */
export interface TrialResult {
  arch: Assignment;
  /** Higher is better; NaN for a trial that diverged (it has no score). */
  score: number;
  metrics: Record<string, number>;
  /**
   * 'diverged': its loss became NaN or infinite; 'failed': its evaluation threw on a remote worker
   * (`error` says why). Neither is ever the best. Absent: completed.
   */
  status?: 'diverged' | 'failed';
  /** The error of a failed trial (the worker's message, with its code). */
  error?: string;
  /** Wall-clock seconds the evaluation took (stored with the trial). */
  seconds?: number;
}

/** What a gradient search optimizer may use: batches, the loss, the model. */
export interface GradientAccess {
  readonly model: Module;
  readonly space: ArchSpace;
  readonly trainer: StateOptimizer;
  trainBatch(): Batch;
  validBatch(): Batch;
  /** The loss of the model on a batch, to be called inside a tf gradient function. */
  loss(batch: Batch): tf.Scalar;
}

export interface SearchFeedback {
  /** Candidates evaluated since the previous step (discrete optimizers). */
  results: TrialResult[];
  /** Present when the estimator trains a supernet (gradient optimizers). */
  grad?: GradientAccess;
}

/** Ω: proposes candidates and learns from their results or gradients. */
export interface SearchOptimizer {
  /** False once a finite search (grid) has proposed everything. */
  hasNext(): boolean;
  /** Up to n candidates to evaluate next. Gradient optimizers return the current best. */
  next(n: number): Assignment[];
  step(feedback: SearchFeedback): void | Promise<void>;
  state(): unknown;
  restore(state: unknown): void;
  /** False for a result that breaks the optimizer's hard constraints (e.g. latency_max_ms); the estimator never reports it as the best while a feasible result exists. */
  isFeasible?(result: TrialResult): boolean;
  /** Release what the optimizer holds (e.g. a browser it measures latency in); the runner calls it at the end. */
  close?(): void | Promise<void>;
}

// ---------------------------------------------------------------- η

export interface EstimResult {
  /** The best candidate found, if the estimator searched. */
  best?: TrialResult;
  /** Final metrics of this estimator (e.g. last epoch's accuracy). */
  metrics: Record<string, number>;
}

/** Everything an estimator works with; built by the runner from the experiment's container. */
export interface EstimContext {
  /** The estimator's name in the config (e.g. "search"). */
  readonly name: string;
  readonly model: Module;
  readonly space: ArchSpace;
  readonly trainer: StateOptimizer;
  /** Present when the config names an optimizer. */
  readonly optim?: SearchOptimizer;
  readonly data: { train: DataSplit; valid: DataSplit; test?: DataSplit };
  readonly metrics: MetricsFn[];
  readonly events: EventBus;
  readonly logger: Logger;
  readonly progress: ProgressReporter;
  readonly rng: Rng;
  readonly store: ResultStore;
  readonly container: DependencyContainer;
  /** Aborts a long run cleanly (Ctrl-C): estimators check it between steps. */
  readonly signal?: AbortSignal;
}

/** The run's checkpoints as an estimator sees them (Tokens.Checkpoints; kit-estim's estimCheckpoints(ctx)). */
export interface EstimCheckpoints {
  /** The position this estimator saved in the checkpoint being resumed (once; undefined when it starts afresh). */
  resumed<T = unknown>(): T | undefined;
  /**
   * An epoch or candidate boundary: save a checkpoint if the policy says so. `position` must be
   * JSON and hold everything the estimator needs to continue from here. `count`: candidates
   * evaluated since the previous call (kind 'candidate'). Await it before going on: the runner's
   * reads the tensors it saves without blocking the backend first (a GPU's reads are asynchronous).
   */
  save(kind: 'epoch' | 'candidate', position: unknown, count?: number): void | Promise<void>;
}

/** η: drives a search or training loop and measures metrics. */
export interface StateEstimator {
  run(ctx: EstimContext): Promise<EstimResult>;
}

// ---------------------------------------------------------------- δ

/** δ at build time: rewrites a network (fills Slots, converts modules), adding arch params. */
export interface StateTransformer {
  apply(model: Module, ctx: BuildContext): Module | Promise<Module>;
}

// ---------------------------------------------------------------- smaller kinds

/** What a Slot asks of the op that fills it. */
export interface SlotSpec {
  chnIn: number;
  chnOut: number;
  stride: number;
  args?: Readonly<Record<string, unknown>>;
}

/** Writes an architecture description of the (searched) network. */
export interface Exporter {
  export(model: Module, space: ArchSpace): unknown;
}

/** Measures metrics of a network (parameter count, FLOPs, latency ...). */
/** Metrics of a network; `close` (optional) releases what the metric holds (a browser, a session) when the run ends. */
export type MetricsFn = ((model: Module, ctx: { inputShape: [number, number, number] }) => Record<string, number> | Promise<Record<string, number>>) & { close?: () => void | Promise<void> };

/**
 * A loss (the original's criterion) an estimator trains with beside the trainer's task loss, e.g.
 * knowledge distillation from a teacher. `start` is called when the estimator starts training.
 */
export interface Loss {
  start(ctx: EstimContext, host?: LossHost): LossSession;
}

/** What the estimator that trains with a loss offers it. */
export interface LossHost {
  /** Sets the network to its largest (a supernet's full size); returns what puts it back. */
  fullNetwork?(): () => void;
}

/** A loss while one estimator trains with it. */
export interface LossSession {
  /** Added to the task loss, inside the gradient. */
  term: LossTerm;
  /** The task loss is multiplied by this while the session lasts (default 1). */
  taskWeight?: number;
  /** The passes the term joins (default 'train': the weight steps). */
  mode?: 'all' | 'train' | 'eval' | 'arch';
  /** Runs on each training batch before its step, outside the gradient (a teacher's outputs). */
  prepare?(batch: Batch): void;
  /** Frees what the session holds. */
  end(): void;
}

export interface Callback {
  attach(events: EventBus, ctx: { logger: Logger; outputDir: string }): void;
}

/** Where trials and results are kept; appends survive a crash. */
export interface ResultStore {
  append(stream: string, record: Record<string, unknown>): void;
  read(stream: string): Array<Record<string, unknown>>;
}

// ---------------------------------------------------------------- building

/** A component reference in a config: `{ type: Id, args: {...} }` or `{ type: Id, key: value }`. */
export interface ComponentSpec {
  type: string;
  [key: string]: unknown;
}

export interface BuildContext {
  readonly container: DependencyContainer;
  readonly space: ArchSpace;
  readonly rng: Rng;
  readonly logger: Logger;
  /** Dotted config path of what is being built, for error messages. */
  readonly where: string;
  /** Build another component by id (e.g. a constructor building mixed ops and primitives). */
  build<K extends ComponentKind>(kind: K, spec: ComponentSpec | string, input?: KindInput[K], where?: string): Promise<KindOutput[K]>;
}

/** Component kinds that core defines, with what `create` returns for each. */
export interface KindOutput {
  optim: SearchOptimizer;
  estim: StateEstimator;
  construct: StateTransformer;
  'mixed-op': Module;
  primitive: Module;
  backbone: Module;
  exporter: Exporter;
  trainer: StateOptimizer;
  dataset: Dataset;
  metrics: MetricsFn;
  callback: Callback;
  loss: Loss;
  space: SpaceDef;
  /** A tensor engine's create() returns the engine itself: backends are set up by the runtime's backend choice, not per experiment. */
  engine: TensorEngine;
  // 'store' and 'executor': typed by @modnas/services (their contracts live there)
}

/** A search space defined by arch params alone, with no network (e.g. a tabular benchmark). */
export interface SpaceDef {
  /** Human-readable summary, logged at start. */
  describe(): string;
}

/** Run-time input handed to `create` beside the validated config. */
export interface KindInput {
  optim: undefined;
  estim: undefined;
  construct: undefined;
  'mixed-op': SlotSpec;
  primitive: SlotSpec;
  backbone: { numClasses?: number; inputShape?: [number, number, number] } | undefined;
  exporter: undefined;
  trainer: undefined;
  dataset: undefined;
  metrics: undefined;
  callback: undefined;
  loss: undefined;
  space: undefined;
  engine: undefined;
}

export type ComponentKind = keyof KindOutput;
/** Every kind a plugin may declare, the service kinds ('store', 'executor') and tensor engines ('engine') included. */
export const COMPONENT_KINDS: readonly string[] = [
  'optim', 'estim', 'construct', 'mixed-op', 'primitive', 'backbone', 'exporter', 'trainer', 'dataset', 'metrics', 'callback', 'loss', 'store', 'space', 'executor', 'engine',
];
