/**
 * The experiment's container: where its services are registered, once, and where components get
 * them from. experimentScope registers the services every build needs; buildNetwork and the
 * runner add what they build (data, model, trainer, optimizer, checkpoints, executor); the
 * contexts a component is handed (BuildContext, EstimContext) are read from the container here,
 * and nowhere assembled by hand. A caller replaces a service by registering it in the container
 * the experiment's is a child of (runExperiment's `container`).
 */
// tsyringe needs the Reflect polyfill before it loads: this module is the first to import it in the
// runtime's entries (index.ts re-exports browser.ts first; a worker thread loads index.ts)
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { container as rootContainer } from 'tsyringe';
import type { BuildContext, EstimContext, EventBus, Logger, ProgressReporter, ResultStore, Token } from '@modnas/core';
import { ArchSpace, ModnasError, Rng, Tokens, resolveToken, setTensorSeed } from '@modnas/core';
import type { ExperimentPlan } from '@modnas/config';
import type { ExperimentStore } from '@modnas/services';
import { ServiceTokens } from '@modnas/services';

export interface ExperimentScope {
  /** The experiment's child container, with the run's services bound. */
  container: DependencyContainer;
  space: ArchSpace;
  /** The run's root random stream (seeded from the config). */
  rng: Rng;
}

export interface ScopeServices {
  logger: Logger;
  events: EventBus;
  progress: ProgressReporter;
  /** The experiment store (ServiceTokens.ExperimentStore). */
  store: ExperimentStore;
  /** Where components record (Tokens.Store): the run's records in `store`; default `store` itself. */
  recorder?: ResultStore;
}

/**
 * The experiment's container, a child of `parent` (default: tsyringe's root), with the services
 * every build binds (space, events, logger, progress, random stream, experiment store, recorder,
 * config), seeded from the config: the runner, remote workers and model export build in one of
 * these, so they build the same network.
 */
export function experimentScope(plan: ExperimentPlan, services: ScopeServices, parent: DependencyContainer = rootContainer): ExperimentScope {
  setTensorSeed(plan.config.seed);
  const rng = new Rng(plan.config.seed);
  const space = new ArchSpace();
  const container = parent.createChildContainer();
  container.registerInstance(Tokens.ArchSpace, space);
  container.registerInstance(Tokens.EventBus, services.events);
  container.registerInstance(Tokens.Logger, services.logger);
  container.registerInstance(Tokens.Progress, services.progress);
  container.registerInstance(Tokens.Rng, rng);
  container.registerInstance(ServiceTokens.ExperimentStore, services.store);
  container.registerInstance(Tokens.Store, services.recorder ?? services.store);
  container.registerInstance(Tokens.Config, plan.config);
  return { container, space, rng };
}

/** A service the experiment cannot run without: the runtime binds it, so its absence is a bug. */
export function required<T>(container: DependencyContainer, t: Token<T>): T {
  const v = resolveToken(container, t);
  if (v === undefined) throw new ModnasError('MODNAS_E_INTERNAL', `nothing is bound to ${t} in the experiment's container`, { fix: 'build the experiment with experimentScope and buildNetwork (runtime)' });
  return v;
}

/** What a constructor or other component builds with at `where`, from the container. */
export function buildContextOf(container: DependencyContainer, where: string, build: BuildContext['build']): BuildContext {
  return { container, space: required(container, Tokens.ArchSpace), rng: required(container, Tokens.Rng), logger: required(container, Tokens.Logger), where, build };
}

/**
 * What estimator `name` runs with, from the container (after buildNetwork). `rng` is its own
 * stream (default: the root stream's fork 1); an experiment without a model has a trainer that
 * says so when used.
 */
export function estimContextOf(container: DependencyContainer, name: string, opts: { rng?: Rng; signal?: AbortSignal } = {}): EstimContext {
  return {
    name,
    model: required(container, Tokens.Model),
    space: required(container, Tokens.ArchSpace),
    trainer: resolveToken(container, Tokens.StateOptimizer) ?? missingTrainer(),
    optim: resolveToken(container, Tokens.SearchOptimizer),
    data: required(container, Tokens.Data),
    metrics: required(container, Tokens.Metrics),
    events: required(container, Tokens.EventBus),
    logger: required(container, Tokens.Logger),
    progress: required(container, Tokens.Progress),
    rng: opts.rng ?? required(container, Tokens.Rng).fork(1),
    store: required(container, Tokens.Store),
    container,
    signal: opts.signal,
  };
}

/** A trainer that says why it is missing when used (an experiment without a model). */
function missingTrainer(): EstimContext['trainer'] {
  return new Proxy({} as EstimContext['trainer'], {
    get() {
      throw new ModnasError('MODNAS_E_CONFIG_INVALID', 'this estimator trains weights, but the experiment has no model (and so no trainer)', {
        fix: 'use a model with a trainer, or an estimator meant for tabular spaces',
      });
    },
  });
}
