import type { Json, JsonObject } from '@modnas/config';

/**
 * torch.optim's optimizers and torch.optim.lr_scheduler's schedules as DefaultTrainer takes them:
 * the one table for every config format that names them by their PyTorch class (the original
 * ModularNAS's `optimizer: { type: RMSprop, args }`, VEGA's `optimizer: { type, params }`).
 */
export interface TorchClass {
  /** The PyTorch class name. */
  name: string;
  /** DefaultTrainer's value of `optimizer` / `lr_scheduler`. */
  native: string;
  /**
   * The class's arguments: PyTorch name -> DefaultTrainer key, or why it is left out, or `schedulers`:
   * a list of { type, args } LR schedulers, each translated as a member of DefaultTrainer's `schedulers`.
   */
  args: Record<string, string | { leftOut: string } | { schedulers: true }>;
  /** Rewrites the arguments before they are renamed; returns errors for values that cannot be taken. */
  convert?: (args: JsonObject, argsAt: string) => { args: JsonObject; errors: string[] };
  /**
   * PyTorch's defaults, written when a config names the class without the key and DefaultTrainer's
   * own default (made for SGD) would change what the class does.
   */
  defaults?: JsonObject;
}

const IMPLEMENTATION = { leftOut: 'a PyTorch implementation choice' };
/** Arguments every optimizer takes that choose how PyTorch computes, not what. */
const IMPL_ARGS = { foreach: IMPLEMENTATION, capturable: IMPLEMENTATION, differentiable: IMPLEMENTATION, fused: IMPLEMENTATION };
const SCHED_ARGS = { verbose: { leftOut: 'prints every LR change' } };
const same = (...keys: string[]): Record<string, string> => Object.fromEntries(keys.map((k) => [k, k]));

export const TORCH_OPTIMIZERS: readonly TorchClass[] = [
  { name: 'SGD', native: 'sgd', args: { ...same('lr', 'momentum', 'weight_decay', 'nesterov'), ...IMPL_ARGS } },
  { name: 'Adam', native: 'adam', args: { ...same('lr', 'betas', 'eps', 'weight_decay', 'amsgrad'), ...IMPL_ARGS } },
  { name: 'AdamW', native: 'adamw', args: { ...same('lr', 'betas', 'eps', 'weight_decay', 'amsgrad'), ...IMPL_ARGS }, defaults: { weight_decay: 1e-2 } },
  { name: 'RMSprop', native: 'rmsprop', args: { ...same('lr', 'alpha', 'eps', 'weight_decay', 'momentum', 'centered'), ...IMPL_ARGS }, defaults: { momentum: 0 } },
  { name: 'Adagrad', native: 'adagrad', args: { ...same('lr', 'lr_decay', 'weight_decay', 'initial_accumulator_value', 'eps'), ...IMPL_ARGS } },
  { name: 'Adadelta', native: 'adadelta', args: { ...same('lr', 'rho', 'eps', 'weight_decay'), ...IMPL_ARGS }, defaults: { lr: 1 } },
  { name: 'Adamax', native: 'adamax', args: { ...same('lr', 'betas', 'eps', 'weight_decay'), ...IMPL_ARGS } },
  { name: 'NAdam', native: 'nadam', args: { ...same('lr', 'betas', 'eps', 'weight_decay', 'momentum_decay'), ...IMPL_ARGS } },
  { name: 'RAdam', native: 'radam', args: { ...same('lr', 'betas', 'eps', 'weight_decay'), ...IMPL_ARGS } },
  {
    name: 'ASGD',
    native: 'asgd',
    args: { ...same('lr', 'lambd', 'weight_decay'), alpha: 'asgd_alpha', t0: { leftOut: "starts ASGD's running average of the weights, which does not enter the update and is not kept" }, ...IMPL_ARGS },
  },
  // torch.optim.Rprop has no weight decay
  { name: 'Rprop', native: 'rprop', args: { ...same('lr', 'etas', 'step_sizes'), ...IMPL_ARGS }, defaults: { weight_decay: 0 } },
];

export const TORCH_LR_SCHEDULERS: readonly TorchClass[] = [
  { name: 'CosineAnnealingLR', native: 'cosine', args: { T_max: 't_max', eta_min: 'lr_min', ...SCHED_ARGS } },
  { name: 'StepLR', native: 'step', args: { ...same('step_size', 'gamma'), ...SCHED_ARGS } },
  { name: 'MultiStepLR', native: 'multistep', args: { ...same('milestones', 'gamma'), ...SCHED_ARGS } },
  { name: 'ExponentialLR', native: 'exponential', args: { ...same('gamma'), ...SCHED_ARGS } },
  { name: 'CosineAnnealingWarmRestarts', native: 'cosine_restarts', args: { T_0: 't_0', T_mult: 't_mult', eta_min: 'lr_min', ...SCHED_ARGS } },
  { name: 'LinearLR', native: 'linear', args: { ...same('start_factor', 'end_factor', 'total_iters'), ...SCHED_ARGS } },
  { name: 'ConstantLR', native: 'constant', args: { ...same('factor', 'total_iters'), ...SCHED_ARGS } },
  { name: 'PolynomialLR', native: 'poly', args: { ...same('total_iters', 'power'), ...SCHED_ARGS } },
  {
    name: 'MultiplicativeLR',
    native: 'multiplicative',
    args: { ...same('lr_lambda'), ...SCHED_ARGS },
    convert: (args, at) => ({
      args,
      errors:
        args.lr_lambda === undefined || typeof args.lr_lambda === 'number'
          ? []
          : [`${at}.lr_lambda: ${JSON.stringify(args.lr_lambda)} is not a number (a Python function cannot be read from a config; give the constant factor per epoch, e.g. 0.95)`],
    }),
  },
  {
    name: 'OneCycleLR',
    native: 'onecycle',
    args: {
      ...same('max_lr', 'total_steps', 'pct_start', 'anneal_strategy', 'cycle_momentum', 'base_momentum', 'max_momentum', 'div_factor', 'final_div_factor', 'three_phase'),
      ...SCHED_ARGS,
    },
    // total_steps = epochs * steps_per_epoch, as torch counts them (stepped once per epoch, as the original)
    convert: (args, at) => {
      const { epochs, steps_per_epoch: perEpoch, ...rest } = args;
      if (epochs === undefined && perEpoch === undefined) return { args, errors: [] };
      if (typeof epochs !== 'number' || typeof perEpoch !== 'number') return { args: rest, errors: [`${at}: epochs and steps_per_epoch are given together, as numbers (or give total_steps)`] };
      return { args: { total_steps: epochs * perEpoch, ...rest }, errors: [] };
    },
  },
  {
    name: 'CyclicLR',
    native: 'cyclic',
    args: {
      ...same('base_lr', 'max_lr', 'step_size_up', 'step_size_down', 'gamma', 'cycle_momentum', 'base_momentum', 'max_momentum'),
      mode: 'cyclic_mode',
      scale_mode: { leftOut: 'chooses what a custom scale_fn counts; the three modes set it themselves' },
      ...SCHED_ARGS,
    },
    defaults: { gamma: 1 },
  },
  { name: 'SequentialLR', native: 'sequential', args: { schedulers: { schedulers: true }, ...same('milestones'), ...SCHED_ARGS } },
  { name: 'ChainedScheduler', native: 'chained', args: { schedulers: { schedulers: true } } },
  { name: 'none', native: 'none', args: {} },
];

/** PyTorch classes that cannot be taken, and why (so the error says more than "unknown"). */
const UNAVAILABLE: Record<string, string> = {
  lbfgs: 'LBFGS re-evaluates the loss through a closure several times per step',
  sparseadam: 'SparseAdam is for sparse gradients, which TensorFlow.js does not have',
  // the trainer's schedule is set per epoch without a metric (and the original's trainer calls step()
  // without one, which torch refuses)
  reducelronplateau: 'ReduceLROnPlateau steps on a validation metric',
  lambdalr: 'LambdaLR takes a Python function; MultiplicativeLR takes a constant factor per epoch',
};

/** Names compare as the original's registry compares them: case, '_' and '-' ignored. */
const loose = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');

/** The class a config names: its PyTorch name or DefaultTrainer's, in any case, '_' and '-' ignored. */
export function findTorchClass(table: readonly TorchClass[], name: string): TorchClass | undefined {
  const n = loose(name);
  return table.find((c) => loose(c.name) === n || loose(c.native) === n);
}

export interface TorchClassMapping {
  /** DefaultTrainer options: `optimizer` / `lr_scheduler` and the renamed arguments. */
  options: JsonObject;
  /** PyTorch defaults to write for keys that nothing else in the config sets (TorchClass.defaults). */
  defaults: JsonObject;
  /** [DefaultTrainer key, the config's own path] of every key moved. */
  origins: Array<[string, string]>;
  errors: string[];
  /** Arguments read and left out, each with why. */
  notes: string[];
}

/**
 * A config's `{ type, args }` for a torch optimizer or LR scheduler, as DefaultTrainer options.
 * `at` is the config's path of the type, `argsAt` the prefix of its arguments' paths.
 */
export function mapTorchClass(kind: 'optimizer' | 'lr_scheduler', type: Json | undefined, args: JsonObject, at: string, argsAt: string): TorchClassMapping {
  const out: TorchClassMapping = { options: {}, defaults: {}, origins: [], errors: [], notes: [] };
  const table = kind === 'optimizer' ? TORCH_OPTIMIZERS : TORCH_LR_SCHEDULERS;
  const cls = typeof type === 'string' ? findTorchClass(table, type) : undefined;
  if (!cls) {
    const why = typeof type === 'string' ? UNAVAILABLE[loose(type)] : undefined;
    out.errors.push(
      `${at}: ${JSON.stringify(type)} is not available${why ? ` (${why})` : ''}; the ${kind === 'optimizer' ? 'optimizers' : 'LR schedulers'} here: ${table.map((c) => c.name).join(', ')} (case, '_' and '-' ignored)`,
    );
    return out;
  }
  out.options[kind] = cls.native;
  out.origins.push([`trainer.${kind}`, at]);
  if (cls.convert) {
    const c = cls.convert(args, argsAt);
    args = c.args;
    out.errors.push(...c.errors);
  }
  for (const [k, v] of Object.entries(args)) {
    const to = cls.args[k];
    if (typeof to === 'string') {
      out.options[to] = v;
      out.origins.push([`trainer.${to}`, `${argsAt}.${k}`]);
    } else if (to && 'schedulers' in to) {
      out.options.schedulers = memberSchedulers(v, `${argsAt}.${k}`, out);
      out.origins.push(['trainer.schedulers', `${argsAt}.${k}`]);
    } else if (to) out.notes.push(`${argsAt}.${k} (${to.leftOut})`);
    else {
      const takes = Object.keys(cls.args).filter((a) => typeof cls.args[a] === 'string');
      out.errors.push(`${argsAt}.${k}: ${cls.name} takes no ${k} here (it takes ${takes.join(', ') || 'no arguments'})`);
    }
  }
  for (const [k, v] of Object.entries(cls.defaults ?? {})) if (!(k in out.options)) out.defaults[k] = v;
  return out;
}

/** SequentialLR's and ChainedScheduler's `schedulers`: each { type, args } as a member of DefaultTrainer's `schedulers`. */
function memberSchedulers(list: Json, at: string, out: TorchClassMapping): JsonObject[] {
  if (!Array.isArray(list)) {
    out.errors.push(`${at}: expected a list of LR schedulers, each { type: StepLR, args: {...} }`);
    return [];
  }
  return list.map((spec, i) => {
    const obj = typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? spec : undefined;
    const type = obj ? obj.type : spec;
    const args = obj && typeof obj.args === 'object' && obj.args !== null && !Array.isArray(obj.args) ? obj.args : {};
    const m = mapTorchClass('lr_scheduler', type, args, obj ? `${at}.${i}.type` : `${at}.${i}`, `${at}.${i}.args`);
    out.errors.push(...m.errors);
    out.notes.push(...m.notes);
    if (m.options.lr_scheduler === 'sequential' || m.options.lr_scheduler === 'chained') out.errors.push(`${at}.${i}: ${JSON.stringify(type)} cannot be nested in another chain`);
    return { ...m.defaults, ...m.options };
  });
}
