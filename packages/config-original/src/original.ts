import { ModnasError } from '@modnas/core';
import type { ConfigFormat, FormatMapping, Json, JsonObject } from '@modnas/config';
import { applyOverrides, deepMerge, isObject } from '@modnas/config';
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
    else if (routine === 'hptune' || routine === 'pipeline') errors.push(`routine: ${routine} is not available yet (HPTuneEstim and PipelineEstim are not implemented here)`);
    else if (routine !== 'default') {
      const section = doc[routine];
      if (section !== undefined && !isObject(section)) errors.push(`${routine}: expected a section of config keys (applied with routine: ${routine})`);
      else {
        ignored.push(`routine ${routine}: its section applied over the config`);
        doc = deepMerge(doc, section ?? {});
      }
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
        errors.push('hp_space: hyperparameter tuning (HPTuneEstim) is not available yet');
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
      const ct = typeOf(v);
      if (ct === 'CrossEntropyLoss' || ct === 'CE') continue;
      if (ct === 'CrossEntropyLabelSmoothingLoss' || ct === 'LS') {
        const o = optionsOf(v);
        t.label_smoothing = o.eta ?? o.label_smoothing ?? 0.1;
        ctx.from('trainer.label_smoothing', at);
      } else ctx.errors.push(`${at}: ${JSON.stringify(ct)} is not available (CrossEntropyLoss, CrossEntropyLabelSmoothingLoss)`);
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

/** data / train_data / valid_data (ImageClsData { dataset, root }) and data_loader (ImageClsDataLoader { trn_batch_size, train_size, ... }). */
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
    } else if (type) {
      ctx.out.data = data; // a dataset component of this tool (MNIST, CIFAR10, ImageFolder, ...)
      ctx.from('data', doc.data !== undefined ? 'data' : 'train_data');
    } else ctx.errors.push('data: expected { type: ImageClsData, args: { dataset: mnist } } or a dataset of this tool');
  }
  const provider: JsonObject = {};
  const loader = doc.data_loader;
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
    if (typeOf(dp) !== undefined) ctx.notes.push(`data_provider.type (one data provider here)`);
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
