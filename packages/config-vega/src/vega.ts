import { ModnasError } from '@modnas/core';
import type { ConfigFormat, Json, JsonObject, PipelineStep } from '@modnas/config';
import { applyOverrides, deepMerge, isObject } from '@modnas/config';
import { TORCH_LR_SCHEDULERS, findTorchClass, mapTorchClass } from '@modnas/config-original';

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
  /** [native path, the file's own path] of every key moved, so errors name the file's key (seedPathOf). */
  origins: Array<[string, string]>;
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

/** A step of a VEGA `pipeline` file, ready to be mapped like a one-step file. */
export type SeedPipelineStep = PipelineStep;

/** Is this a VEGA pipeline file (`pipeline: [nas, fully_train]`)? */
export function isSeedPipeline(raw: JsonObject): boolean {
  return Array.isArray(raw.pipeline);
}

/**
 * The steps of a VEGA pipeline file, in order. A train step without a model of its own trains the
 * best architecture of the search step before it, in that step's search space (VEGA reads it from
 * the search step's output folder); `trainer.ref: <step>.trainer` starts from that step's trainer
 * (without its estimators: a train step trains one fixed network). Seed-key overrides without a
 * step name (`trainer.modnas.estim.search.epochs=2`) apply to every step that has that section.
 */
export function seedPipelineSteps(raw: JsonObject, where: string, overrides: readonly string[] = []): SeedPipelineStep[] {
  if (!Array.isArray(raw.pipeline) || raw.pipeline.length === 0) {
    throw new ModnasError('MODNAS_E_CONFIG_SEED', 'pipeline: expected a list of step names, such as [nas, fully_train]', { where: `${where}: pipeline` });
  }
  const names = raw.pipeline.map(String);
  const stepKeys = overrides.filter((o) => names.includes(o.split('.')[0]));
  const doc = applyOverrides(raw, stepKeys);
  const steps: SeedPipelineStep[] = [];
  let lastSearch: SeedPipelineStep | undefined;
  for (const name of names) {
    const own = doc[name];
    if (!isObject(own)) {
      throw new ModnasError('MODNAS_E_CONFIG_SEED', `pipeline step "${name}" has no section "${name}:" in the file`, { fix: `add a "${name}:" section or remove it from pipeline`, where: `${where}: ${name}` });
    }
    const stepType = isObject(own.pipe_step) ? own.pipe_step.type : undefined;
    const kind: SeedPipelineStep['kind'] = stepType === 'TrainPipeStep' ? 'train' : stepType === 'SearchPipeStep' ? 'search' : 'search_space' in own || 'search_algorithm' in own ? 'search' : 'train';
    let stepDoc: JsonObject = { ...own };
    const t = stepDoc.trainer;
    if (isObject(t) && typeof t.ref === 'string') {
      const [refStep, ...rest] = t.ref.split('.');
      const ref = rest.reduce<Json | undefined>((cur, k) => (isObject(cur) ? cur[k] : undefined), doc[refStep]);
      if (!isObject(ref)) throw new ModnasError('MODNAS_E_CONFIG_SEED', `${name}.trainer.ref: "${t.ref}" names no section of this file`, { fix: 'write ref: <step>.trainer, e.g. ref: nas.trainer', where: `${where}: ${name}.trainer.ref` });
      const { ref: _ref, ...mine } = t;
      const base = kind === 'train' ? Object.fromEntries(Object.entries(ref).filter(([k]) => k !== 'modnas' && k !== 'callbacks')) : ref;
      stepDoc.trainer = deepMerge(base, mine);
    }
    const hasModel = 'search_space' in stepDoc || 'model' in stepDoc;
    let from: string | undefined;
    if (kind === 'train' && !hasModel && lastSearch) {
      stepDoc = { search_space: lastSearch.doc.search_space, ...stepDoc };
      from = lastSearch.name;
    }
    // A train step drops the estimators of the trainer it refers to, and their overrides with them.
    const ownModnas = isObject(stepDoc.trainer) && 'modnas' in stepDoc.trainer;
    const mine = overrides.filter((o) => !stepKeys.includes(o) && o.split('.')[0] in stepDoc && (kind === 'search' || ownModnas || !o.startsWith('trainer.modnas.')));
    stepDoc = applyOverrides(stepDoc, mine);
    const step: SeedPipelineStep = { name, kind, doc: stepDoc, from };
    if (kind === 'search') lastSearch = step;
    steps.push(step);
  }
  return steps;
}

/** Top-level keys that exist only in the seed layout (an override on them edits the file's own keys). */
const SEED_ONLY_SECTIONS = ['search_space', 'search_algorithm', 'dataset', 'pipe_step', 'general', 'pipeline'];
const SEED_TRAINER_KEYS = ['modnas', 'optimizer', 'lr_scheduler', 'callbacks', 'valid_interval', 'lazy_built', 'epochs', 'ref', 'load_weights_file', 'report_freq'];

/**
 * Is `-o key=value` a key of the seed-format file itself (`trainer.modnas.estim.search.epochs`,
 * `search_space.custom.model.args.width_coeff`, `nas.dataset.common.batch_size`) rather than a
 * native key (`estim.search.epochs`, `trainer.batch_size`)? Seed keys are applied to the file
 * before it is translated, native keys after.
 */
export function isSeedOverride(override: string, doc: JsonObject): boolean {
  const [head, second] = override.slice(0, Math.max(0, override.indexOf('='))).trim().split('.');
  if (SEED_ONLY_SECTIONS.includes(head)) return true;
  if (Array.isArray(doc.pipeline) && doc.pipeline.map(String).includes(head)) return true;
  if (head === 'trainer') return second !== undefined && SEED_TRAINER_KEYS.includes(second);
  if (head === 'model') return second === 'model_desc';
  return false;
}

/**
 * Map the seed's VEGA-style sections onto the native format:
 *   search_space.custom.{model,construct,desc_construct,arch_desc} -> model, construct, ...
 *   model.model_desc.custom (a TrainPipeStep's model) -> the same
 *   search_algorithm.optim -> optim;  trainer.modnas.{estim,export} -> estim, export
 *   trainer.{optimizer,lr_scheduler,...} -> trainer options;  dataset -> data
 * A VEGA `pipeline` file is reduced to its first step here (`modnas run` runs every step in turn:
 * see seedPipelineSteps). `kind: 'train'` maps a TrainPipeStep: one DefaultEstimator of
 * `trainer.epochs` epochs unless the step names its own estimators, and its fixed-network
 * constructors build the network when there is no arch_desc.
 */
export function mapSeedFormat(raw: JsonObject, where: string, opts: { kind?: 'search' | 'train'; prefix?: string; overrides?: readonly string[] } = {}): SeedMapping {
  if (isSeedPipeline(raw)) {
    const steps = seedPipelineSteps(raw, where, opts.overrides);
    const [first, ...rest] = steps;
    const m = mapSeedFormat(first.doc, where, { kind: first.kind, prefix: first.name });
    m.ignored.push('pipeline');
    if ('general' in raw) m.ignored.push('general');
    if (rest.length) m.ignored.push(`pipeline steps after "${first.name}" here (modnas run <file> runs them in turn)`);
    return m;
  }
  const ignored: string[] = [];
  const errors: string[] = [];
  const pre = opts.prefix ? `${opts.prefix}.` : '';
  const origins: Array<[string, string]> = [];
  const from = (native: string, seedPath: string): void => {
    origins.push([native, pre + seedPath]);
  };
  const src = raw;
  const out: JsonObject = {};
  const native = new Set(['name', 'output_dir', 'seed', 'backend', 'log_level', 'quick', 'data', 'data_provider', 'metrics', 'callbacks', 'space']);

  for (const [key, value] of Object.entries(src)) {
    if (native.has(key)) {
      out[key] = value;
      continue;
    }
    switch (key) {
      case 'search_space':
        mapSearchSpace(value, out, errors, ignored, 'search_space', from);
        break;
      case 'model':
        // A TrainPipeStep's network: model.model_desc holds what search_space holds in a search step.
        if (!isObject(value) || !isObject(value.model_desc)) {
          errors.push(`model: expected { model_desc: { modules: [custom], custom: { model, ... } } }`);
          break;
        }
        for (const k of Object.keys(value)) if (k !== 'model_desc') errors.push(`model.${k}: unknown key (known: model_desc)`);
        mapSearchSpace(value.model_desc, out, errors, ignored, 'model.model_desc', from);
        break;
      case 'search_algorithm':
        if (!isObject(value)) {
          errors.push(`search_algorithm: expected a section`);
          break;
        }
        for (const [k, v] of Object.entries(value)) {
          if (k === 'type') {
            if (v !== 'ModNasAlgorithm') errors.push(`search_algorithm.type: expected ModNasAlgorithm, got ${JSON.stringify(v)}`);
          } else if (k === 'optim') {
            out.optim = v;
            from('optim', 'search_algorithm.optim');
          } else errors.push(`search_algorithm.${k}: unknown key (known: type, optim)`);
        }
        break;
      case 'trainer':
        mapTrainer(value, out, errors, ignored, from, opts.kind === 'train');
        break;
      case 'dataset':
        mapDataset(value, out, errors, from);
        break;
      case 'pipe_step':
        ignored.push('pipe_step');
        break;
      default:
        errors.push(`${key}: unknown section (the seed format has search_space, search_algorithm, trainer, dataset; a TrainPipeStep also model.model_desc)`);
    }
  }
  // VEGA put the batch size under dataset.common; here it is the trainer's.
  if (out.__batch_size !== undefined) {
    const t = isObject(out.trainer) ? out.trainer : { type: 'DefaultTrainer' };
    if (t.batch_size === undefined) {
      t.batch_size = out.__batch_size;
      from('trainer.batch_size', 'dataset.common.batch_size');
    }
    out.trainer = t;
    delete out.__batch_size;
  }
  if (opts.kind === 'train') {
    // A TrainPipeStep trains one fixed network: a plain training estimator for trainer.epochs.
    if (out.estim === undefined) {
      const epochs = typeof out.__epochs === 'number' ? out.__epochs : 1;
      out.estim = { train: { type: 'DefaultEstimator', epochs } };
      from('estim.train.epochs', 'trainer.epochs');
    }
    // Without an arch_desc, the fixed-network constructors (augment / desc_construct) build it.
    if (out.arch_desc === undefined && out.construct === undefined && out.desc_construct !== undefined) {
      out.construct = out.desc_construct;
      delete out.desc_construct;
      const o = origins.find(([n]) => n === 'desc_construct');
      if (o) o[0] = 'construct';
    }
  }
  delete out.__epochs;
  // each said with why: VEGA's own keys are its plumbing
  for (let i = 0; i < ignored.length; i++) ignored[i] = pre + ignored[i] + (ignored[i].includes('(') ? '' : ' (VEGA plumbing, left out)');
  if (errors.length) {
    throw new ModnasError('MODNAS_E_CONFIG_SEED', `the seed-format config has ${errors.length} problem(s):\n  - ${errors.map((e) => pre + e).join('\n  - ')}`, {
      fix: 'follow the layout of the seed examples (search_space.custom.model / construct, search_algorithm.optim, trainer.modnas.estim)',
      where,
    });
  }
  return { config: out, ignored, origins };
}

function mapSearchSpace(value: Json, out: JsonObject, errors: string[], ignored: string[], at: string, from: (native: string, seedPath: string) => void): void {
  if (!isObject(value)) {
    errors.push(`${at}: expected a section`);
    return;
  }
  const modules = value.modules ?? ['custom'];
  if (!Array.isArray(modules) || modules.length !== 1 || typeof modules[0] !== 'string') {
    errors.push(`${at}.modules: expected one module name such as ['custom'], got ${JSON.stringify(modules)}`);
    return;
  }
  const modName = modules[0];
  if (value.type !== undefined && value.type !== 'SearchSpace') errors.push(`${at}.type: expected SearchSpace, got ${JSON.stringify(value.type)}`);
  for (const k of Object.keys(value)) {
    if (!['type', 'modules', modName].includes(k)) errors.push(`${at}.${k}: unknown key (known: type, modules, ${modName})`);
  }
  const custom = value[modName];
  if (!isObject(custom)) {
    errors.push(`${at}.${modName}: expected a section with model and construct`);
    return;
  }
  for (const [k, v] of Object.entries(custom)) {
    const path = `${at}.${modName}.${k}`;
    switch (k) {
      case 'type':
        if (v !== 'ModNasArchSpace') errors.push(`${path}: expected ModNasArchSpace, got ${JSON.stringify(v)}`);
        break;
      case 'model':
      case 'construct':
      case 'desc_construct':
      case 'arch_desc':
      case 'data':
        out[k] = v;
        from(k, path);
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
          if (sk === 'construct') {
            const to = k === 'search' ? 'construct' : 'desc_construct';
            out[to] = sv;
            from(to, `${path}.construct`);
          } else if (sk === 'mixed_op' && k === 'search') {
            out.construct = { ...(isObject(out.construct) ? out.construct : {}), mixed_op: sv };
            from('construct.mixed_op', `${path}.mixed_op`);
          } else errors.push(`${path}.${sk}: unknown key (known: construct${k === 'search' ? ', mixed_op' : ''})`);
        }
        break;
      case 'mixed_op':
        out.construct = { ...(isObject(out.construct) ? out.construct : {}), mixed_op: v };
        from('construct.mixed_op', path);
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
function mapSeedEstims(v: Json, ignored: string[], from: (native: string, seedPath: string) => void): Json {
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
      else if (k === 'subnet_epochs') {
        s.train_epochs = val;
        from(`estim.${name}.train_epochs`, `trainer.modnas.estim.${name}.subnet_epochs`);
      } else s[k] = val;
    }
    out[name] = s;
  }
  return out;
}

function mapTrainer(value: Json, out: JsonObject, errors: string[], ignored: string[], from: (native: string, seedPath: string) => void, trainStep: boolean): void {
  if (!isObject(value)) {
    errors.push('trainer: expected a section');
    return;
  }
  // Trainer options go beside `type`, so a native -o trainer.batch_size=8 sets the same key.
  const args: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    const path = `trainer.${k}`;
    if (k === 'modnas') {
      if (!isObject(v)) {
        errors.push('trainer.modnas: expected a section with estim');
        continue;
      }
      for (const [mk, mv] of Object.entries(v)) {
        if (mk === 'estim') out.estim = mapSeedEstims(mv, ignored, from);
        else if (mk === 'export' || mk === 'metrics' || mk === 'callbacks' || mk === 'optim') out[mk] = mv;
        else if (mk === 'import' || mk === 'imports') {
          ignored.push(`trainer.modnas.${mk} (plugins are found by discovery)`);
          continue;
        } else {
          errors.push(`trainer.modnas.${mk}: unknown key (known: estim, export, metrics, callbacks, imports)`);
          continue;
        }
        from(mk, `trainer.modnas.${mk}`);
      }
    } else if (k === 'type') {
      if (v !== 'Trainer') errors.push(`trainer.type: expected Trainer, got ${JSON.stringify(v)}`);
    } else if (k === 'callbacks') {
      const list = Array.isArray(v) ? v : [v];
      if (!list.every((c) => c === 'ModNasTrainerCallback')) errors.push(`trainer.callbacks: expected ModNasTrainerCallback, got ${JSON.stringify(v)}`);
    } else if (k === 'optimizer' || k === 'lr_scheduler') {
      mapTorch(k, v, args, errors, ignored, from);
    } else if (k === 'batch_size' || k === 'grad_clip') {
      args[k] = v;
      from(`trainer.${k}`, path);
    } else if (k === 'epochs' && trainStep) {
      // A TrainPipeStep's epochs are its training epochs.
      out.__epochs = v;
    } else if (VEGA_TRAINER_PLUMBING.includes(k)) {
      ignored.push(path);
    } else {
      errors.push(`${path}: unknown key (known: type, callbacks, modnas, optimizer, lr_scheduler, batch_size, epochs, valid_interval, lazy_built)`);
    }
  }
  if (Object.keys(args).length) out.trainer = { type: 'DefaultTrainer', ...args };
}

/** VEGA's `{ type, params }` of a torch optimizer or LR scheduler: the original format's table (@modnas/config-original). */
function mapTorch(kind: 'optimizer' | 'lr_scheduler', v: Json, args: JsonObject, errors: string[], ignored: string[], from: (native: string, seedPath: string) => void): void {
  if (!isObject(v) || typeof v.type !== 'string') {
    errors.push(`trainer.${kind}: expected { type: ${kind === 'optimizer' ? 'SGD | Adam | ...' : 'CosineAnnealingLR | StepLR | ...'}, params: {...} }`);
    return;
  }
  const params = isObject(v.params) ? { ...v.params } : {};
  const cosine = kind === 'lr_scheduler' && findTorchClass(TORCH_LR_SCHEDULERS, v.type)?.native === 'cosine';
  if (cosine && 'T_max' in params) {
    // the period is the epochs of each estimator here (DefaultTrainer's t_max 0), as it always was read
    delete params.T_max;
    ignored.push(`trainer.lr_scheduler.params.T_max (the cosine period is the epochs of each estimator)`);
  }
  const m = mapTorchClass(kind, v.type, params, `trainer.${kind}.type`, `trainer.${kind}.params`);
  Object.assign(args, m.options);
  for (const [native, seedPath] of m.origins) from(native, seedPath);
  errors.push(...m.errors);
  ignored.push(...m.notes);
  // PyTorch's defaults where DefaultTrainer's would change the method (VEGA builds the torch class)
  for (const [k, val] of Object.entries(m.defaults)) {
    if (k in args) continue;
    args[k] = val;
    from(`trainer.${k}`, `trainer.${kind}.type`);
  }
}

function mapDataset(v: Json, out: JsonObject, errors: string[], from: (native: string, seedPath: string) => void): void {
  if (!isObject(v) || typeof v.type !== 'string') {
    errors.push('dataset: expected { type: Cifar10, common: { data_path } }');
    return;
  }
  const common = isObject(v.common) ? v.common : {};
  const known: Record<string, string> = { Cifar10: 'CIFAR10', Mnist: 'MNIST', MNIST: 'MNIST', CIFAR10: 'CIFAR10' };
  const type = known[v.type] ?? v.type;
  const spec: JsonObject = { type };
  from('data', 'dataset');
  if (common.data_path !== undefined) {
    spec.path = common.data_path;
    from('data.path', 'dataset.common.data_path');
  }
  out.data = spec;
  if (common.train_portion !== undefined) {
    out.data_provider = { ...(isObject(out.data_provider) ? out.data_provider : {}), train_portion: common.train_portion };
    from('data_provider.train_portion', 'dataset.common.train_portion');
  }
  if (common.batch_size !== undefined) out.__batch_size = common.batch_size;
}

/** The seed's VEGA-style layout as a config format (register it with @modnas/config's registerConfigFormat). */
export const vegaFormat: ConfigFormat = {
  name: 'vega',
  detect: isSeedFormat,
  toNative: mapSeedFormat,
  isOverride: isSeedOverride,
  fillDefaults: fillSeedDefaults,
  isPipeline: isSeedPipeline,
  pipelineSteps: seedPipelineSteps,
};
