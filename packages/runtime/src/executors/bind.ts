/**
 * The executor service on the runner's side: the executors that come with the runtime (a plugin
 * object registered in every registry the runtime prepares), the binding of the one the config
 * names to ServiceTokens.Executor (as the store is bound to ServiceTokens.ExperimentStore), and the ExperimentImage that
 * remote executors ship to their workers.
 */
import type { DependencyContainer } from 'tsyringe';
import type { Logger, Module, Registry } from '@modnas/core';
import { ModnasError, definePlugin } from '@modnas/core';
import type { ExperimentPlan } from '@modnas/config';
import type { Executor, ExperimentImage } from '@modnas/services';
import { ServiceTokens, configHash, weightBytes } from '@modnas/services';
import type { ComponentFactory } from '../build.js';
import { InProcessExecutor } from '@modnas/kit-estim';
import { inProcessExecutor } from './in-process.js';
import { workerThreadsExecutor } from './worker-threads.js';

export const RUNTIME_PACKAGE = '@modnas/runtime';

/** The runtime's own components: the in-process and worker-thread executors. */
export const runtimePlugin = definePlugin({
  meta: { name: RUNTIME_PACKAGE, version: '0.1.0' },
  components: [inProcessExecutor, workerThreadsExecutor],
});

/** Make the runtime's executors resolvable by id (idempotent). */
export function registerRuntimeComponents(registry: Registry): void {
  registry.register(runtimePlugin);
}

/** Create the executor the config names (`executor: { type }`, default InProcessExecutor) and bind it to ServiceTokens.Executor. */
export async function bindExecutor(plan: ExperimentPlan, container: DependencyContainer, factory: ComponentFactory, logger: Logger): Promise<Executor> {
  const spec = plan.config.executor;
  const made: unknown = spec && plan.components.has('executor') ? await factory.create<'executor'>('executor') : new InProcessExecutor();
  if (!isExecutor(made)) {
    throw new ModnasError('MODNAS_E_EXECUTOR_CONTRACT', `the executor ${spec?.type ?? '?'} does not implement Executor (description, remote, open, close)`, {
      fix: `implement the Executor interface of @modnas/services in ${spec?.type ?? 'the executor'}, or remove the executor key (in-process)`,
      where: 'executor.type',
    });
  }
  if (made.remote) logger.info(`executor: ${made.description}`);
  // credentials and the like, checked before any training rather than when the first candidate is sent
  await made.preflight?.(logger);
  container.registerInstance(ServiceTokens.Executor, made);
  return made;
}

function isExecutor(x: unknown): x is Executor {
  const e = x as Partial<Executor> | null;
  return !!e && typeof e.open === 'function' && typeof e.close === 'function' && typeof e.description === 'string' && typeof e.remote === 'boolean';
}

/** The packages the plan's components come from, as name@version (what a worker must have installed). */
export function planPackages(plan: ExperimentPlan, registry: Registry): string[] {
  const rows = registry.list();
  const out = new Set<string>();
  for (const rc of plan.components.values()) {
    for (const r of rows) if (r.id === rc.def.id && r.kind === rc.kind) out.add(`${r.package}@${r.version}`);
  }
  return [...out].sort();
}

export function experimentImage(plan: ExperimentPlan, registry: Registry, model: Module, cwd: string): ExperimentImage {
  const config = plan.config as unknown as Record<string, unknown>;
  return {
    config,
    configHash: configHash(config),
    plugins: planPackages(plan, registry),
    cwd,
    weights: () => weightBytes(model),
  };
}
