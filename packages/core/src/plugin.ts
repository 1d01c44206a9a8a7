import type { tf } from './tf.js';
import { z } from 'zod';
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
    if (c.kind === 'engine') {
      const e = c as Partial<EngineDef>;
      if (e.name !== c.id || typeof e.setup !== 'function' || typeof e.priority !== 'number' || !(e.priority > 0) || !Number.isFinite(e.priority)) {
        fail(`engine "${c.id}" needs a name equal to its id, a setup() and a priority above 0: build it with defineEngine({ name, priority, setup })`);
      }
    }
  }
}

/** What a tensor engine does: register a tfjs backend (and the kernels it adds) when chosen. */
export interface TensorEngine {
  /** Register the backend and its kernels; throw (with the reason) when this machine can't run it. */
  setup(tfjs: typeof tf): Promise<void>;
  /** One line on what it runs on, or why its backend is absent (after setup), for the log. */
  describe?(): string;
  /** Cap the kernel threads of work started from the calling thread (after setup): parallel workers in one process share the cores. */
  threads?(n: number): void;
  /**
   * Hardware the engine runs on only where it is present (e.g. "a hardware GPU"): where it is
   * absent, setup throws and the engine is passed over as any other, but `plugins doctor` lists it
   * as not used here, not as a problem.
   */
  needs?: string;
}

/**
 * An engine: a component of kind `engine` that provides one tfjs backend, named by its id. Engines
 * are lazy factories with a priority, as tfjs backends are (`registerBackend(name, factory,
 * priority)`): the runtime imports the engine packages discovery found, orders their engines by
 * priority and uses the first whose setup() succeeds. Built with defineEngine.
 */
export interface EngineDef extends ComponentDef<'engine'>, TensorEngine {
  /** The tfjs backend it registers (e.g. "native"); also its registry id. */
  name: string;
  /**
   * Higher is preferred. The runtime's own: `tensorflow` (an installed @tensorflow/tfjs-node or
   * -gpu) 100, tfjs' `cpu` 0; an engine declares more than 0 (the native engine 50, its wasm
   * fallback 40) and more than 100 only to be preferred to TensorFlow.
   */
  priority: number;
}

export interface EngineInit extends TensorEngine {
  /** The tfjs backend it registers (e.g. "native"); also its registry id. */
  name: string;
  /** Higher is preferred (see EngineDef.priority). */
  priority: number;
  /** One line for `modnas plugins list` and the docs (default: "tensor backend <name>"). */
  description?: string;
}

/**
 * An engine component for a plugin's `components` (kind "engine", id = the backend name). It has no
 * options (an empty strict schema) and its create() returns the engine: what it does is setup().
 */
export function defineEngine(init: EngineInit): EngineDef {
  const def: EngineDef = {
    ...init,
    kind: 'engine',
    id: init.name,
    description: init.description ?? `tensor backend ${init.name}`,
    schema: z.strictObject({}),
    create: () => def,
  };
  return def;
}

/** Whether a component is an engine (kind "engine"). */
export function isEngineDef(def: AnyComponentDef): def is EngineDef {
  return def.kind === 'engine';
}
