import type { tf } from './tf.js';
import type { z } from 'zod';
import { ModnasError } from './errors.js';
import type { BuildContext, ComponentKind, ComponentSpec, KindInput, KindOutput } from './interfaces.js';
import { COMPONENT_KINDS } from './interfaces.js';

/** One component: an id in the registry, its config schema and a factory. */
export interface ComponentDef<K extends ComponentKind = ComponentKind, S extends z.ZodType = z.ZodType> {
  kind: K;
  /** The registry id, e.g. "DARTSOptim". Exact match. */
  id: string;
  /** Other names that resolve to this component (the original's later names, ...). */
  aliases?: readonly string[];
  description: string;
  /** Strict zod schema; every key has a default, so `schema.parse({})` works. */
  schema: S;
  create(config: z.output<S>, ctx: BuildContext, input: KindInput[K]): KindOutput[K] | Promise<KindOutput[K]>;
  /**
   * Components this config refers to (e.g. a constructor's mixed op and primitives), so the whole
   * experiment is validated before any tensor is allocated. Paths are relative to this config.
   */
  refs?(config: z.output<S>): ComponentRef[];
  /**
   * For a constructor that makes a search space (or an exporter that describes one): the id of the
   * arch-desc constructor that builds the fixed network from the descriptions it leads to.
   * `modnas train <search config> --arch <file>` uses it when the config names no desc_construct.
   */
  archDescConstructor?: string;
}

/** A reference from one component's config to another component. */
export interface ComponentRef {
  kind: ComponentKind;
  spec: ComponentSpec | string;
  /** Dotted path inside the referring config, e.g. "primitives.2". */
  path: string;
}

// A component of any kind, as stored in plugins and the registry.
 
export type AnyComponentDef = ComponentDef<any, any>;

export interface PluginMeta {
  /** The npm package name; must equal package.json's. */
  name: string;
  version: string;
}

/** What a plugin package default-exports. Importing it registers nothing: core does, on load. */
export interface ModnasPlugin {
  meta: PluginMeta;
  components: readonly AnyComponentDef[];
}

/** Typed helper: infers the config type from the schema. */
export function defineComponent<K extends ComponentKind, S extends z.ZodType>(def: ComponentDef<K, S>): ComponentDef<K, S> {
  return def;
}

export function definePlugin(plugin: ModnasPlugin): ModnasPlugin {
  validatePlugin(plugin, plugin?.meta?.name ?? '(unnamed plugin)');
  return plugin;
}

/** Shape check of a plugin object (also run on what a package's entry exports). */
export function validatePlugin(plugin: unknown, where: string): asserts plugin is ModnasPlugin {
  const fail = (what: string): never => {
    throw new ModnasError('MODNAS_E_PLUGIN_SHAPE', `plugin ${where}: ${what}`, {
      fix: 'default-export definePlugin({ meta: { name, version }, components: [...] }) from the package entry',
      where,
    });
  };
  if (typeof plugin !== 'object' || plugin === null) fail('the entry does not export a plugin object');
  const p = plugin as Partial<ModnasPlugin>;
  if (!p.meta || typeof p.meta.name !== 'string' || typeof p.meta.version !== 'string') fail('meta.name and meta.version must be strings');
  if (!Array.isArray(p.components)) fail('components must be an array');
  for (const c of p.components as AnyComponentDef[]) {
    if (!c || typeof c.id !== 'string' || !c.id) fail('a component has no id');
    if (!COMPONENT_KINDS.includes(c.kind)) fail(`component "${c.id}" has unknown kind "${String(c.kind)}" (known: ${COMPONENT_KINDS.join(', ')})`);
    if (!c.schema || typeof (c.schema as { safeParse?: unknown }).safeParse !== 'function') fail(`component "${c.id}" has no zod schema`);
    if (typeof c.create !== 'function') fail(`component "${c.id}" has no create() factory`);
  }
}

/**
 * An engine: a tfjs backend (plus any kernels it adds) that a package can register. Engines are
 * lazy factories with a priority, as tfjs backends are; the highest that sets up wins.
 */
export interface EngineDef {
  /** The tfjs backend name it registers (e.g. "wasm"). */
  name: string;
  /** Higher is preferred. The native `tensorflow` backend has 100, `cpu` 1. */
  priority: number;
  /** Register the backend(s) and kernels; throw (with the reason) when this machine can't run it. */
  setup(tfjs: typeof tf): Promise<void>;
  /** One line on what it runs on, or why one of its backends is absent (after setup), for the log. */
  describe?(): string;
  /** Cap the kernel threads of work started from the calling thread (after setup): parallel workers in one process share the cores. */
  threads?(n: number): void;
}

export function defineEngine(def: EngineDef): EngineDef {
  return def;
}
