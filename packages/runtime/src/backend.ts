import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
// tfjs' own cpu backend, the fallback when no engine package sets up (registers itself on import).
import '@tensorflow/tfjs-backend-cpu';
import { ModnasError, silentLogger, tf } from '@modnas/core';
import type { EngineDef, Logger } from '@modnas/core';
import type { DiscoveredEngine } from '@modnas/discovery';

export interface BackendChoice {
  backend: string;
  /** Where it came from: a package name, or "builtin". */
  source: string;
  /** Engines tried before it and why each was passed over. */
  skipped: Array<{ name: string; reason: string }>;
}

export interface SelectBackendOptions {
  /** "auto" (default), or a backend name to force: tensorflow, wasm, cpu ... Env: MODNAS_BACKEND. */
  prefer?: string;
  engines?: DiscoveredEngine[];
  logger?: Logger;
  /**
   * Where the user's project is, to find an optional @tensorflow/tfjs-node(-gpu): the caller's own
   * folder, never one a job or a message names (what resolves from it is imported and run).
   */
  cwd?: string;
  /** Kernel threads for work started from this thread (EngineDef.threads; engines without the hook use their own count). */
  threads?: number;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/**
 * Pick the tensor backend at run time: the native `tensorflow` backend when the user has
 * installed @tensorflow/tfjs-node-gpu or -node (never a hard dependency), else the best engine
 * that installed from the registry (e.g. @modnas/engine-wasm), else `cpu`.
 */
export async function selectBackend(opts: SelectBackendOptions = {}): Promise<BackendChoice> {
  const logger = opts.logger ?? silentLogger;
  const prefer = (opts.prefer && opts.prefer !== 'auto' ? opts.prefer : undefined) ?? (process.env.MODNAS_BACKEND && process.env.MODNAS_BACKEND !== 'auto' ? process.env.MODNAS_BACKEND : undefined);
  const skipped: BackendChoice['skipped'] = [];

  type Candidate = { name: string; priority: number; source: string; setup: () => Promise<void>; describe?: () => string | undefined; threads?: (n: number) => void };
  const candidates: Candidate[] = [];
  candidates.push({
    name: 'tensorflow',
    priority: 100,
    source: NATIVE_PACKAGES.join(' or '),
    setup: async () => {
      const errors: string[] = [];
      for (const pkg of NATIVE_PACKAGES) {
        try {
          const entry = createRequire(join(opts.cwd ?? process.cwd(), 'package.json')).resolve(pkg);
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
  for (const e of opts.engines ?? []) {
    let def: EngineDef | undefined;
    const load = async (): Promise<EngineDef> => {
      if (def) return def;
      const mod = (await e.load()) as { default?: EngineDef };
      def = mod.default ?? (mod as unknown as EngineDef);
      if (typeof def?.setup !== 'function') throw new Error(`${e.package} does not default-export defineEngine({ name, priority, setup })`);
      return def;
    };
    for (const name of e.provides) {
      candidates.push({
        name,
        priority: 50,
        source: e.package,
        setup: async () => {
          const d = await load();
          await d.setup(tf);
          // an engine may provide several backends and register only those this machine can run
          if (!tf.findBackendFactory(name)) throw new Error(`not available: ${d.describe?.() ?? `${e.package} registered no "${name}" backend`}`);
        },
        describe: () => def?.describe?.(),
        threads: (n) => def?.threads?.(n),
      });
    }
  }
  candidates.push({ name: 'cpu', priority: 1, source: 'builtin', setup: async () => undefined });
  candidates.sort((a, b) => b.priority - a.priority);

  const order = prefer ? candidates.filter((c) => c.name === prefer) : candidates;
  if (prefer && order.length === 0) {
    throw new ModnasError('MODNAS_E_BACKEND_UNKNOWN', `backend "${prefer}" is not available`, {
      fix: `use one of: auto, ${[...new Set(candidates.map((c) => c.name))].join(', ')} (config key "backend" or env MODNAS_BACKEND)`,
      where: opts.prefer ? 'config key "backend"' : 'env MODNAS_BACKEND',
    });
  }
  for (const c of order) {
    try {
      await c.setup();
      if (opts.threads !== undefined) c.threads?.(opts.threads);
      const ok = await tf.setBackend(c.name);
      if (!ok) throw new Error(`tf.setBackend("${c.name}") returned false`);
      await tf.ready();
      // tfjs' cpu backend prints a banner on first use; the log line below says the same, once.
      const b = tf.backend() as { firstUse?: boolean };
      if ('firstUse' in b) b.firstUse = false;
      const choice: BackendChoice = { backend: c.name, source: c.source, skipped };
      const what = c.describe?.();
      logger.info(`tensor backend: ${c.name} (${c.source}${what ? `: ${what}` : ''})${skipped.length ? `; passed over: ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : ''}`);
      return choice;
    } catch (e) {
      skipped.push({ name: c.name, reason: firstLine(e) });
      if (prefer) {
        throw new ModnasError('MODNAS_E_BACKEND_SETUP', `backend "${prefer}" could not be set up: ${firstLine(e)}`, {
          fix: 'install what it needs, or set backend: auto',
          cause: e,
        });
      }
    }
  }
  throw new ModnasError('MODNAS_E_BACKEND_NONE', 'no tensor backend could be set up', { fix: 'reinstall @modnas/runtime (it brings @tensorflow/tfjs-backend-cpu)' });
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
