/**
 * The worker's side of a remote executor: evaluate candidates of an experiment that this process
 * rebuilds from the config a job carries. It checks first that it can (every plugin the job names
 * is installed here, and the config validates here to the coordinator's config hash), builds the
 * network and loads the data once per config hash, loads the coordinator's weights when their id
 * changes, and evaluates with the estimator's own evaluateCandidate. Used by worker threads and by
 * `modnas worker`.
 *
 * What a job decides and what it does not: it chooses the candidate, the estimator and the
 * experiment config; the backend, the plugins and the folder are the worker's own (its options
 * here). With `confine` set (`modnas worker`: the job came from a queue), every path in the job's
 * config must lie inside the worker's folders (job-paths.ts), and what goes back is the code of a
 * failure, never a message that may quote a file the worker read.
 */
import { hostname } from 'node:os';
import type { DependencyContainer } from 'tsyringe';
import type { Logger, Registry } from '@modnas/core';
import type { ArchSpace } from '@modnas/core';
import { EventBus, ModnasError, getRegistry, isModnasError, silentLogger, silentProgress } from '@modnas/core';
import type { ExperimentPlan, JsonObject } from '@modnas/config';
import { validateExperiment } from '@modnas/config';
import { candidateContext } from '@modnas/kit-estim';
import { testKillPoint } from '@modnas/kit-io';
import type { CandidateEvaluator, ExecutedTrial, RemoteCandidate, RemoteEvaluate } from '@modnas/services';
import { MemoryExperimentStore, configHash, diffConfigKeys, isCandidateEvaluator, loadWeightBytes } from '@modnas/services';
import { selectBackend } from './backend.js';
import type { BuiltNetwork, ComponentFactory } from './build.js';
import { buildNetwork, componentFactory } from './build.js';
import { estimContextOf, experimentScope } from './scope.js';
import { registerRuntimeComponents } from './executors/bind.js';
import type { WorkerFolders } from './executors/job-paths.js';
import { WORKER_PATH_CODE, checkJobPaths } from './executors/job-paths.js';

export interface RemoteEvaluatorOptions {
  registry?: Registry;
  logger?: Logger;
  /** This evaluator's own project folder, where an optional @tensorflow/tfjs-node is resolved (default: process.cwd()). */
  cwd?: string;
  /** The caller has set up the backend already (`modnas worker` does at start): the jobs' `backend` key is not used. */
  backendChosen?: boolean;
  /**
   * Jobs come from outside this process (a queue): refuse paths outside these folders
   * (MODNAS_E_WORKER_PATH), and send back failures of validation and build by code only
   * (their messages stay in this worker's log).
   */
  confine?: WorkerFolders;
  /** Refuse jobs of any other config hash (`modnas worker --config`). */
  pinnedHash?: string;
  /** This worker's name in trial records (default host:pid). */
  worker?: string;
  /** Kernel threads of this worker's engine (default: the engine's own, all cores). */
  kernelThreads?: number;
}

interface Engine {
  hash: string;
  plan: ExperimentPlan;
  container: DependencyContainer;
  space: ArchSpace;
  built: BuiltNetwork;
  factory: ComponentFactory;
  estims: Map<string, CandidateEvaluator>;
  weightsId?: string;
}

export const WORKER_CODES = {
  pluginMissing: 'MODNAS_E_WORKER_PLUGIN_MISSING',
  configHash: 'MODNAS_E_WORKER_CONFIG_HASH',
  estim: 'MODNAS_E_WORKER_ESTIM',
  path: WORKER_PATH_CODE,
  build: 'MODNAS_E_WORKER_BUILD',
} as const;

/** An evaluation error as a confined worker sends it back: its code and first line, no longer than this. */
const MAX_REASON = 300;

/** A worker's evaluator: one engine (network, data) at a time, rebuilt when a job's config hash differs; jobs run one at a time. */
export function createRemoteEvaluator(opts: RemoteEvaluatorOptions = {}): { evaluate: RemoteEvaluate; dispose(): void } {
  const registry = opts.registry ?? getRegistry();
  registerRuntimeComponents(registry);
  const logger = opts.logger ?? silentLogger;
  const worker = opts.worker ?? `${hostname()}:${process.pid}`;
  let engine: Engine | undefined;
  let backendChosen = false;
  let queue: Promise<unknown> = Promise.resolve();

  const dispose = (): void => {
    engine?.built.trainer?.dispose();
    engine?.built.model.dispose();
    engine?.space.dispose();
    engine = undefined;
  };

  /** This worker's own refusals: authored messages, sent back whole. */
  const refusals = new WeakSet<Error>();
  const refuse = (code: string, message: string, fix: string): ModnasError => {
    const e = new ModnasError(code, `worker ${worker} refuses the job: ${message}`, { fix, where: `worker ${worker}` });
    refusals.add(e);
    return e;
  };

  const build = async (job: RemoteCandidate): Promise<Engine> => {
    if (opts.pinnedHash && job.configHash !== opts.pinnedHash) {
      // the hash this worker serves is not said: a consistency check, not something to aim at
      throw refuse(WORKER_CODES.configHash, `it serves one experiment only (--config), and the job's config hash ${job.configHash} is another`, 'start this worker with the coordinator\'s config (or without --config), or run the coordinator with the worker\'s config');
    }
    if (opts.confine) {
      try {
        checkJobPaths(job.config, opts.confine, worker);
      } catch (e) {
        refusals.add(e as Error);
        throw e;
      }
    }
    const installed = new Map(registry.packageList().filter((p) => p.status !== 'broken').map((p) => [p.name, p.version]));
    const missing = job.plugins.map((p) => p.slice(0, p.lastIndexOf('@'))).filter((name) => !installed.has(name));
    if (missing.length) {
      throw refuse(WORKER_CODES.pluginMissing, `the experiment needs ${missing.join(', ')}, not installed here`, `npm i ${missing.join(' ')} in the worker's project (the same plugins as the coordinator's), then restart the worker`);
    }
    for (const p of job.plugins) {
      const at = p.lastIndexOf('@');
      const v = installed.get(p.slice(0, at));
      if (v !== p.slice(at + 1)) logger.warn(`worker ${worker}: ${p.slice(0, at)} is ${v} here and ${p.slice(at + 1)} on the coordinator`);
    }
    let plan: ExperimentPlan;
    try {
      plan = await validateExperiment(job.config as JsonObject, { registry, where: `the job's config (hash ${job.configHash})` });
    } catch (e) {
      if (!opts.confine) throw refuse(WORKER_CODES.configHash, `the experiment's config does not validate with this worker's plugins: ${(e as Error).message.split('\n').slice(0, 4).join(' ')}`, 'install the same plugin versions as the coordinator');
      // the keys only: a message may quote a file that validation read (an arch_desc)
      logger.warn(`worker ${worker}: the job's config does not validate here: ${(e as Error).message}`);
      const keys = [...(e as Error).message.matchAll(/^\s*- ([^\s:]+):/gm)].map((m) => m[1]).slice(0, 5);
      throw refuse(WORKER_CODES.configHash, `the experiment's config does not validate with this worker's plugins (${isModnasError(e) ? e.code : 'uncoded error'}${keys.length ? ` at ${keys.join(', ')}` : ''}; the details are in the worker's log)`, 'install the same plugin versions as the coordinator');
    }
    const hash = configHash(plan.config);
    if (hash !== job.configHash) {
      const keys = diffConfigKeys(job.config, plan.config).slice(0, 5).join(', ');
      throw refuse(WORKER_CODES.configHash, `the config validates here to another hash than the coordinator's ${job.configHash} (differs at ${keys || 'defaults'})`, 'install the same plugin versions as the coordinator (their defaults differ)');
    }
    if (!backendChosen && !opts.backendChosen) {
      await selectBackend({ prefer: plan.config.backend, registry, logger, cwd: opts.cwd, threads: opts.kernelThreads });
      backendChosen = true;
    }
    dispose();
    const { container, space } = experimentScope(plan, { logger, events: new EventBus(), progress: silentProgress, store: new MemoryExperimentStore() });
    const factory = componentFactory({ plan, registry, container });
    let built: BuiltNetwork;
    try {
      built = await buildNetwork({ plan, registry, container }, factory);
    } catch (e) {
      if (!opts.confine) throw e;
      throw buildFailure(e);
    }
    logger.info(`worker ${worker}: built experiment ${plan.config.name} (config hash ${hash})`);
    return { hash, plan, container, space, built, factory, estims: new Map() };
  };

  /** A failure while building (data, model, constructors: where files are read) goes back as its code; the message stays here. */
  const buildFailure = (e: unknown): ModnasError => {
    logger.warn(`worker ${worker}: building the job's experiment failed: ${(e as Error)?.message ?? String(e)}`);
    const code = isModnasError(e) ? e.code : 'an uncoded error';
    return refuse(WORKER_CODES.build, `building the experiment failed here with ${code} (the message is in the worker's log only: it may quote a file of this worker)`, 'read the worker\'s log; the data files and plugins the config names must be the same on the worker as on the coordinator');
  };

  const estimOf = async (e: Engine, name: string): Promise<CandidateEvaluator> => {
    const have = e.estims.get(name);
    if (have) return have;
    if (!Object.hasOwn(e.plan.config.estim, name)) throw refuse(WORKER_CODES.estim, `the config has no estimator ${JSON.stringify(name)}`, 'send candidates of an estimator the config names');
    let made: unknown;
    try {
      made = await e.factory.create<'estim'>(`estim.${name}`);
    } catch (err) {
      if (!opts.confine) throw err;
      throw buildFailure(err);
    }
    if (!isCandidateEvaluator(made)) {
      throw refuse(WORKER_CODES.estim, `estim.${name} (${e.plan.config.estim[name]?.type}) does not evaluate single candidates (no evaluateCandidate)`, 'use an estimator that does (SubNetEstimator), or remove the executor key');
    }
    e.estims.set(name, made);
    return made;
  };

  const run = async (job: RemoteCandidate, fetchWeights: () => Promise<Uint8Array>): Promise<ExecutedTrial> => {
    if (!engine || engine.hash !== job.configHash) engine = await build(job);
    const e = engine;
    const estim = await estimOf(e, job.estim);
    if (e.weightsId !== job.weightsId) {
      loadWeightBytes(e.built.model, await fetchWeights());
      e.weightsId = job.weightsId;
    }
    // The fault suite's kill point: a worker killed while a job is active.
    testKillPoint('worker-job');
    // the candidate's own streams, as in-process
    const ctx = candidateContext(estimContextOf(e.container, job.estim), e.plan.config.seed, job.index);
    const t0 = Date.now();
    const r = await estim.evaluateCandidate(ctx, job.arch, job.index);
    return { ...r, seconds: (Date.now() - t0) / 1000, worker };
  };

  /** An evaluation error as a confined worker sends it back: code and first line, bounded. */
  const confined = async (job: RemoteCandidate, fetchWeights: () => Promise<Uint8Array>): Promise<ExecutedTrial> => {
    try {
      return await run(job, fetchWeights);
    } catch (e) {
      if (e instanceof Error && refusals.has(e)) throw e;
      const first = ((e as Error)?.message ?? String(e)).split('\n')[0];
      const short = first.length > MAX_REASON ? `${first.slice(0, MAX_REASON)}...` : first;
      throw isModnasError(e) ? new ModnasError(e.code, short) : new Error(short);
    }
  };

  const evaluate: RemoteEvaluate = (job, fetchWeights) => {
    // one network: jobs take turns
    const next = queue.then(() => (opts.confine ? confined(job, fetchWeights) : run(job, fetchWeights)));
    queue = next.catch(() => undefined);
    return next;
  };
  return { evaluate, dispose };
}
