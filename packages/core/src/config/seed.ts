import { ModnasError } from '../errors.js';
import type { Json, JsonObject } from './merge.js';
import { isObject } from './merge.js';

/** Sections that mark the original's VEGA-style format. */
const SEED_SECTIONS = ['search_space', 'search_algorithm', 'trainer', 'dataset', 'pipeline'];

/** Does this config use the seed's VEGA-style layout (search_space / search_algorithm / trainer.modnas)? */
export function isSeedFormat(raw: JsonObject): boolean {
  if ('search_space' in raw || 'search_algorithm' in raw || 'pipeline' in raw) return true;
  const t = raw.trainer;
  return isObject(t) && ('modnas' in t || t.type === 'Trainer' || 'valid_interval' in t || 'lazy_built' in t || 'callbacks' in t);
}

export interface SeedMapping {
  config: JsonObject;
  /** Keys read and deliberately ignored (VEGA plumbing with no meaning here). */
  ignored: string[];
}

/** The seed's first example: MobileNetV2 with BinGate over the six MBxEy candidates. */
export const SEED_DEFAULT_PRIMITIVES = ['MB3E3', 'MB3E6', 'MB5E3', 'MB5E6', 'MB7E3', 'MB7E6'];

/** The search optimizer that goes with each mixed op, when a seed config names no optimizer. */
const OPTIM_FOR_MIXED_OP: Record<string, string> = {
  BinGate: 'BinaryGateOptim',
  BinaryGateMixedOp: 'BinaryGateOptim',
  BinGateUniform: 'BinaryGateOptim',
  BinaryGateUniformMixedOp: 'BinaryGateOptim',
  WeightedSum: 'DARTSOptim',
  SoftmaxSumMixedOp: 'DARTSOptim',
  GumbelSum: 'DirectGradOptim',
  GumbelSumMixedOp: 'DirectGradOptim',
  Index: 'RandomSearchOptim',
  IndexMixedOp: 'RandomSearchOptim',
};

/**
 * The seed's snippets are partial (VEGA filled the rest): a seed-format config that leaves out
 * a section gets the seed's own defaults, each reported so nothing happens silently.
 */
export function fillSeedDefaults(out: JsonObject, defaulted: string[]): void {
  if (out.model === undefined && out.arch_desc === undefined) {
    out.model = { type: 'CIFAR_MobileNetV2' };
    defaulted.push('search_space.custom.model = CIFAR_MobileNetV2');
    if (out.construct === undefined) {
      out.construct = { mixed_op: { type: 'BinGate', primitives: SEED_DEFAULT_PRIMITIVES } };
      defaulted.push('search_space.custom.construct = BinGate over ' + SEED_DEFAULT_PRIMITIVES.join(', '));
    }
  }
  if (out.estim === undefined) {
    out.estim = { search: { type: 'SuperNetEstimator', epochs: 1 } };
    defaulted.push('trainer.modnas.estim = { search: SuperNetEstimator, epochs: 1 }');
  }
  // A search (a construct chain with a mixed op) needs an optimizer; plain training does not.
  const mixed = out.arch_desc === undefined ? findMixedOp(out.construct) : undefined;
  if (out.optim === undefined && mixed) {
    const optim = OPTIM_FOR_MIXED_OP[mixed] ?? 'BinaryGateOptim';
    out.optim = { type: optim };
    defaulted.push(`search_algorithm.optim = ${optim} (goes with ${mixed})`);
  }
}

function findMixedOp(construct: Json | undefined): string | undefined {
  const entries = Array.isArray(construct) ? construct : isObject(construct) ? Object.values(construct) : [];
  for (const e of entries) {
    if (!isObject(e)) continue;
    if (typeof e.type === 'string' && e.type in OPTIM_FOR_MIXED_OP) return e.type;
    const inner = isObject(e.args) ? e.args.mixed_op : e.mixed_op;
    if (isObject(inner) && typeof inner.type === 'string') return inner.type;
    if (typeof inner === 'string') return inner;
  }
  return undefined;
}

/**
 * Map the seed's VEGA-style sections onto the native format:
 *   search_space.custom.{model,construct,desc_construct,arch_desc} -> model, construct, ...
 *   search_algorithm.optim -> optim;  trainer.modnas.{estim,export} -> estim, export
 *   trainer.{optimizer,lr_scheduler,...} -> trainer args;  dataset -> data
 * A VEGA `pipeline` file is reduced to its first step that has these sections.
 */
export function mapSeedFormat(raw: JsonObject, where: string): SeedMapping {
  const ignored: string[] = [];
  const errors: string[] = [];
  let src = raw;
  if (Array.isArray(raw.pipeline)) {
    const steps = raw.pipeline.filter((s): s is string => typeof s === 'string');
    const step = steps.find((s) => isObject(raw[s]) && SEED_SECTIONS.some((k) => k in (raw[s] as JsonObject)));
    if (!step) throw new ModnasError('MODNAS_E_CONFIG_SEED', 'pipeline lists no step with search_space / search_algorithm / trainer sections', { where });
    src = { ...(raw[step] as JsonObject) };
    for (const s of steps) if (s !== step) ignored.push(s);
    ignored.push('pipeline');
    if ('general' in raw) ignored.push('general');
    if (steps.length > 1) ignored.push(`pipeline steps after "${step}" (train the found architecture with: modnas train <config> --arch <outputs/arch_<estim>_best.yaml>)`);
  }
  const out: JsonObject = {};
  const native = new Set(['name', 'output_dir', 'seed', 'backend', 'log_level', 'data', 'data_provider', 'metrics', 'callbacks', 'executor', 'space']);

  for (const [key, value] of Object.entries(src)) {
    if (native.has(key)) {
      out[key] = value;
      continue;
    }
    switch (key) {
      case 'search_space':
        mapSearchSpace(value, out, errors, ignored);
        break;
      case 'search_algorithm':
        if (!isObject(value)) {
          errors.push('search_algorithm: expected a section');
          break;
        }
        for (const [k, v] of Object.entries(value)) {
          if (k === 'type') {
            if (v !== 'ModNasAlgorithm') errors.push(`search_algorithm.type: expected ModNasAlgorithm, got ${JSON.stringify(v)}`);
          } else if (k === 'optim') out.optim = v;
          else errors.push(`search_algorithm.${k}: unknown key (known: type, optim)`);
        }
        break;
      case 'trainer':
        mapTrainer(value, out, errors, ignored);
        break;
      case 'dataset':
        mapDataset(value, out, errors);
        break;
      case 'pipe_step':
        ignored.push('pipe_step');
        break;
      default:
        errors.push(`${key}: unknown section (the seed format has search_space, search_algorithm, trainer, dataset)`);
    }
  }
  // VEGA put the batch size under dataset.common; here it is the trainer's.
  if (out.__batch_size !== undefined) {
    const t = isObject(out.trainer) ? out.trainer : { type: 'DefaultTrainer', args: {} };
    const args = isObject(t.args) ? t.args : {};
    if (args.batch_size === undefined) args.batch_size = out.__batch_size;
    out.trainer = { ...t, args };
    delete out.__batch_size;
  }
  if (errors.length) {
    throw new ModnasError('MODNAS_E_CONFIG_SEED', `the seed-format config has ${errors.length} problem(s):\n  - ${errors.join('\n  - ')}`, {
      fix: 'follow the layout of the seed examples (search_space.custom.model / construct, search_algorithm.optim, trainer.modnas.estim)',
      where,
    });
  }
  return { config: out, ignored };
}

function mapSearchSpace(value: Json, out: JsonObject, errors: string[], ignored: string[]): void {
  if (!isObject(value)) {
    errors.push('search_space: expected a section');
    return;
  }
  const modules = value.modules ?? ['custom'];
  if (!Array.isArray(modules) || modules.length !== 1 || typeof modules[0] !== 'string') {
    errors.push(`search_space.modules: expected one module name such as ['custom'], got ${JSON.stringify(modules)}`);
    return;
  }
  const modName = modules[0];
  if (value.type !== undefined && value.type !== 'SearchSpace') errors.push(`search_space.type: expected SearchSpace, got ${JSON.stringify(value.type)}`);
  for (const k of Object.keys(value)) {
    if (!['type', 'modules', modName].includes(k)) errors.push(`search_space.${k}: unknown key (known: type, modules, ${modName})`);
  }
  const custom = value[modName];
  if (!isObject(custom)) {
    errors.push(`search_space.${modName}: expected a section with model and construct`);
    return;
  }
  for (const [k, v] of Object.entries(custom)) {
    const path = `search_space.${modName}.${k}`;
    switch (k) {
      case 'type':
        if (v !== 'ModNasArchSpace') errors.push(`${path}: expected ModNasArchSpace, got ${JSON.stringify(v)}`);
        break;
      case 'model':
        out.model = v;
        break;
      case 'construct':
        out.construct = v;
        break;
      case 'desc_construct':
        out.desc_construct = v;
        break;
      case 'arch_desc':
        out.arch_desc = v;
        break;
      case 'data':
        out.data = v;
        break;
      case 'search':
      case 'augment':
        // VEGA's later layout: `search:` holds the search-phase constructors, `augment:` the
        // final-training ones.
        if (!isObject(v)) {
          errors.push(`${path}: expected a section with construct / mixed_op`);
          break;
        }
        for (const [sk, sv] of Object.entries(v)) {
          if (sk === 'construct') out[k === 'search' ? 'construct' : 'desc_construct'] = sv;
          else if (sk === 'mixed_op' && k === 'search') out.construct = { ...(isObject(out.construct) ? out.construct : {}), mixed_op: sv };
          else errors.push(`${path}.${sk}: unknown key (known: construct${k === 'search' ? ', mixed_op' : ''})`);
        }
        break;
      case 'mixed_op':
        out.construct = { ...(isObject(out.construct) ? out.construct : {}), mixed_op: v };
        break;
      case 'device_ids':
      case 'proc':
      case 'fully_train':
        ignored.push(path);
        break;
      default:
        errors.push(`${path}: unknown key (known: type, model, construct, desc_construct, arch_desc, search, augment)`);
    }
  }
}

/** VEGA trainer keys that only steered VEGA's own loop. */
const VEGA_TRAINER_PLUMBING = ['type', 'callbacks', 'valid_interval', 'lazy_built', 'epochs', 'cuda', 'distributed', 'report_freq', 'seed', 'save_model_desc', 'load_weights_file', 'ref'];

/** Estimator keys of the original that only steered its own file saving (outputs are always written here). */
const SEED_ESTIM_PLUMBING = ['save_arch_desc', 'save_freq', 'save_best'];

/** Estimator specs: drop saving plumbing, rename the original's `subnet_epochs` to `train_epochs`. */
function mapSeedEstims(v: Json, ignored: string[]): Json {
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [name, spec] of Object.entries(v)) {
    if (!isObject(spec)) {
      out[name] = spec;
      continue;
    }
    const s: JsonObject = {};
    for (const [k, val] of Object.entries(spec)) {
      if (SEED_ESTIM_PLUMBING.includes(k)) ignored.push(`trainer.modnas.estim.${name}.${k}`);
      else if (k === 'subnet_epochs') s.train_epochs = val;
      else s[k] = val;
    }
    out[name] = s;
  }
  return out;
}

function mapTrainer(value: Json, out: JsonObject, errors: string[], ignored: string[]): void {
  if (!isObject(value)) {
    errors.push('trainer: expected a section');
    return;
  }
  const args: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    const path = `trainer.${k}`;
    if (k === 'modnas') {
      if (!isObject(v)) {
        errors.push('trainer.modnas: expected a section with estim');
        continue;
      }
      for (const [mk, mv] of Object.entries(v)) {
        if (mk === 'estim') out.estim = mapSeedEstims(mv, ignored);
        else if (mk === 'export' || mk === 'metrics' || mk === 'callbacks') out[mk] = mv;
        else if (mk === 'optim') out.optim = mv;
        else if (mk === 'import' || mk === 'imports') ignored.push(`trainer.modnas.${mk} (plugins are found by discovery)`);
        else errors.push(`trainer.modnas.${mk}: unknown key (known: estim, export, metrics, callbacks, imports)`);
      }
    } else if (k === 'type') {
      if (v !== 'Trainer') errors.push(`trainer.type: expected Trainer, got ${JSON.stringify(v)}`);
    } else if (k === 'callbacks') {
      const list = Array.isArray(v) ? v : [v];
      if (!list.every((c) => c === 'ModNasTrainerCallback')) errors.push(`trainer.callbacks: expected ModNasTrainerCallback, got ${JSON.stringify(v)}`);
    } else if (k === 'optimizer') {
      mapOptimizer(v, args, errors);
    } else if (k === 'lr_scheduler') {
      mapScheduler(v, args, errors);
    } else if (k === 'batch_size') {
      args.batch_size = v;
    } else if (k === 'grad_clip') {
      args.grad_clip = v;
    } else if (VEGA_TRAINER_PLUMBING.includes(k)) {
      ignored.push(path);
    } else {
      errors.push(`${path}: unknown key (known: type, callbacks, modnas, optimizer, lr_scheduler, batch_size, epochs, valid_interval, lazy_built)`);
    }
  }
  if (Object.keys(args).length) out.trainer = { type: 'DefaultTrainer', args };
}

function mapOptimizer(v: Json, args: JsonObject, errors: string[]): void {
  if (!isObject(v) || typeof v.type !== 'string') {
    errors.push('trainer.optimizer: expected { type: SGD | Adam, params: {...} }');
    return;
  }
  const t = v.type.toLowerCase();
  if (t !== 'sgd' && t !== 'adam') errors.push(`trainer.optimizer.type: ${v.type} is not supported (SGD or Adam)`);
  args.optimizer = t;
  const p = isObject(v.params) ? v.params : {};
  for (const [k, val] of Object.entries(p)) {
    if (['lr', 'momentum', 'weight_decay', 'nesterov'].includes(k)) args[k] = val;
    else errors.push(`trainer.optimizer.params.${k}: unknown key (known: lr, momentum, weight_decay, nesterov)`);
  }
}

function mapScheduler(v: Json, args: JsonObject, errors: string[]): void {
  if (!isObject(v) || typeof v.type !== 'string') {
    errors.push('trainer.lr_scheduler: expected { type: CosineAnnealingLR | StepLR, params: {...} }');
    return;
  }
  const p = isObject(v.params) ? v.params : {};
  if (v.type === 'CosineAnnealingLR') {
    args.lr_scheduler = 'cosine';
    if (p.eta_min !== undefined) args.lr_min = p.eta_min;
  } else if (v.type === 'StepLR') {
    args.lr_scheduler = 'step';
    if (p.step_size !== undefined) args.step_size = p.step_size;
    if (p.gamma !== undefined) args.gamma = p.gamma;
  } else errors.push(`trainer.lr_scheduler.type: ${v.type} is not supported (CosineAnnealingLR or StepLR)`);
}

function mapDataset(v: Json, out: JsonObject, errors: string[]): void {
  if (!isObject(v) || typeof v.type !== 'string') {
    errors.push('dataset: expected { type: Cifar10, common: { data_path } }');
    return;
  }
  const common = isObject(v.common) ? v.common : {};
  const known: Record<string, string> = { Cifar10: 'CIFAR10', Mnist: 'MNIST', MNIST: 'MNIST', CIFAR10: 'CIFAR10' };
  const type = known[v.type] ?? v.type;
  const spec: JsonObject = { type };
  if (common.data_path !== undefined) spec.path = common.data_path;
  out.data = spec;
  if (common.train_portion !== undefined) out.data_provider = { ...(isObject(out.data_provider) ? out.data_provider : {}), train_portion: common.train_portion };
  if (common.batch_size !== undefined) out.__batch_size = common.batch_size;
}
