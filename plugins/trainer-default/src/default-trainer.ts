import type { ArchSpace, Batch, LossTerm, Module, StateOptimizer, StepResult } from '@modnas/core';
import type { LossTermHost, LossTermMode, LossTermOptions } from '@modnas/kit-estim';
import { ModnasError, defineComponent, tf, z } from '@modnas/core';
import { crossEntropy } from '@modnas/nn';

/** Weight optimizers: torch.optim's, by their lower-case names. */
export const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta', 'adamax', 'nadam', 'radam', 'asgd', 'rprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
/** LR schedules over the epochs of each estimator: torch.optim.lr_scheduler's, closed form per epoch. */
export const LR_SCHEDULERS = [
  'cosine', 'step', 'multistep', 'exponential', 'cosine_restarts', 'linear', 'constant', 'poly', 'multiplicative', 'onecycle', 'cyclic', 'sequential', 'chained', 'none',
] as const;
export type LrSchedulerName = (typeof LR_SCHEDULERS)[number];
/** Schedules that a `sequential` or `chained` schedule is made of (no nesting). */
export const MEMBER_LR_SCHEDULERS = LR_SCHEDULERS.filter((s): s is Exclude<LrSchedulerName, 'sequential' | 'chained'> => s !== 'sequential' && s !== 'chained');
/**
 * Schedules that scale the LR by a factor per epoch (torch's chainable form is a product), the only
 * ones whose composition by ChainedScheduler is the product of their factors.
 */
const CHAINABLE = new Set<LrSchedulerName>(['step', 'multistep', 'exponential', 'linear', 'constant', 'poly', 'multiplicative', 'none']);
/** Optimizers whose momentum a cycling schedule sets: torch's with `momentum`, and those with `betas` (beta1). */
const WITH_MOMENTUM = new Set<OptimizerName>(['sgd', 'rmsprop']);
const WITH_BETAS = new Set<OptimizerName>(['adam', 'adamw', 'adamax', 'nadam', 'radam']);

/** PyTorch's eps of each optimizer, used when `eps` is 0 (its default). */
const DEFAULT_EPS: Partial<Record<OptimizerName, number>> = { adagrad: 1e-10, adadelta: 1e-6 };

const beta = z.number().min(0).lt(1);
/** The keys of the LR schedules, also the keys of each member of a sequential or chained schedule. */
const scheduleShape = {
  lr_min: z.number().min(0).default(0.001).describe('Cosine and cosine_restarts: lowest LR of the schedule (eta_min)'),
  t_max: z.number().int().min(0).default(0).describe('Cosine: period in epochs (T_max); 0 = the epochs of the running estimator'),
  step_size: z.number().int().positive().default(10).describe('Step: epochs between LR decays'),
  gamma: z.number().positive().default(0.1).describe('Step, multistep, exponential: LR factor per decay; cyclic exp_range: amplitude factor per epoch (PyTorch\'s CyclicLR default is 1)'),
  milestones: z
    .array(z.number().int().min(0))
    .default([])
    .describe('Multistep: epochs at which the LR decays by gamma (one named twice decays twice); sequential: epochs at which the next schedule starts'),
  t_0: z.number().int().min(0).default(0).describe('Cosine with restarts: epochs to the first restart (T_0); 0 = the epochs of the running estimator'),
  t_mult: z.number().int().min(1).default(1).describe('Cosine with restarts: factor of the period after each restart (T_mult)'),
  start_factor: z.number().gt(0).max(1).default(1 / 3).describe('Linear: LR factor at epoch 0'),
  end_factor: z.number().min(0).max(1).default(1).describe('Linear: LR factor from total_iters on'),
  factor: z.number().min(0).max(1).default(1 / 3).describe('Constant: LR factor before total_iters'),
  total_iters: z.number().int().positive().default(5).describe('Linear, constant, poly: epochs the schedule spans'),
  power: z.number().min(0).default(1).describe('Poly: power of the polynomial decay'),
  lr_lambda: z.number().positive().default(1).describe('Multiplicative: the LR factor per epoch (PyTorch\'s lr_lambda as a constant; a Python function cannot be given)'),
  max_lr: z.number().min(0).default(0).describe('Onecycle: the peak LR; cyclic: the upper bound; 0 = lr'),
  base_lr: z.number().min(0).default(0).describe('Cyclic: the lower bound of the LR; 0 = lr'),
  total_steps: z.number().int().min(0).default(0).describe('Onecycle: epochs of the cycle (PyTorch\'s total_steps, stepped once per epoch as the original); 0 = the epochs of the running estimator'),
  pct_start: z.number().gt(0).lt(1).default(0.3).describe('Onecycle: fraction of the cycle spent raising the LR'),
  anneal_strategy: z.enum(['cos', 'linear']).default('cos').describe('Onecycle: cos or linear annealing between the phases'),
  div_factor: z.number().positive().default(25).describe('Onecycle: the first LR is max_lr / div_factor'),
  final_div_factor: z.number().positive().default(1e4).describe('Onecycle: the last LR is the first / final_div_factor'),
  three_phase: z.boolean().default(false).describe('Onecycle: a third phase (down to the first LR, then to the last) as fast.ai\'s'),
  step_size_up: z.number().int().positive().default(2000).describe('Cyclic: epochs of the rising half of a cycle'),
  step_size_down: z.number().int().positive().optional().describe('Cyclic: epochs of the falling half; absent = step_size_up'),
  cyclic_mode: z.enum(['triangular', 'triangular2', 'exp_range']).default('triangular').describe('Cyclic: triangular, triangular2 (amplitude halved each cycle) or exp_range (amplitude times gamma^epoch); PyTorch\'s mode'),
  cycle_momentum: z.boolean().default(true).describe('Onecycle, cyclic: cycle the momentum (SGD, RMSprop) or beta1 (Adam family) inversely to the LR'),
  base_momentum: z.number().min(0).max(1).optional().describe('Onecycle, cyclic: the momentum at the LR\'s peak; absent = PyTorch\'s default (0.85 onecycle, 0.8 cyclic)'),
  max_momentum: z.number().min(0).max(1).optional().describe('Onecycle, cyclic: the momentum at the LR\'s low; absent = PyTorch\'s default (0.95 onecycle, 0.9 cyclic)'),
};
const memberScheduleSchema = z.strictObject({
  lr_scheduler: z.enum(MEMBER_LR_SCHEDULERS as [typeof MEMBER_LR_SCHEDULERS[number], ...typeof MEMBER_LR_SCHEDULERS]).describe('The schedule: any but sequential and chained'),
  ...scheduleShape,
});
export const defaultTrainerSchema = z.strictObject({
  optimizer: z
    .enum(OPTIMIZERS)
    .default('sgd')
    .describe('Weight optimizer, torch.optim\'s update rules: sgd (momentum / nesterov), adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam, radam, asgd, rprop'),
  lr: z.number().positive().default(0.025).describe('Base learning rate (rprop: the initial step size; PyTorch\'s adadelta uses 1.0)'),
  momentum: z.number().min(0).max(1).default(0.9).describe('SGD and RMSprop momentum (0 = none; PyTorch\'s RMSprop default is 0)'),
  nesterov: z.boolean().default(false).describe('Nesterov momentum (SGD)'),
  weight_decay: z.number().min(0).default(3e-4).describe('Weight decay factor, applied to every trainable weight'),
  decoupled_weight_decay: z
    .boolean()
    .default(false)
    .describe('false: L2, wd*w added to the gradient (PyTorch SGD/Adam); true: decoupled, w -= lr*wd*w (SGDW/AdamW; adamw always decouples)'),
  betas: z.tuple([beta, beta]).default([0.9, 0.999]).describe('Adam, AdamW, Adamax, NAdam, RAdam: coefficients of the running averages'),
  eps: z
    .number()
    .min(0)
    .default(0)
    .describe('Denominator term of the adaptive optimizers; 0 = the optimizer\'s PyTorch default (1e-8; adagrad 1e-10, adadelta 1e-6)'),
  amsgrad: z.boolean().default(false).describe('Adam, AdamW: AMSGrad, normalise by the largest second moment seen'),
  alpha: z.number().min(0).lt(1).default(0.99).describe('RMSprop: smoothing constant of the squared-gradient average'),
  centered: z.boolean().default(false).describe('RMSprop: normalise by the estimated variance of the gradient'),
  lr_decay: z.number().min(0).default(0).describe('Adagrad: LR decay per update, lr / (1 + (t-1)*lr_decay)'),
  initial_accumulator_value: z.number().min(0).default(0).describe('Adagrad: initial value of the sum of squared gradients'),
  rho: z.number().min(0).max(1).default(0.9).describe('Adadelta: coefficient of the running averages'),
  momentum_decay: z.number().min(0).default(0.004).describe('NAdam: momentum decay (psi)'),
  lambd: z.number().min(0).default(1e-4).describe('ASGD: decay term'),
  asgd_alpha: z.number().min(0).default(0.75).describe('ASGD: power of the eta update (torch\'s ASGD alpha)'),
  etas: z
    .tuple([z.number().gt(0).lt(1), z.number().gt(1)])
    .default([0.5, 1.2])
    .describe('Rprop: step size factors (etaminus, etaplus) when the gradient changes sign / keeps it'),
  step_sizes: z.tuple([z.number().min(0), z.number().positive()]).default([1e-6, 50]).describe('Rprop: smallest and largest step size'),
  lr_scheduler: z
    .enum(LR_SCHEDULERS)
    .default('cosine')
    .describe('LR schedule over the epochs of each estimator: cosine, step, multistep, exponential, cosine_restarts, linear, constant, poly, multiplicative, onecycle, cyclic, sequential, chained or none'),
  ...scheduleShape,
  schedulers: z
    .array(memberScheduleSchema)
    .default([])
    .describe('Sequential and chained: the schedules run one after another (switching at milestones) or at once (their factors multiplied), each { lr_scheduler, ...its keys }'),
  warmup_steps: z.number().int().min(0).default(0).describe('Linear LR warmup over this many steps after each reset (0 = none)'),
  label_smoothing: z.number().min(0).lt(1).default(0).describe('Label smoothing of the cross-entropy targets'),
  grad_clip: z.number().min(0).default(5).describe('Clip the global norm of the weight gradients to this value (0 = off)'),
  batch_size: z.number().int().positive().default(64).describe('Examples per training and validation batch'),
});
export type DefaultTrainerConfig = z.output<typeof defaultTrainerSchema>;

/** The keys a schedule reads: the trainer's own, or one member of a sequential / chained schedule. */
type ScheduleConfig = Omit<z.output<typeof memberScheduleSchema>, 'lr_scheduler'> & { lr_scheduler: LrSchedulerName; schedulers?: ReadonlyArray<z.output<typeof memberScheduleSchema>> };

/** A schedule's point: the LR, and the momentum (or beta1) where the schedule cycles it. */
interface SchedulePoint {
  lr: number;
  momentum?: number;
}

const ONECYCLE_MOMENTUM = [0.85, 0.95] as const;
const CYCLIC_MOMENTUM = [0.8, 0.9] as const;

/** Refuse what torch's constructors refuse, before a tensor exists. */
function checkSchedule(c: DefaultTrainerConfig): void {
  const where = 'trainer';
  const cycling = [c, ...(c.lr_scheduler === 'sequential' || c.lr_scheduler === 'chained' ? c.schedulers : [])].find(
    (s) => (s.lr_scheduler === 'onecycle' || s.lr_scheduler === 'cyclic') && s.cycle_momentum,
  );
  if (cycling && !WITH_MOMENTUM.has(c.optimizer) && !WITH_BETAS.has(c.optimizer)) {
    throw new ModnasError('MODNAS_E_TRAINER_SCHEDULE', `DefaultTrainer: lr_scheduler ${cycling.lr_scheduler} cycles the momentum, and optimizer ${c.optimizer} has none`, {
      fix: `set cycle_momentum: false, or use an optimizer with momentum or betas (sgd, rmsprop, adam, adamw, adamax, nadam, radam)`,
      where,
    });
  }
  if (cycling?.lr_scheduler === 'cyclic' && !WITH_MOMENTUM.has(c.optimizer)) {
    // torch's CyclicLR cycles `momentum` only (OneCycleLR also beta1)
    throw new ModnasError('MODNAS_E_TRAINER_SCHEDULE', `DefaultTrainer: lr_scheduler cyclic cycles the momentum, and optimizer ${c.optimizer} has betas, not momentum (as torch's CyclicLR)`, {
      fix: 'set cycle_momentum: false, or use sgd or rmsprop',
      where,
    });
  }
  if (c.lr_scheduler === 'sequential') {
    if (c.schedulers.length === 0 || c.milestones.length !== c.schedulers.length - 1) {
      throw new ModnasError('MODNAS_E_TRAINER_SCHEDULE', `DefaultTrainer: lr_scheduler sequential has ${c.schedulers.length} schedulers and ${c.milestones.length} milestones`, {
        fix: 'give one milestone fewer than schedulers: milestones[i] is the epoch at which schedulers[i + 1] starts',
        where: `${where}.milestones`,
      });
    }
    if (c.milestones.some((m, i) => i > 0 && m < c.milestones[i - 1])) {
      throw new ModnasError('MODNAS_E_TRAINER_SCHEDULE', `DefaultTrainer: sequential milestones ${JSON.stringify(c.milestones)} are not in order`, { fix: 'sort the milestones', where: `${where}.milestones` });
    }
  }
  if (c.lr_scheduler === 'chained') {
    if (c.schedulers.length === 0) {
      throw new ModnasError('MODNAS_E_TRAINER_SCHEDULE', 'DefaultTrainer: lr_scheduler chained has no schedulers', { fix: 'list the schedules to chain in schedulers', where: `${where}.schedulers` });
    }
    c.schedulers.forEach((s, i) => {
      if (!CHAINABLE.has(s.lr_scheduler)) {
        throw new ModnasError('MODNAS_E_TRAINER_SCHEDULE', `DefaultTrainer: schedulers[${i}] ${s.lr_scheduler} cannot be chained: its step is not a factor of the LR`, {
          fix: `chain only ${[...CHAINABLE].join(', ')}; run ${s.lr_scheduler} in a sequential schedule instead`,
          where: `${where}.schedulers.${i}.lr_scheduler`,
        });
      }
    });
  }
}

/** cos or linear annealing from a to b at fraction pct (torch's OneCycleLR). */
const anneal = (strategy: 'cos' | 'linear', a: number, b: number, pct: number): number =>
  strategy === 'cos' ? b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1) : (b - a) * pct + a;

/**
 * The schedule `c` at an epoch from base LR `lr`: the closed form of torch.optim.lr_scheduler's
 * schedule after `epoch` calls of step() (the original steps once per epoch).
 */
function scheduleAt(c: ScheduleConfig, lr: number, epoch: number, totalEpochs: number): SchedulePoint {
  const cosine = (t: number, T: number): number => c.lr_min + ((lr - c.lr_min) * (1 + Math.cos((Math.PI * t) / T))) / 2;
  switch (c.lr_scheduler) {
    case 'cosine': {
      const T = c.t_max > 0 ? c.t_max : totalEpochs;
      return { lr: cosine(Math.min(epoch, T), T) };
    }
    case 'step':
      return { lr: lr * c.gamma ** Math.floor(epoch / c.step_size) };
    case 'multistep':
      return { lr: lr * c.gamma ** c.milestones.filter((m) => m <= epoch).length };
    case 'exponential':
      return { lr: lr * c.gamma ** epoch };
    case 'cosine_restarts': {
      // CosineAnnealingWarmRestarts: period T_i = t_0 * t_mult^i, restarting at its end
      let T = c.t_0 > 0 ? c.t_0 : totalEpochs;
      let t = epoch;
      if (c.t_mult === 1) t %= T;
      else {
        const n = Math.floor(Math.log((t / T) * (c.t_mult - 1) + 1) / Math.log(c.t_mult));
        t -= (T * (c.t_mult ** n - 1)) / (c.t_mult - 1);
        T *= c.t_mult ** n;
      }
      return { lr: cosine(t, T) };
    }
    case 'linear':
      return { lr: lr * (c.start_factor + ((c.end_factor - c.start_factor) * Math.min(epoch, c.total_iters)) / c.total_iters) };
    case 'constant':
      return { lr: epoch < c.total_iters ? lr * c.factor : lr };
    case 'poly':
      return { lr: lr * (1 - Math.min(epoch, c.total_iters) / c.total_iters) ** c.power };
    case 'multiplicative':
      // MultiplicativeLR with a constant lr_lambda: one factor per step
      return { lr: lr * c.lr_lambda ** epoch };
    case 'onecycle': {
      // OneCycleLR: phases end at pct_start*T - 1 (and 2*pct_start*T - 2), then T - 1; stepping past the end stays there
      const T = c.total_steps > 0 ? c.total_steps : totalEpochs;
      const maxLr = c.max_lr > 0 ? c.max_lr : lr;
      const first = maxLr / c.div_factor;
      const last = first / c.final_div_factor;
      const [lowM, highM] = [c.base_momentum ?? ONECYCLE_MOMENTUM[0], c.max_momentum ?? ONECYCLE_MOMENTUM[1]];
      const phases: Array<[end: number, lr: [number, number], momentum: [number, number]]> = c.three_phase
        ? [
            [c.pct_start * T - 1, [first, maxLr], [highM, lowM]],
            [2 * c.pct_start * T - 2, [maxLr, first], [lowM, highM]],
            [T - 1, [first, last], [highM, highM]],
          ]
        : [
            [c.pct_start * T - 1, [first, maxLr], [highM, lowM]],
            [T - 1, [maxLr, last], [lowM, highM]],
          ];
      const step = Math.min(epoch, T - 1);
      let start = 0;
      for (const [i, [end, l, m]] of phases.entries()) {
        if (step <= end || i === phases.length - 1) {
          const pct = (step - start) / (end - start);
          return { lr: anneal(c.anneal_strategy, l[0], l[1], pct), momentum: c.cycle_momentum ? anneal(c.anneal_strategy, m[0], m[1], pct) : undefined };
        }
        start = end;
      }
      return { lr: last };
    }
    case 'cyclic': {
      // CyclicLR: a triangle between base_lr and max_lr of step_size_up + step_size_down epochs
      const low = c.base_lr > 0 ? c.base_lr : lr;
      const high = c.max_lr > 0 ? c.max_lr : lr;
      const up = c.step_size_up;
      const size = up + (c.step_size_down ?? up);
      const ratio = up / size;
      const cycle = Math.floor(1 + epoch / size);
      const x = 1 + epoch / size - cycle;
      const height = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
      const scale = c.cyclic_mode === 'triangular' ? 1 : c.cyclic_mode === 'triangular2' ? 1 / 2 ** (cycle - 1) : c.gamma ** epoch;
      const [lowM, highM] = [c.base_momentum ?? CYCLIC_MOMENTUM[0], c.max_momentum ?? CYCLIC_MOMENTUM[1]];
      return { lr: low + (high - low) * height * scale, momentum: c.cycle_momentum ? highM - (highM - lowM) * height * scale : undefined };
    }
    case 'sequential': {
      // SequentialLR: schedulers[i] from milestones[i - 1] on, restarted at its milestone (step(0))
      const members = c.schedulers ?? [];
      const i = Math.min(c.milestones.filter((m) => m <= epoch).length, members.length - 1);
      const from = i === 0 ? 0 : c.milestones[i - 1];
      return scheduleAt(members[i], lr, epoch - from, totalEpochs);
    }
    case 'chained': {
      // ChainedScheduler: every member steps each epoch, each scaling the LR by its own factor
      let out = lr;
      for (const m of c.schedulers ?? []) out *= scheduleAt(m, lr, epoch, totalEpochs).lr / lr;
      return { lr: out };
    }
    case 'none':
      return { lr };
  }
}

/** One weight's optimizer state, named as torch's (exp_avg, square_avg, ...). */
interface SlotState {
  /** Updates applied to this weight (bias corrections, Adagrad's LR decay). */
  t: number;
  buffers: Map<string, tf.Variable>;
  /** Per-weight numbers: NAdam's mu_product, ASGD's eta. */
  scalars: Record<string, number>;
}

interface SerializedSlot {
  name: string;
  shape: number[];
  t: number;
  buffers?: Record<string, number[]>;
  scalars?: Record<string, number>;
  /** Checkpoints written before buffers had names: SGD's momentum buffer or Adam's first moment. */
  m?: number[];
  /** (the same) Adam's second moment. */
  v?: number[];
}

interface TermEntry {
  term: LossTerm;
  mode: LossTermMode;
  name: string;
  taskWeight: number;
}

const TERM_MODES: Record<'train' | 'eval' | 'arch', ReadonlySet<LossTermMode>> = {
  train: new Set(['all', 'train']),
  eval: new Set(['all', 'eval']),
  arch: new Set(['all', 'arch']),
};

/**
 * The default ω: cross-entropy (+ registered loss terms), torch.optim's weight optimizers (SGD with
 * momentum / Nesterov, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop) with
 * PyTorch's update rules, weight decay as L2 on the gradient (or decoupled), global-norm gradient
 * clipping, and torch.optim.lr_scheduler's schedules per estimator with optional linear warmup.
 */
export class DefaultTrainer implements StateOptimizer, LossTermHost {
  readonly batchSize: number;
  private readonly slots = new Map<tf.Variable, SlotState>();
  private pending = new Map<string, SerializedSlot>();
  private readonly terms: TermEntry[] = [];
  private baseLr: number;
  private stepsSinceReset = 0;
  private epoch = 0;
  private totalEpochs = 1;
  /** The momentum / beta1 set by a cycling schedule (onecycle, cyclic) for this epoch. */
  private cycledMomentum: number | undefined;
  private readonly excluded: () => ReadonlySet<tf.Variable>;

  constructor(
    readonly config: DefaultTrainerConfig,
    /** Arch params live here; their variables are never trained as weights. */
    space?: ArchSpace,
  ) {
    this.batchSize = config.batch_size;
    checkSchedule(config);
    this.baseLr = config.lr;
    this.excluded = () => new Set(space ? space.tensors().map((t) => t.variable) : []);
  }

  // ------------------------------------------------------------ schedule

  setEpoch(epoch: number, totalEpochs: number): void {
    this.epoch = epoch;
    this.totalEpochs = Math.max(totalEpochs, 1);
    const at = scheduleAt(this.config, this.config.lr, epoch, this.totalEpochs);
    this.baseLr = at.lr;
    this.cycledMomentum = at.momentum;
  }

  /**
   * The LR of the schedule at a (possibly fractional) epoch, before warmup: the closed form of
   * torch.optim.lr_scheduler's schedule after `epoch` calls of step().
   */
  scheduledLr(epoch: number, totalEpochs: number): number {
    return scheduleAt(this.config, this.config.lr, epoch, Math.max(totalEpochs, 1)).lr;
  }

  /** The momentum (SGD, RMSprop) or beta1 (Adam family) the schedule sets at an epoch; undefined: the configured one. */
  scheduledMomentum(epoch: number, totalEpochs: number): number | undefined {
    return scheduleAt(this.config, this.config.lr, epoch, Math.max(totalEpochs, 1)).momentum;
  }

  /** The momentum (or beta1) the next step will use. */
  currentMomentum(): number {
    return this.cycledMomentum ?? (WITH_BETAS.has(this.config.optimizer) ? this.config.betas[0] : this.config.momentum);
  }

  /** The LR the next step will use (warmup included). */
  currentLr(): number {
    const w = this.config.warmup_steps;
    if (w > 0 && this.stepsSinceReset < w) return (this.baseLr * (this.stepsSinceReset + 1)) / w;
    return this.baseLr;
  }

  // ------------------------------------------------------------ losses

  addLossTerm(term: LossTerm, opts: LossTermOptions = {}): () => void {
    const entry: TermEntry = { term, mode: opts.mode ?? 'all', name: opts.name ?? `term_${this.terms.length}`, taskWeight: opts.taskWeight ?? 1 };
    this.terms.push(entry);
    return () => {
      const i = this.terms.indexOf(entry);
      if (i >= 0) this.terms.splice(i, 1);
    };
  }

  /** Task loss plus the terms registered for `phase`; inside a tidy or a gradient function. */
  private totalLoss(model: Module, batch: Batch, logits: tf.Tensor, phase: 'train' | 'eval' | 'arch'): tf.Scalar {
    const active = this.terms.filter((t) => TERM_MODES[phase].has(t.mode));
    const taskWeight = active.reduce((w, t) => w * t.taskWeight, 1);
    let loss = crossEntropy(logits, batch.y, this.config.label_smoothing);
    if (taskWeight !== 1) loss = tf.mul(loss, taskWeight);
    for (const t of active) loss = tf.add(loss, t.term({ model, logits, batch }));
    return loss;
  }

  loss(model: Module, batch: Batch): tf.Scalar {
    return tf.tidy(() => this.totalLoss(model, batch, model.call(batch.x), 'arch'));
  }

  async evalStep(model: Module, batch: Batch): Promise<StepResult> {
    const out = tf.tidy(() => {
      const logits = model.call(batch.x);
      return [this.totalLoss(model, batch, logits, 'eval'), correctOf(logits, batch)];
    });
    return { ...(await readStep(out)), count: batch.y.shape[0] };
  }

  // ------------------------------------------------------------ update

  /** The weights trained: trainable variables of the model that are not arch params. */
  trainableWeights(model: Module): tf.Variable[] {
    const ex = this.excluded();
    return model.parameters().filter((v) => v.trainable && !ex.has(v));
  }

  async trainStep(model: Module, batch: Batch): Promise<StepResult> {
    const weights = this.trainableWeights(model);
    if (weights.length === 0) {
      throw new ModnasError('MODNAS_E_TRAINER_NO_WEIGHTS', 'DefaultTrainer: the model has no trainable weights', {
        fix: 'check that the constructors filled every Slot with a module that has weights',
      });
    }
    const lr = this.currentLr();
    const out = tf.tidy(() => {
      let logits: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        logits = tf.keep(model.call(batch.x));
        return this.totalLoss(model, batch, logits, 'train');
      }, weights);
      // tf.keep shields the logits from every tidy, so they are freed by hand.
      const correct = correctOf(logits!, batch);
      logits!.dispose();
      // Weights that took no part in the forward (unused candidates) get no gradient and are left
      // alone, decay and momentum included (as PyTorch skips params whose grad is None).
      const used = weights.filter((w) => grads[w.name] !== undefined);
      let gs = used.map((w) => grads[w.name]);
      if (this.config.grad_clip > 0) gs = clipByGlobalNorm(gs, this.config.grad_clip);
      used.forEach((w, i) => this.update(w, gs[i], lr));
      return [value, correct];
    });
    this.stepsSinceReset++;
    return { ...(await readStep(out)), count: batch.y.shape[0] };
  }

  /**
   * One update of one weight w with gradient g (inside a tidy): torch.optim's single-tensor rules
   * (NAdam's as PyTorch 2.0 fixed it). Weight decay is L2 on the gradient, or decoupled.
   */
  private update(w: tf.Variable, g: tf.Tensor, lr: number): void {
    const c = this.config;
    const s = this.slotOf(w);
    const t = ++s.t;
    const eps = c.eps > 0 ? c.eps : (DEFAULT_EPS[c.optimizer] ?? 1e-8);
    const b2 = c.betas[1];
    const b1 = WITH_BETAS.has(c.optimizer) ? this.currentMomentum() : c.betas[0];
    const momentum = WITH_MOMENTUM.has(c.optimizer) ? this.currentMomentum() : c.momentum;
    /** The buffer `key`, started from init() on the weight's first update. */
    const buf = (key: string, init: () => tf.Tensor = () => tf.zerosLike(w)): tf.Tensor => s.buffers.get(key) ?? init();
    const keep = (key: string, value: tf.Tensor): tf.Tensor => {
      const v = s.buffers.get(key);
      if (v) v.assign(value);
      else s.buffers.set(key, tf.variable(value, false));
      return value;
    };
    const step = (delta: tf.Tensor, scale: number): void => w.assign(tf.sub(w, tf.mul(delta, scale)));

    let d = g;
    if (c.weight_decay > 0) {
      if (c.decoupled_weight_decay || c.optimizer === 'adamw') w.assign(tf.mul(w, 1 - lr * c.weight_decay));
      else d = tf.add(d, tf.mul(w, c.weight_decay));
    }
    switch (c.optimizer) {
      case 'sgd': {
        if (momentum > 0) {
          // buf = d on the first step, else momentum*buf + d (dampening 0)
          const prev = s.buffers.get('momentum_buffer');
          const m = keep('momentum_buffer', prev ? tf.add(tf.mul(prev, momentum), d) : d);
          d = c.nesterov ? tf.add(d, tf.mul(m, momentum)) : m;
        }
        step(d, lr);
        return;
      }
      case 'adam':
      case 'adamw': {
        const m = keep('exp_avg', tf.add(tf.mul(buf('exp_avg'), b1), tf.mul(d, 1 - b1)));
        let v = keep('exp_avg_sq', tf.add(tf.mul(buf('exp_avg_sq'), b2), tf.mul(tf.square(d), 1 - b2)));
        if (c.amsgrad) v = keep('max_exp_avg_sq', tf.maximum(buf('max_exp_avg_sq'), v));
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - b2 ** t)), eps);
        step(tf.div(m, denom), lr / (1 - b1 ** t));
        return;
      }
      case 'rmsprop': {
        const sq = keep('square_avg', tf.add(tf.mul(buf('square_avg'), c.alpha), tf.mul(tf.square(d), 1 - c.alpha)));
        let avg: tf.Tensor;
        if (c.centered) {
          const ga = keep('grad_avg', tf.add(tf.mul(buf('grad_avg'), c.alpha), tf.mul(d, 1 - c.alpha)));
          avg = tf.add(tf.sqrt(tf.sub(sq, tf.square(ga))), eps);
        } else avg = tf.add(tf.sqrt(sq), eps);
        if (momentum > 0) step(keep('momentum_buffer', tf.add(tf.mul(buf('momentum_buffer'), momentum), tf.div(d, avg))), lr);
        else step(tf.div(d, avg), lr);
        return;
      }
      case 'adagrad': {
        const sum = keep('sum', tf.add(buf('sum', () => tf.fill(w.shape, c.initial_accumulator_value)), tf.square(d)));
        step(tf.div(d, tf.add(tf.sqrt(sum), eps)), lr / (1 + (t - 1) * c.lr_decay));
        return;
      }
      case 'adadelta': {
        const sq = keep('square_avg', tf.add(tf.mul(buf('square_avg'), c.rho), tf.mul(tf.square(d), 1 - c.rho)));
        const delta = tf.mul(tf.div(tf.sqrt(tf.add(buf('acc_delta'), eps)), tf.sqrt(tf.add(sq, eps))), d);
        keep('acc_delta', tf.add(tf.mul(buf('acc_delta'), c.rho), tf.mul(tf.square(delta), 1 - c.rho)));
        step(delta, lr);
        return;
      }
      case 'adamax': {
        const m = keep('exp_avg', tf.add(tf.mul(buf('exp_avg'), b1), tf.mul(d, 1 - b1)));
        const u = keep('exp_inf', tf.maximum(tf.mul(buf('exp_inf'), b2), tf.add(tf.abs(d), eps)));
        step(tf.div(m, u), lr / (1 - b1 ** t));
        return;
      }
      case 'nadam': {
        const mu = b1 * (1 - 0.5 * 0.96 ** (t * c.momentum_decay));
        const muNext = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * c.momentum_decay));
        const muProduct = (s.scalars.mu_product ?? 1) * mu;
        s.scalars.mu_product = muProduct;
        const m = keep('exp_avg', tf.add(tf.mul(buf('exp_avg'), b1), tf.mul(d, 1 - b1)));
        const v = keep('exp_avg_sq', tf.add(tf.mul(buf('exp_avg_sq'), b2), tf.mul(tf.square(d), 1 - b2)));
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - b2 ** t)), eps);
        step(tf.div(d, denom), (lr * (1 - mu)) / (1 - muProduct));
        step(tf.div(m, denom), (lr * muNext) / (1 - muProduct * muNext));
        return;
      }
      case 'radam': {
        const m = keep('exp_avg', tf.add(tf.mul(buf('exp_avg'), b1), tf.mul(d, 1 - b1)));
        const v = keep('exp_avg_sq', tf.add(tf.mul(buf('exp_avg_sq'), b2), tf.mul(tf.square(d), 1 - b2)));
        const bc2 = 1 - b2 ** t;
        const rhoInf = 2 / (1 - b2) - 1;
        const rhoT = rhoInf - (2 * t * b2 ** t) / bc2;
        const mHat = tf.div(m, 1 - b1 ** t);
        if (rhoT > 5) {
          // variance rectification once the approximated SMA is long enough
          const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
          step(tf.div(mHat, tf.add(tf.sqrt(v), eps)), lr * rect * Math.sqrt(bc2));
        } else step(mHat, lr);
        return;
      }
      case 'asgd': {
        // eta was set by the previous update (from that step's LR), as torch keeps it in its state
        const eta = s.scalars.eta ?? lr;
        w.assign(tf.mul(w, 1 - c.lambd * eta));
        step(d, eta);
        s.scalars.eta = lr / (1 + c.lambd * lr * t) ** c.asgd_alpha;
        return;
      }
      case 'rprop': {
        const [etaMinus, etaPlus] = c.etas;
        const sign = tf.sign(tf.mul(d, buf('prev')));
        const factor = tf.where(tf.greater(sign, 0), tf.fill(w.shape, etaPlus), tf.where(tf.less(sign, 0), tf.fill(w.shape, etaMinus), tf.onesLike(w)));
        const size = keep('step_size', tf.clipByValue(tf.mul(buf('step_size', () => tf.fill(w.shape, lr)), factor), c.step_sizes[0], c.step_sizes[1]));
        // after a sign change the gradient counts as 0: no step now, and no sign to compare next time
        const grad = keep('prev', tf.where(tf.less(sign, 0), tf.zerosLike(d), d));
        step(tf.mul(tf.sign(grad), size), 1);
        return;
      }
    }
  }

  private slotOf(w: tf.Variable): SlotState {
    let s = this.slots.get(w);
    if (!s) {
      s = { t: 0, buffers: new Map(), scalars: {} };
      const saved = this.pending.get(w.name);
      if (saved && saved.shape.join('x') === w.shape.join('x')) {
        s.t = saved.t;
        const legacy = this.config.optimizer === 'sgd' ? { momentum_buffer: saved.m } : { exp_avg: saved.m, exp_avg_sq: saved.v };
        for (const [key, values] of Object.entries(saved.buffers ?? legacy)) if (values) s.buffers.set(key, tf.variable(tf.tensor(values, w.shape), false));
        s.scalars = { ...saved.scalars };
        this.pending.delete(w.name);
      }
      this.slots.set(w, s);
    }
    return s;
  }

  /** SGD's momentum buffer of a weight (DARTS' second-order step reads it), if any. */
  momentumBuffer(w: tf.Variable): tf.Tensor | undefined {
    return this.config.optimizer === 'sgd' ? this.slots.get(w)?.buffers.get('momentum_buffer') : undefined;
  }

  // ------------------------------------------------------------ state

  /** Drop optimizer slots (momentum, moments, accumulators) and restart the warmup. */
  reset(): void {
    for (const s of this.slots.values()) for (const v of s.buffers.values()) v.dispose();
    this.slots.clear();
    this.pending.clear();
    this.stepsSinceReset = 0;
  }

  state(): unknown {
    const slots: SerializedSlot[] = [];
    for (const [w, s] of this.slots) {
      if (w.isDisposed) continue;
      const buffers: Record<string, number[]> = {};
      for (const [key, v] of s.buffers) buffers[key] = Array.from(v.dataSync());
      slots.push({ name: w.name, shape: [...w.shape], t: s.t, buffers, scalars: { ...s.scalars } });
    }
    return { epoch: this.epoch, totalEpochs: this.totalEpochs, stepsSinceReset: this.stepsSinceReset, slots };
  }

  /** Restore a state(); slots are matched to weights by variable name at their next update. */
  restore(state: unknown): void {
    const st = state as { epoch?: number; totalEpochs?: number; stepsSinceReset?: number; slots?: SerializedSlot[] } | undefined;
    this.reset();
    if (!st) return;
    this.setEpoch(st.epoch ?? 0, st.totalEpochs ?? 1);
    this.stepsSinceReset = st.stepsSinceReset ?? 0;
    this.pending = new Map((st.slots ?? []).map((s) => [s.name, s]));
  }

  dispose(): void {
    this.reset();
    this.terms.length = 0;
  }
}

/** Scale gradients so that their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_). */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): tf.Tensor[] {
  if (grads.length === 0) return grads;
  const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
  const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
  return grads.map((g) => tf.mul(g, coef));
}

export const defaultTrainer = defineComponent({
  kind: 'trainer',
  id: 'DefaultTrainer',
  aliases: ['ImageClsTrainer'],
  description: 'Cross-entropy training with the torch.optim optimizers (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop) and LR schedules, weight decay, warmup, label smoothing and gradient clipping',
  schema: defaultTrainerSchema,
  create(config, ctx) {
    return new DefaultTrainer(config, ctx.space);
  },
});

/** Correctly classified examples of a batch, from its logits. */
function correctOf(logits: tf.Tensor, batch: Batch): tf.Tensor {
  return tf.sum(tf.equal(tf.argMax(logits, -1), tf.cast(batch.y, 'int32')).toInt());
}

/** A step's loss and correct count, read without blocking the backend (a GPU's is asynchronous); the tensors are freed. */
async function readStep(ts: tf.Tensor[]): Promise<{ loss: number; correct: number }> {
  try {
    const [l, c] = await Promise.all(ts.map((t) => t.data()));
    return { loss: l[0], correct: c[0] };
  } finally {
    tf.dispose(ts);
  }
}
