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
  /** The class's arguments: PyTorch name -> DefaultTrainer key, or why it is left out. */
  args: Record<string, string | { leftOut: string }>;
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
  { name: 'none', native: 'none', args: {} },
];

/** PyTorch classes that cannot be taken, and why (so the error says more than "unknown"). */
const UNAVAILABLE: Record<string, string> = {
  lbfgs: 'LBFGS re-evaluates the loss through a closure several times per step',
  sparseadam: 'SparseAdam is for sparse gradients, which TensorFlow.js does not have',
  reducelronplateau: 'ReduceLROnPlateau steps on a validation metric',
  lambdalr: 'LambdaLR takes a Python function',
  multiplicativelr: 'MultiplicativeLR takes a Python function',
  sequentiallr: 'SequentialLR chains scheduler objects',
  chainedscheduler: 'ChainedScheduler chains scheduler objects',
  cycliclr: 'CyclicLR steps per batch and cycles the momentum',
  onecyclelr: 'OneCycleLR steps per batch and cycles the momentum',
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
  for (const [k, v] of Object.entries(args)) {
    const to = cls.args[k];
    if (typeof to === 'string') {
      out.options[to] = v;
      out.origins.push([`trainer.${to}`, `${argsAt}.${k}`]);
    } else if (to) out.notes.push(`${argsAt}.${k} (${to.leftOut})`);
    else {
      const takes = Object.keys(cls.args).filter((a) => typeof cls.args[a] === 'string');
      out.errors.push(`${argsAt}.${k}: ${cls.name} takes no ${k} here (it takes ${takes.join(', ') || 'no arguments'})`);
    }
  }
  for (const [k, v] of Object.entries(cls.defaults ?? {})) if (!(k in out.options)) out.defaults[k] = v;
  return out;
}
