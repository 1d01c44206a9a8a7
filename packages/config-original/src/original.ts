import { ModnasError, looseName } from '@modnas/core';
import type { ConfigFormat, FormatMapping, Json, JsonObject } from '@modnas/config';
import { applyOverrides, deepMerge, isObject } from '@modnas/config';
import { addCriteriaToEstimators, mapCriterion } from './criterion.js';
import { mapTorchClass } from './torch-optim.js';

/**
 * Keys only the original library's config has (CreeperLin/modnas, `modnas/utils/wrapper.py`):
 * a document with one of them is read in its format.
 */
const ORIGINAL_KEYS = ['mixed_op', 'routine', 'train_data', 'valid_data', 'data_loader', 'ops', 'init', 'device', 'device_ids', 'chkpt', 'import', 'callback', 'expman', 'logging', 'predefined', 'defaults', 'override', 'hp_space', 'search', 'augment', 'hptune'];
/**
 * Keys both formats share with one meaning: passed through as they are. (`writer { enabled }` is
 * shared too, so it does not mark a document as the original's: every native config.yaml has it;
 * it is mapped below, where the original's SummaryWriter options are said and left out.)
 */
const SHARED = ['name', 'seed', 'quick', 'output_dir', 'log_level', 'model', 'space', 'optim', 'export', 'metrics', 'store', 'arch_desc'];
/** The original's routines (`-r`): the section of the same name is applied over the config. */
const ROUTINES = ['search', 'augment', 'hptune', 'pipeline'];
/** Plumbing of the PyTorch library with no meaning here, each with why. */
const IGNORED: Record<string, string> = {
  ops: 'PyTorch op settings (ops_order, affine): the primitives here have theirs',
  init: 'the weight initializer constructor: the layers here initialise themselves',
  device: 'devices: the tensor backend picks the device (--backend)',
  device_ids: 'device ids: the tensor backend picks the device (--backend)',
  import: 'Python modules to import: plugins are found by discovery',
  logging: "Python logging settings: logs go to the experiment's logs/run.log",
  predefined: 'predefined component imports: plugins are found by discovery',
  defaults: "the original's config defaults",
  backend: "the original's backend (torch): the tensor backend here is picked by --backend or MODNAS_BACKEND",
};

/** Does this document use the original library's own layout? */
export function isOriginalFormat(doc: JsonObject): boolean {
  if (ORIGINAL_KEYS.some((k) => k in doc)) return true;
  if (Array.isArray(doc.estim)) return true;
  // a named map of trainers ({ default: { type, args } }) rather than one trainer
  const t = doc.trainer;
  if (isObject(t) && !('type' in t) && Object.keys(t).length > 0 && Object.values(t).every((v) => isObject(v) || typeof v === 'string')) return true;
  const dp = doc.data_provider;
  return isObject(dp) && ('type' in dp || 'args' in dp);
}

/** A component spec's options: those beside `type` and those under `args` (the original puts them there). */
function optionsOf(spec: Json): JsonObject {
  if (!isObject(spec)) return {};
  const { type: _t, args, ...rest } = spec;
  return { ...rest, ...(isObject(args) ? args : {}) };
}

const typeOf = (spec: Json): string | undefined => (typeof spec === 'string' ? spec : isObject(spec) && typeof spec.type === 'string' ? spec.type : undefined);

interface Ctx {
  out: JsonObject;
  errors: string[];
  notes: string[];
  from(native: string, own: string): void;
}

/**
 * Map the original library's config onto the native one:
 *   routine + its section (search / augment) -> applied over the rest, as the original's `-r` does
 *   mixed_op { type, args, candidates } -> construct.mixed_op (DefaultMixedOpConstructor), first in the chain
 *   construct.<name> -> construct.<name> (after mixed_op; same names merge)
 *   arch_desc -> arch_desc, built by desc_construct.arch_desc (DefaultSlotArchDescConstructor) unless construct names one
 *   estim (a map, or a list named by `name` or position) -> estim; trainer { <name>: spec } -> trainer
 *   data / train_data / valid_data / data_loader / data_provider -> data, data_provider, trainer.batch_size
 *   expman.root_dir -> output_dir; callback -> callbacks; writer.enabled -> writer.enabled; the PyTorch plumbing (ops, init, device...) is ignored, each said
 */
export function mapOriginalFormat(input: JsonObject, where: string): FormatMapping {
  const ignored: string[] = [];
  const errors: string[] = [];
  const origins: Array<[string, string]> = [];
  const out: JsonObject = {};
  const ctx: Ctx = { out, errors, notes: ignored, from: (n, o) => void origins.push([n, o]) };
  let doc = input;

  // the config's own overrides, then its routine's section
  if (doc.override !== undefined) {
    const o = doc.override;
    const { override: _o, ...rest } = doc;
    if (isObject(o)) doc = deepMerge(rest, o);
    else if (Array.isArray(o) && o.every((x) => typeof x === 'string')) doc = applyOverrides(rest, o);
    else errors.push('override: expected a map of keys, or a list of "key=value"');
  }
  const routine = doc.routine;
  if (routine !== undefined && routine !== null) {
    if (typeof routine !== 'string' || !['default', ...ROUTINES].includes(routine)) errors.push(`routine: expected one of default, ${ROUTINES.join(', ')}, got ${JSON.stringify(routine)}`);
    else if (routine === 'pipeline') errors.push('routine: pipeline is not available yet (PipelineEstim is not implemented here)');
    else if (routine !== 'default') {
      const section = doc[routine];
      if (section !== undefined && !isObject(section)) errors.push(`${routine}: expected a section of config keys (applied with routine: ${routine})`);
      else {
        ignored.push(`routine ${routine}: its section applied over the config`);
        doc = deepMerge(doc, section ?? {});
      }
      if (routine === 'hptune') doc = hptuneSpace(doc, ignored);
    }
  }
  for (const r of ROUTINES) if (r in doc && r !== routine) ignored.push(`${r} (the section of routine ${r}; this run's routine is ${typeof routine === 'string' ? routine : 'default'})`);

  for (const [key, value] of Object.entries(doc)) {
    if (key === 'routine' || ROUTINES.includes(key) || key === 'override') continue;
    if (key in IGNORED) {
      ignored.push(`${key} (${IGNORED[key]})`);
      continue;
    }
    if (SHARED.includes(key)) {
      out[key] = value;
      continue;
    }
    switch (key) {
      case 'mixed_op':
      case 'construct':
      case 'chkpt':
        break; // below, in chain order
      case 'estim':
        mapEstims(value, ctx);
        break;
      case 'trainer':
        mapTrainers(value, doc.estim, ctx);
        break;
      case 'data':
      case 'train_data':
      case 'valid_data':
      case 'data_loader':
      case 'data_provider':
        break; // below, together
      case 'expman':
        if (isObject(value)) {
          for (const [k, v] of Object.entries(value)) {
            if (k === 'root_dir') {
              out.output_dir = v;
              ctx.from('output_dir', 'expman.root_dir');
            } else ignored.push(`expman.${k} (the experiment folder is <output_dir>/<name>)`);
          }
        } else errors.push('expman: expected a section (root_dir)');
        break;
      case 'callback':
        mapCallbacks(value, ctx);
        break;
      case 'writer':
        mapWriter(value, ctx);
        break;
      case 'hp_space':
        if (routine !== 'hptune') ignored.push('hp_space (the hyperparameters of routine hptune; this run\'s routine is not hptune)');
        break;
      case 'callbacks':
      case 'desc_construct':
      case 'backend_options':
        out[key] = value;
        break;
      default:
        errors.push(`${key}: unknown key (the original's keys: model, mixed_op, construct, arch_desc, optim, estim, trainer, data, data_loader, export, callback, routine, expman, name...)`);
    }
  }
  mapChain(doc, ctx);
  mapData(doc, ctx);
  if (doc.chkpt !== undefined && doc.chkpt !== null) errors.push('chkpt: a PyTorch checkpoint cannot be loaded here; continue a run of this tool with `modnas run <config> --resume`, or train a found architecture with -g <arch.yaml>');
  if (errors.length) {
    throw new ModnasError('MODNAS_E_CONFIG_ORIGINAL', `the config in the original ModularNAS format has ${errors.length} problem(s):\n  - ${errors.join('\n  - ')}`, {
      fix: "use the original's keys as its README and wrapper.py define them (model, mixed_op, construct, optim, estim, trainer, data, data_loader, routine), or write the native format",
      where,
    });
  }
  return { config: out, ignored, origins };
}

/**
 * writer { enabled } (the original's get_writer(expman.subdir('writer'), **config.writer)) ->
 * writer.enabled. The original writes no TensorBoard files unless enabled; here a run writes them
 * unless `enabled: false`, so only an explicit value is carried over.
 */
function mapWriter(value: Json, ctx: Ctx): void {
  if (value === null) return;
  if (!isObject(value)) {
    ctx.errors.push(`writer: expected { enabled: true | false }, got ${JSON.stringify(value)}`);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === 'enabled') {
      ctx.out.writer = { enabled: v };
      ctx.from('writer.enabled', 'writer.enabled');
    } else ctx.notes.push(`writer.${k} (a SummaryWriter option: the event files go to writers/<run id>/ of the experiment folder)`);
  }
}

/** The construct chain: mixed_op first (the original's DefaultMixedOpConstructor), then the file's construct entries; arch_desc gets its constructor. */
/**
 * Routine hptune, as the original's apply_hptune_config: without constructors of its own, the
 * config's hp_space becomes the search space (DefaultHParamSpaceConstructor); its estimator
 * (HPTuneEstim) runs a trial experiment per hyperparameter set.
 */
function hptuneSpace(doc: JsonObject, notes: string[]): JsonObject {
  const con = doc.construct;
  if (con !== undefined && con !== null && !(isObject(con) && Object.keys(con).length === 0) && !(Array.isArray(con) && con.length === 0)) {
    if (doc.hp_space !== undefined) notes.push('hp_space (routine hptune: the config has constructors of its own, which declare the space)');
    return doc;
  }
  notes.push('routine hptune: hp_space declared by construct.hparams (DefaultHParamSpaceConstructor)');
  // the best hyperparameters written out, as the original returns them (best_arch_desc)
  const out: JsonObject = { ...doc, construct: { hparams: { type: 'DefaultHParamSpaceConstructor', args: { params: doc.hp_space ?? {} } } } };
  if (doc.export === undefined) out.export = { default: { type: 'DefaultParamsExporter' } };
  return out;
}

function mapChain(doc: JsonObject, ctx: Ctx): void {
  const chain: Array<[string, Json]> = [];
  const mixed = doc.mixed_op;
  if (mixed !== undefined) {
    if (!isObject(mixed) || typeof mixed.type !== 'string') ctx.errors.push('mixed_op: expected { type: <mixed op>, args: {...}, candidates: [...] }');
    else {
      const { candidates, primitives, ...op } = mixed;
      const spec: JsonObject = { type: 'DefaultMixedOpConstructor', mixed_op: op };
      const cands = candidates ?? primitives;
      if (cands !== undefined) spec.primitives = cands;
      chain.push(['mixed_op', spec]);
      ctx.from('construct.mixed_op.mixed_op', 'mixed_op');
      ctx.from('construct.mixed_op.primitives', candidates !== undefined ? 'mixed_op.candidates' : 'mixed_op.primitives');
    }
  }
  const con = doc.construct;
  if (con !== undefined) {
    const entries: Array<[string, Json]> = Array.isArray(con) ? con.map((c, i) => [String(i), c]) : isObject(con) ? Object.entries(con) : [];
    if (!Array.isArray(con) && !isObject(con)) ctx.errors.push('construct: expected a map of constructors { <name>: { type, args } }');
    for (const [name, spec] of entries) {
      const at = chain.findIndex(([n]) => n === name);
      if (at >= 0) chain[at] = [name, isObject(chain[at][1]) && isObject(spec) ? deepMerge(chain[at][1], spec) : spec];
      else chain.push([name, spec]);
      ctx.from(`construct.${name}`, `construct.${name}`);
    }
  }
  if (doc.arch_desc !== undefined && doc.arch_desc !== null) {
    // the original builds the network from arch_desc with DefaultSlotArchDescConstructor (or the
    // construct entry named arch_desc); here a fixed network is built by desc_construct
    const own = chain.findIndex(([n]) => n === 'arch_desc');
    const desc = own >= 0 ? chain.splice(own, 1)[0][1] : 'DefaultSlotArchDescConstructor';
    // its options flat, without its own arch_desc: it builds the top-level one
    const { arch_desc: _a, ...opts } = optionsOf(desc);
    ctx.out.desc_construct = { arch_desc: { type: typeOf(desc) ?? 'DefaultSlotArchDescConstructor', ...opts } };
    if (chain.length) ctx.notes.push(`construct (${chain.map(([n]) => n).join(', ')}): the network is built from arch_desc`);
    return;
  }
  if (chain.length) ctx.out.construct = Object.fromEntries(chain);
}

function mapEstims(value: Json, ctx: Ctx): void {
  const entries: Array<[string, Json]> = Array.isArray(value) ? value.map((e, i) => [isObject(e) && typeof e.name === 'string' ? e.name : String(i), e]) : isObject(value) ? Object.entries(value) : [];
  if (!Array.isArray(value) && !isObject(value)) {
    ctx.errors.push('estim: expected a map of estimators { <name>: { type, epochs, ... } } or a list');
    return;
  }
  const estim: JsonObject = {};
  entries.forEach(([name, spec], i) => {
    const own = Array.isArray(value) ? `estim.${i}` : `estim.${name}`;
    if (!isObject(spec) || typeof spec.type !== 'string') {
      ctx.errors.push(`${own}: expected { type: <estimator>, ... }`);
      return;
    }
    const { name: _n, trainer: _t, chkpt, ...rest } = spec;
    if (chkpt !== undefined && chkpt !== null) ctx.errors.push(`${own}.chkpt: a PyTorch checkpoint cannot be loaded here`);
    estim[name] = rest;
    ctx.from(`estim.${name}`, own);
  });
  ctx.out.estim = estim;
}

/** The trainer the estimators use: the one named `default`, or the only one (one trainer for every estimator here). */
function mapTrainers(value: Json, estims: Json, ctx: Ctx): void {
  if (!isObject(value)) {
    ctx.errors.push('trainer: expected a map of trainers { <name>: { type, args } }');
    return;
  }
  if ('type' in value) {
    ctx.out.trainer = value; // one trainer, written the native way
    return;
  }
  const named = Object.keys(value);
  const used = new Set<string>();
  const list: Json[] = Array.isArray(estims) ? estims : isObject(estims) ? Object.values(estims) : [];
  for (const e of list) if (isObject(e) && typeof e.trainer === 'string') used.add(e.trainer);
  const pick = used.size === 1 ? [...used][0] : 'default' in value ? 'default' : named.length === 1 ? named[0] : undefined;
  if (used.size > 1 || pick === undefined || !(pick in value)) {
    ctx.errors.push(`trainer: ${named.length} trainers (${named.join(', ')})${used.size ? `, estimators naming ${[...used].join(', ')}` : ''}: one trainer serves every estimator here; keep one (or name it default)`);
    return;
  }
  for (const n of named) if (n !== pick) ctx.notes.push(`trainer.${n} (no estimator uses it)`);
  mapTrainer(value[pick], `trainer.${pick}`, ctx);
}

function mapTrainer(spec: Json, own: string, ctx: Ctx): void {
  const type = typeOf(spec);
  if (!type) {
    ctx.errors.push(`${own}: expected { type: DefaultTrainer, args: {...} }`);
    return;
  }
  const t: JsonObject = { ...(isObject(ctx.out.trainer) ? ctx.out.trainer : {}), type: /^(Default|ImageCls)Trainer$/.test(type) ? 'DefaultTrainer' : type };
  ctx.from('trainer', own);
  const torchDefaults: JsonObject = {};
  let defaultsAt = own;
  for (const [k, v] of Object.entries(optionsOf(spec))) {
    const at = isObject(spec) && isObject(spec.args) && k in spec.args ? `${own}.args.${k}` : `${own}.${k}`;
    if (k === 'optimizer' || k === 'lr_scheduler') {
      // torch.optim / torch.optim.lr_scheduler classes by name, their args renamed (torch-optim.ts)
      const m = mapTorchClass(k, typeOf(v) ?? v, optionsOf(v), at, `${at}.args`);
      Object.assign(t, m.options);
      Object.assign(torchDefaults, m.defaults);
      for (const [native, from] of m.origins) ctx.from(native, from);
      ctx.errors.push(...m.errors);
      ctx.notes.push(...m.notes);
      if (Object.keys(m.defaults).length) defaultsAt = at;
    } else if (k === 'w_grad_clip') {
      t.grad_clip = v;
      ctx.from('trainer.grad_clip', at);
    } else if (k === 'criterion') {
      // CrossEntropyLoss: the task loss; label smoothing: the trainer's; others: loss components in each estimator's criterion (criterion.ts)
      const m = mapCriterion(v, at);
      if (m.labelSmoothing !== undefined) {
        t.label_smoothing = m.labelSmoothing;
        ctx.from('trainer.label_smoothing', at);
      }
      addCriteriaToEstimators(ctx.out, m.losses);
      ctx.errors.push(...m.errors);
    } else if (k === 'device' || k === 'expman' || k === 'writer') {
      ctx.notes.push(`${at} (${k}: PyTorch plumbing)`);
    } else {
      t[k] = v; // a native trainer option (lr, batch_size, ...): validated with the trainer's schema
      ctx.from(`trainer.${k}`, at);
    }
  }
  // PyTorch's default of a key the optimizer changes in kind (AdamW's decay, RMSprop's momentum...),
  // where nothing in the spec set the key: the original built the torch class with its defaults
  for (const [k, v] of Object.entries(torchDefaults)) {
    if (k in t) continue;
    t[k] = v;
    ctx.from(`trainer.${k}`, defaultsAt);
  }
  ctx.out.trainer = t;
}

/** The original's data loaders; both split one dataset into training and validation batches, as the data provider here does. */
const LOADERS = ['DefaultDataLoader', 'ImageClsDataLoader'];

/**
 * The original's RandData { data_spec: [[shape, dtype, range], ...], data_size }: an image tensor
 * [C, H, W] (float) and a label in [0, n) (int), as the Synthetic dataset of the same shapes.
 */
function randData(o: JsonObject, ctx: Ctx): JsonObject | undefined {
  const spec = o.data_spec;
  const fail = (why: string): undefined => {
    ctx.errors.push(`data.args.data_spec: ${why} (RandData here takes [[[C, H, H], float, null], [[], int, [0, classes]]])`);
    return undefined;
  };
  if (!Array.isArray(spec) || spec.length !== 2 || !spec.every(Array.isArray)) return fail(`expected an image spec and a label spec, got ${JSON.stringify(spec)}`);
  const [image, label] = spec as Json[][];
  const shape = image[0];
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && (d as number) > 0) || shape[1] !== shape[2]) return fail(`the image shape must be [C, H, H] of positive integers, got ${JSON.stringify(shape)}`);
  const range = label[2];
  if (!Array.isArray(range) || range.length !== 2 || range[0] !== 0 || !Number.isInteger(range[1]) || (range[1] as number) < 2) return fail(`the label range must be [0, classes] with at least 2 classes, got ${JSON.stringify(range)}`);
  const size = o.data_size ?? 128;
  if (!Number.isInteger(size) || (size as number) < 1) return fail(`data_size must be a positive integer, got ${JSON.stringify(size)}`);
  return { type: 'Synthetic', size, image_size: shape[1], channels: shape[0], num_classes: range[1] };
}

/** data / train_data / valid_data (ImageClsData { dataset, root }, RandData) and data_loader (ImageClsDataLoader { trn_batch_size, train_size, ... }). */
function mapData(doc: JsonObject, ctx: Ctx): void {
  const data = doc.data ?? doc.train_data;
  if (doc.valid_data !== undefined) ctx.notes.push('valid_data (the validation split comes from the training data: data_provider.train_portion)');
  if (data !== undefined) {
    const type = typeOf(data);
    const o = optionsOf(data);
    if (type === 'ImageClsData' || type === 'ImageCls') {
      const ds = typeof o.dataset === 'string' ? o.dataset.toLowerCase() : '';
      const known: Record<string, string> = { mnist: 'MNIST', cifar10: 'CIFAR10' };
      if (!(ds in known)) ctx.errors.push(`data.args.dataset: ${JSON.stringify(o.dataset)} is not available (mnist or cifar10; a folder of images: { type: ImageFolder, path })`);
      else {
        ctx.out.data = { type: known[ds] };
        ctx.from('data', 'data');
        for (const k of Object.keys(o)) if (k !== 'dataset') ctx.notes.push(`data.args.${k} (${k === 'root' ? `the ${known[ds]} plugin reads its installed copy` : 'a PyTorch transform option'})`);
      }
    } else if (type !== undefined && looseName(type) === looseName('RandData')) {
      const synthetic = randData(o, ctx);
      if (synthetic) {
        ctx.out.data = synthetic;
        ctx.from('data', doc.data !== undefined ? 'data' : 'train_data');
        ctx.notes.push("data: RandData's random tensors are the Synthetic dataset here: class templates plus noise, of the same shapes and size (learnable, unlike pure noise)");
      }
    } else if (type) {
      ctx.out.data = data; // a dataset component of this tool (MNIST, CIFAR10, ImageFolder, ...)
      ctx.from('data', doc.data !== undefined ? 'data' : 'train_data');
    } else ctx.errors.push('data: expected { type: ImageClsData, args: { dataset: mnist } } or a dataset of this tool');
  }
  const provider: JsonObject = {};
  const loader = doc.data_loader;
  const loaderType = typeOf(loader);
  if (loaderType !== undefined && !LOADERS.some((l) => looseName(l) === looseName(loaderType))) {
    ctx.errors.push(`data_loader.type: ${JSON.stringify(loaderType)} is not one of the original's data loaders (${LOADERS.join(', ')})`);
  }
  if (loader !== undefined) {
    const o = optionsOf(loader);
    for (const [k, v] of Object.entries(o)) {
      if (k === 'trn_batch_size') {
        ctx.out.trainer = { type: 'DefaultTrainer', ...(isObject(ctx.out.trainer) ? ctx.out.trainer : {}), batch_size: v };
        ctx.from('trainer.batch_size', 'data_loader.args.trn_batch_size');
      } else if (k === 'train_size' || k === 'valid_size') {
        if (typeof v === 'number' && v > 0) {
          provider[k] = v;
          ctx.from(`data_provider.${k}`, `data_loader.args.${k}`);
        }
      } else if (k === 'valid_ratio') {
        if (typeof v === 'number' && v > 0 && v < 1) {
          provider.train_portion = 1 - v;
          ctx.from('data_provider.train_portion', 'data_loader.args.valid_ratio');
        }
      } else ctx.notes.push(`data_loader.args.${k} (${k === 'val_batch_size' ? 'one batch size for training and validation: trn_batch_size' : 'a PyTorch loader option'})`);
    }
  }
  const dp = doc.data_provider;
  if (isObject(dp)) {
    for (const [k, v] of Object.entries(optionsOf(dp))) {
      if (['train_portion', 'train_size', 'valid_size'].includes(k)) provider[k] = v;
      else ctx.notes.push(`data_provider.${k} (PyTorch plumbing)`);
    }
    const dpType = typeOf(dp);
    if (dpType !== undefined && looseName(dpType) !== looseName('DefaultDataProvider')) ctx.errors.push(`data_provider.type: ${JSON.stringify(dpType)} is not the original's data provider (DefaultDataProvider)`);
  }
  if (Object.keys(provider).length) ctx.out.data_provider = provider;
}

/** callback { <name>: spec, default: false } -> callbacks (the original's default reporters are this tool's logs). */
function mapCallbacks(value: Json, ctx: Ctx): void {
  if (!isObject(value)) {
    ctx.errors.push('callback: expected a map of callbacks { <name>: <type> or { type, args } }');
    return;
  }
  const cbs: JsonObject = {};
  for (const [name, spec] of Object.entries(value)) {
    if (name === 'default') {
      ctx.notes.push("callback.default (the original's default reporters: here the run's logs and progress)");
      continue;
    }
    cbs[name] = typeof spec === 'string' ? { type: spec } : spec;
    ctx.from(`callbacks.${name}`, `callback.${name}`);
  }
  if (Object.keys(cbs).length) ctx.out.callbacks = cbs;
}

/** The original library's config format, for @modnas/config's registerConfigFormat. */
export const originalFormat: ConfigFormat = {
  name: 'original',
  detect: isOriginalFormat,
  toNative: (doc, where) => mapOriginalFormat(doc, where),
  // `-o` on the original's own keys (mixed_op.*, trainer.<name>.*, data_loader.*, routine, the routine sections) is applied before translating
  isOverride: (o, doc) => {
    const top = o.split('=')[0].split('.')[0];
    return ORIGINAL_KEYS.includes(top) || top === 'arch_desc' || (top === 'trainer' && isObject(doc.trainer) && !('type' in doc.trainer)) || (top === 'estim' && Array.isArray(doc.estim)) || (top in doc && ['data', 'data_provider', 'construct'].includes(top));
  },
};
