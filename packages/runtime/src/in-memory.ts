/**
 * A search with no files: where there is no disk (a browser tab) or nothing should be written. The
 * experiment is built as the runner builds it (experimentScope, buildNetwork), its run claimed in an
 * experiment store (in memory unless one is given), the estimators run in order, and each one's best
 * architecture exported by the config's exporters into the result. No checkpoints, writers, trial
 * folders or remote executors: they need a disk or a process. The network stays alive for the
 * caller (to export or run it) until `dispose()`.
 */
import type { DependencyContainer } from 'tsyringe';
import { container as rootContainer } from 'tsyringe';
import type { ArchSpace, Dataset, EstimContext, EstimResult, EventBus, Exporter, Logger, Module, ProgressReporter, Registry, SearchOptimizer, StateOptimizer } from '@modnas/core';
import { EventBus as Bus, ModnasError, Tokens, getRegistry } from '@modnas/core';
import type { ExperimentPlan } from '@modnas/config';
import type { ExperimentStore } from '@modnas/services';
import { MemoryExperimentStore, busyError, claimRun } from '@modnas/services';
import { adoptBest, buildNetwork, componentFactory } from './build.js';
import { LogProgress, SinkLogger } from './log.js';
import { estimContextOf, experimentScope } from './scope.js';

export interface InMemoryRunOptions {
  registry?: Registry;
  /** Receives the run's log lines. */
  logger?: Logger;
  progress?: ProgressReporter;
  events?: EventBus;
  /** Where the run and its records go (default: a new MemoryExperimentStore). */
  store?: ExperimentStore;
  signal?: AbortSignal;
  /** The container the experiment's is a child of (default: tsyringe's root). */
  container?: DependencyContainer;
}

export interface InMemoryEstim {
  type: string;
  metrics: Record<string, number>;
  best?: { arch: Record<string, unknown>; score: number; metrics: Record<string, number> };
  /** What each exporter of the config returned for the best architecture, by its key. */
  exports: Record<string, unknown>;
  seconds: number;
}

export interface InMemoryRun {
  name: string;
  run: string;
  store: ExperimentStore;
  estims: Record<string, InMemoryEstim>;
  /** The network, with the last estimator's best architecture applied, its trainer, and the data. */
  model: Module;
  trainer?: StateOptimizer;
  space: ArchSpace;
  dataset?: Dataset;
  data: EstimContext['data'];
  numParams: number;
  spaceSize: string;
  seconds: number;
  aborted: boolean;
  /** Release the network, the trainer, the optimizer and the search space. */
  dispose(): Promise<void>;
}

export async function runInMemory(plan: ExperimentPlan, opts: InMemoryRunOptions = {}): Promise<InMemoryRun> {
  const t0 = Date.now();
  const cfg = plan.config;
  const registry = opts.registry ?? getRegistry();
  const logger = new SinkLogger(cfg.log_level);
  if (opts.logger) logger.forwardTo(opts.logger);
  const events = opts.events ?? new Bus();
  const progress = opts.progress ?? new LogProgress(logger);
  const store = opts.store ?? new MemoryExperimentStore();
  const claim = claimRun(store, { experiment: cfg.name, config: cfg, resume: false, where: store.location });
  if (claim.kind === 'busy') throw busyError(claim.other, store.location);
  const runId = claim.run.id;
  store.activate(runId);
  const { container, space, rng } = experimentScope(plan, { logger, events, progress, store }, opts.container ?? rootContainer);
  const factory = componentFactory({ plan, registry, container });
  let model: Module | undefined;
  let trainer: StateOptimizer | undefined;
  let optim: SearchOptimizer | undefined;
  let status: 'done' | 'failed' | 'interrupted' = 'failed';
  const dispose = async (): Promise<void> => {
    await optim?.close?.();
    trainer?.dispose();
    model?.dispose();
    space.dispose();
  };
  try {
    const remote = cfg.executor && cfg.executor.type !== 'InProcessExecutor';
    if (remote || Object.keys(cfg.callbacks).length > 0) {
      throw new ModnasError('MODNAS_E_CONFIG_INVALID', 'a search in memory evaluates its candidates in this process and attaches no callbacks', {
        fix: 'remove executor and callbacks from the config, or run it with modnas run',
        where: remote ? 'executor' : 'callbacks',
      });
    }
    const built = await buildNetwork({ plan, registry, container }, factory);
    model = built.model;
    trainer = built.trainer;
    if (cfg.optim) {
      optim = await factory.create<'optim'>('optim');
      container.registerInstance(Tokens.SearchOptimizer, optim);
    }
    const exporters: Array<[string, Exporter]> = [];
    for (const k of Object.keys(cfg.export)) exporters.push([k, await factory.create<'exporter'>(`export.${k}`)]);
    const estims: Record<string, InMemoryEstim> = {};
    await events.emit('run:begin', { name: cfg.name, outputDir: '' });
    for (const [index, [name, spec]] of Object.entries(cfg.estim).entries()) {
      if (opts.signal?.aborted) break;
      const te = Date.now();
      const estim = await factory.create<'estim'>(`estim.${name}`);
      await events.emit('estim:begin', { estim: name, type: spec.type });
      logger.info(`estim ${name} (${spec.type}): begin`);
      const result: EstimResult = await estim.run(estimContextOf(container, name, { rng: rng.fork(index + 1), signal: opts.signal }));
      await adoptBest(space, result);
      const e: InMemoryEstim = { type: spec.type, metrics: result.metrics, exports: Object.fromEntries(exporters.map(([k, ex]) => [k, ex.export(model!, space)])), seconds: (Date.now() - te) / 1000 };
      if (result.best) e.best = { arch: result.best.arch, score: result.best.score, metrics: result.best.metrics };
      estims[name] = e;
      await events.emit('estim:end', { estim: name, type: spec.type, best: result.best });
      logger.info(`estim ${name}: done in ${e.seconds.toFixed(1)} s`);
    }
    const aborted = opts.signal?.aborted ?? false;
    await events.emit('run:end', { name: cfg.name, outputDir: '', results: estims });
    status = aborted ? 'interrupted' : 'done';
    return { name: cfg.name, run: runId, store, estims, model, trainer, space, dataset: built.dataset, data: built.splits, numParams: built.numParams, spaceSize: built.spaceSize, seconds: (Date.now() - t0) / 1000, aborted, dispose };
  } catch (e) {
    await dispose();
    throw e;
  } finally {
    const now = new Date().toISOString();
    store.updateRun(runId, { status, end: now, heartbeat: now });
  }
}
