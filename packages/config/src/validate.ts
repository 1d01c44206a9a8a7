import type { z } from 'zod';
import { ModnasError, isModnasError, getRegistry } from '@modnas/core';
import type { ComponentKind, ComponentSpec, AnyComponentDef, Registry } from '@modnas/core';
// the 'store' and 'executor' kinds of the config's keys of the same names
import type {} from '@modnas/services';
import { readYamlValue } from './load.js';
import type { JsonObject } from './merge.js';
import { getPath, isObject } from './merge.js';
import type { ExperimentConfig } from './schema.js';
import { ExperimentSchema, chainEntries } from './schema.js';

/** A component of the experiment, resolved and with its config parsed. */
export interface ResolvedComponent {
  kind: ComponentKind;
  /** Dotted config path, e.g. "estim.search". */
  path: string;
  def: AnyComponentDef;
  config: unknown;
}

export interface ExperimentPlan {
  config: ExperimentConfig;
  /** By dotted path. */
  components: Map<string, ResolvedComponent>;
}

/** The config of a spec: `args` and the keys beside `type` merged. */
export function specConfig(spec: ComponentSpec | string): { type: string; config: Record<string, unknown>; argsKeys: Set<string>; clash: string[] } {
  if (typeof spec === 'string') return { type: spec, config: {}, argsKeys: new Set(), clash: [] };
  const { type, args, ...rest } = spec as ComponentSpec & { args?: Record<string, unknown> };
  const a = isObject(args) ? (args as Record<string, unknown>) : {};
  const clash = Object.keys(rest).filter((k) => k in a);
  return { type, config: { ...rest, ...a }, argsKeys: new Set(Object.keys(a)), clash };
}

/** Render a zod issue as "path: message, got value". */
function renderIssue(prefix: string, issue: z.core.$ZodIssue, input: unknown, argsKeys?: Set<string>): string {
  const keyPath = issue.path.map(String);
  const top = keyPath[0];
  const base = argsKeys && top !== undefined && argsKeys.has(top) ? `${prefix}.args` : prefix;
  let path = [base, ...keyPath].filter(Boolean).join('.');
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    path = [base, ...keyPath].filter(Boolean).join('.');
    return `${path ? path + ': ' : ''}unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
  }
  const got = getPath(input, keyPath.join('.'));
  if (got !== undefined && issue.code !== 'invalid_union') msg += `, got ${JSON.stringify(got)}`;
  return `${path || '(top level)'}: ${msg}`;
}

/**
 * Parse a component's config with its schema: the one parse path, used while validating the
 * experiment and for components that constructors build at run time (e.g. a mixed op per Slot).
 * Problems come back rendered as `path.key: message, got value`.
 */
export function parseComponentConfig(def: AnyComponentDef, spec: ComponentSpec | string, path: string): { ok: true; config: unknown } | { ok: false; issues: string[] } {
  const { config: cfg, argsKeys, clash } = specConfig(spec);
  const issues = clash.map((k) => `${path}.${k}: given both beside "type" and under "args"; keep one`);
  const res = def.schema.safeParse(cfg);
  if (!res.success) issues.push(...res.error.issues.map((i: z.core.$ZodIssue) => renderIssue(path, i, cfg, argsKeys)));
  return issues.length ? { ok: false, issues } : { ok: true, config: res.data };
}

/** The coded error for config problems: every problem on its own line, with its dotted path. */
export function configInvalid(raw: string[], { where, renamePath }: Pick<ValidateOptions, 'where' | 'renamePath'> = {}): ModnasError {
  const issues = renamePath
    ? raw.map((i) => {
        const at = i.indexOf(': ');
        return at > 0 && !i.startsWith('(') ? renamePath(i.slice(0, at)) + i.slice(at) : i;
      })
    : raw;
  return new ModnasError('MODNAS_E_CONFIG_INVALID', `the config has ${issues.length} problem${issues.length > 1 ? 's' : ''}:\n  - ${issues.join('\n  - ')}`, {
    fix: 'correct the keys named above (each line gives its dotted path)',
    where,
  });
}

export interface ValidateOptions {
  registry?: Registry;
  /** The file(s) the config came from, for the error's "where". */
  where?: string;
  /** Rename a reported dotted path (a translated file's own keys: ownPath). */
  renamePath?: (path: string) => string;
}

/** What `quick: true` caps: epochs of every estimator, training and validation examples. */
export const QUICK = { epochs: 1, train_size: 512, valid_size: 256 } as const;

/**
 * Check the whole experiment before anything is built: the top-level layout, every component id
 * (imports the plugins that provide them; no tensors are allocated), every component config and
 * the components those refer to. All problems are reported at once, each with its dotted path.
 */
export async function validateExperiment(raw: JsonObject, opts: ValidateOptions = {}): Promise<ExperimentPlan> {
  const registry = opts.registry ?? getRegistry();
  const issues: string[] = [];
  const parsed = ExperimentSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) issues.push(renderIssue('', i, raw));
    throw configInvalid(issues, opts);
  }
  const config = parsed.data;
  // `quick: true` caps the data here and every estimator's epochs below, so the plan is final.
  if (config.quick) {
    const dp = config.data_provider;
    dp.train_size = Math.min(dp.train_size ?? QUICK.train_size, QUICK.train_size);
    dp.valid_size = Math.min(dp.valid_size ?? QUICK.valid_size, QUICK.valid_size);
  }
  // An arch_desc given as a file is read now, so a missing or broken file is reported with the rest.
  if (typeof config.arch_desc === 'string' && /\.(ya?ml|json)$/.test(config.arch_desc)) {
    const file = config.arch_desc;
    try {
      config.arch_desc = readYamlValue(file, 'arch_desc file');
      if (config.arch_desc === null || config.arch_desc === undefined || (Array.isArray(config.arch_desc) && config.arch_desc.length === 0)) {
        issues.push(`arch_desc: the file ${file} describes no architecture (it is empty); pass the outputs/arch_<estim>_best.yaml a search wrote`);
      }
    } catch (e) {
      issues.push(`arch_desc: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const components = new Map<string, ResolvedComponent>();

  const check = async (kind: ComponentKind, spec: ComponentSpec | string, path: string): Promise<ResolvedComponent | undefined> => {
    const { type, config: cfg } = specConfig(spec);
    let def: AnyComponentDef;
    try {
      def = await registry.resolve(kind, type, `${path}.type`);
    } catch (e) {
      if (isModnasError(e) && e.code === 'MODNAS_E_REGISTRY_KIND' && kind === 'construct') {
        // The seed's shorthand: a construct entry whose type is a mixed op means
        // "DefaultMixedOpConstructor with this mixed op".
        const asMixed = await registry.resolve('mixed-op', type).catch(() => undefined);
        if (asMixed) {
          // `candidates` is the original's later name of `primitives`.
          const { primitives, candidates, ...mixedArgs } = cfg;
          const prims = primitives ?? candidates;
          return check('construct', { type: 'DefaultMixedOpConstructor', mixed_op: { type, ...mixedArgs }, ...(prims === undefined ? {} : { primitives: prims }) }, path);
        }
      }
      issues.push(`${path}.type: ${isModnasError(e) ? `${e.message.split('\n')[0]}${e.fix ? ` (fix: ${e.fix})` : ''}` : String(e)}`);
      return undefined;
    }
    const res = parseComponentConfig(def, spec, path);
    if (!res.ok) {
      issues.push(...res.issues);
      return undefined;
    }
    const data = res.config as Record<string, unknown>;
    if (config.quick && kind === 'estim' && typeof data.epochs === 'number') data.epochs = Math.min(data.epochs, QUICK.epochs);
    const rc: ResolvedComponent = { kind, path, def, config: res.config };
    components.set(path, rc);
    // a desc constructor with no arch_desc of its own builds from the top-level one: check the ids in that
    const topDesc = path.startsWith('desc_construct.') && data.arch_desc == null && config.arch_desc != null;
    for (const ref of def.refs?.(topDesc ? { ...data, arch_desc: config.arch_desc } : res.config) ?? []) await check(ref.kind, ref.spec, topDesc ? ref.path : `${path}.${ref.path}`);
    return rc;
  };

  if (config.data) await check('dataset', config.data, 'data');
  if (config.model && config.space) issues.push('space: give either model (a network) or space (arch params alone), not both');
  if (config.model) await check('backbone', config.model, 'model');
  if (config.space) await check('space', config.space, 'space');
  // constructors alone may declare the space (hyperparameters: DefaultHParamSpaceConstructor)
  if (!config.model && !config.space && chainEntries(config.construct).length === 0) issues.push('model: no model (or space) is configured; add e.g. model: { type: CIFAR_MobileNetV2 }');
  for (const [k, s] of chainEntries(config.construct)) await check('construct', s, Array.isArray(config.construct) ? `construct.${k}` : `construct.${k}`);
  for (const [k, s] of chainEntries(config.desc_construct)) await check('construct', s, `desc_construct.${k}`);
  if (config.model) await check('trainer', config.trainer, 'trainer');
  if (config.optim) await check('optim', config.optim, 'optim');
  if (Object.keys(config.estim).length === 0) issues.push('estim: no estimator is configured; add e.g. estim: { search: { type: SuperNetEstimator, epochs: 1 } }');
  for (const [k, s] of Object.entries(config.estim)) await check('estim', s, `estim.${k}`);
  for (const [k, s] of Object.entries(config.export)) await check('exporter', s, `export.${k}`);
  for (const [k, s] of Object.entries(config.metrics)) await check('metrics', s, `metrics.${k}`);
  for (const [k, s] of Object.entries(config.callbacks)) await check('callback', s, `callbacks.${k}`);
  if (config.store) await check('store', config.store, 'store');
  if (config.executor) await check('executor', config.executor, 'executor');
  if (issues.length) throw configInvalid(issues, opts);
  return { config, components };
}
