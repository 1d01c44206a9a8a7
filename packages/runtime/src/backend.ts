import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
// tfjs' own cpu backend, the fallback when no engine sets up (registers itself on import).
import '@tensorflow/tfjs-backend-cpu';
import { ModnasError, defineEngine, getRegistry, isEngineDef, silentLogger, tf } from '@modnas/core';
import type { EngineDef, Logger, Registry } from '@modnas/core';

export interface BackendChoice {
  backend: string;
  /** Where it came from: a package name, or "builtin". */
  source: string;
  /** Engines tried before it and why each was passed over. */
  skipped: Array<{ name: string; reason: string }>;
}

export interface SelectBackendOptions {
  /** "auto" (default), or a backend name to force: tensorflow, native, wasm, cpu ... Env: MODNAS_BACKEND. */
  prefer?: string;
  /** Where the engines are (components of kind "engine", found by discovery); default: the process-wide registry. */
  registry?: Registry;
  logger?: Logger;
  /**
   * Where the user's project is, to find an optional @tensorflow/tfjs-node(-gpu): the caller's own
   * folder, never one a job or a message names (what resolves from it is imported and run).
   */
  cwd?: string;
  /** Kernel threads for work started from this thread (EngineDef.threads; engines without the hook use their own count). */
  threads?: number;
}

const TFJS_NODE = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** The backends that come with the runtime, ordered among the engines by the same priorities. */
function builtinEngines(cwd: string): Array<{ def: EngineDef; source: string }> {
  const tensorflow = defineEngine({
    name: 'tensorflow',
    priority: 100,
    async setup() {
      const errors: string[] = [];
      for (const pkg of TFJS_NODE) {
        try {
          const entry = createRequire(join(cwd, 'package.json')).resolve(pkg);
          await import(pathToFileURL(entry).href);
          if (tf.findBackendFactory('tensorflow')) return;
          errors.push(`${pkg} loaded but registered no "tensorflow" backend with this copy of tfjs (two copies of tfjs installed?)`);
        } catch (e) {
          errors.push(`${pkg}: ${firstLine(e)}`);
        }
      }
      throw new Error(errors.some((s) => !s.includes('Cannot find')) ? errors.join('; ') : 'not installed (optional: npm i @tensorflow/tfjs-node, or -gpu)');
    },
  });
  // priority 0: every engine declares more (definePlugin checks), so cpu is the last resort
  const cpu = defineEngine({ name: 'cpu', priority: 0, setup: async () => undefined });
  return [
    { def: tensorflow, source: TFJS_NODE.join(' or ') },
    { def: cpu, source: 'builtin' },
  ];
}

/**
 * The backends there are to choose from, read from the manifests (no engine is imported): the
 * runtime's `tensorflow`, the engines discovery recorded in the registry, and `cpu`.
 */
export function backendNames(registry: Registry = getRegistry()): string[] {
  return [...new Set(['tensorflow', ...registry.list().filter((r) => r.kind === 'engine').map((r) => r.id), 'cpu'])];
}

/**
 * Pick the tensor backend at run time, as tfjs picks among registered backends: every engine (the
 * runtime's `tensorflow`, when @tensorflow/tfjs-node(-gpu) is installed, and `cpu`; the components
 * of kind "engine" that discovery found in the registry) in order of its declared priority, the
 * first whose setup succeeds. Engine packages are imported here (each probed in a child process
 * first, as every plugin is); a forced backend imports only its own.
 */
export async function selectBackend(opts: SelectBackendOptions = {}): Promise<BackendChoice> {
  const logger = opts.logger ?? silentLogger;
  const registry = opts.registry ?? getRegistry();
  const prefer = (opts.prefer && opts.prefer !== 'auto' ? opts.prefer : undefined) ?? (process.env.MODNAS_BACKEND && process.env.MODNAS_BACKEND !== 'auto' ? process.env.MODNAS_BACKEND : undefined);
  const skipped: BackendChoice['skipped'] = [];

  const builtin = builtinEngines(opts.cwd ?? process.cwd());
  const builtinNames = new Set(builtin.map((b) => b.def.name));
  // from the manifests: which engines there are, before any is imported
  const rows = registry.list().filter((r) => r.kind === 'engine');
  const names = backendNames(registry);
  if (prefer && !names.includes(prefer)) {
    throw new ModnasError('MODNAS_E_BACKEND_UNKNOWN', `backend "${prefer}" is not available`, {
      fix: `use one of: auto, ${names.join(', ')} (config key "backend" or env MODNAS_BACKEND)`,
      where: opts.prefer ? 'config key "backend"' : 'env MODNAS_BACKEND',
    });
  }
  const candidates: Array<{ def: EngineDef; source: string }> = builtin.filter((b) => !prefer || b.def.name === prefer);
  for (const id of new Set(rows.map((r) => r.id))) {
    if (prefer && id !== prefer) continue;
    const source = rows.filter((r) => r.id === id).map((r) => r.package).join(', ');
    try {
      if (builtinNames.has(id)) throw new Error(`"${id}" is the runtime's own backend; rename the engine`);
      const def = await registry.resolve('engine', id);
      if (!isEngineDef(def)) throw new Error(`${source} does not define "${id}" with defineEngine({ name, priority, setup })`);
      candidates.push({ def, source });
    } catch (e) {
      // an engine package that does not import (or is installed twice) is passed over, with why
      if (prefer) throw setupError(prefer, e);
      skipped.push({ name: id, reason: firstLine(e) });
    }
  }
  // highest priority first; equal priorities keep discovery's order
  const order = candidates.map((c, i) => ({ ...c, i })).sort((a, b) => b.def.priority - a.def.priority || a.i - b.i);

  for (const { def, source } of order) {
    try {
      await def.setup(tf);
      // an engine package may provide several backends and register only those this machine can run
      if (!tf.findBackendFactory(def.name)) throw new Error(`not available: ${def.describe?.() ?? `${source} registered no "${def.name}" backend`}`);
      if (opts.threads !== undefined) def.threads?.(opts.threads);
      const ok = await tf.setBackend(def.name);
      if (!ok) throw new Error(`tf.setBackend("${def.name}") returned false`);
      await tf.ready();
      // tfjs' cpu backend prints a banner on first use; the log line below says the same, once.
      const b = tf.backend() as { firstUse?: boolean };
      if ('firstUse' in b) b.firstUse = false;
      const choice: BackendChoice = { backend: def.name, source, skipped };
      const what = def.describe?.();
      logger.info(`tensor backend: ${def.name} (${source}${what ? `: ${what}` : ''})${skipped.length ? `; passed over: ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : ''}`);
      return choice;
    } catch (e) {
      if (prefer) throw setupError(prefer, e);
      skipped.push({ name: def.name, reason: firstLine(e) });
    }
  }
  throw new ModnasError('MODNAS_E_BACKEND_NONE', 'no tensor backend could be set up', { fix: 'reinstall @modnas/runtime (it brings @tensorflow/tfjs-backend-cpu)' });
}

function setupError(name: string, e: unknown): ModnasError {
  return new ModnasError('MODNAS_E_BACKEND_SETUP', `backend "${name}" could not be set up: ${firstLine(e)}`, {
    fix: 'install what it needs, or set backend: auto',
    cause: e,
  });
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
