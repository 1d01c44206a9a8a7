/**
 * The executor service: where an estimator's candidates are evaluated (STYLE: services users
 * replace). This package owns the contract and the tokens; @modnas/runtime binds the executor the
 * config names (`executor: { type: ... }`, default kit-estim's InProcessExecutor) to
 * ServiceTokens.Executor, and holds the worker-thread executor; other packages (e.g.
 * @modnas/executor-bullmq) provide more, chosen by config alone.
 */
import type { Assignment, EstimContext, Logger, TrialResult } from '@modnas/core';

/** One candidate of one estimator. */
export interface CandidateJob {
  /** The estimator's name in the config (e.g. "search"). */
  estim: string;
  /** Which candidate of the estimator it is (0-based, in the order they were submitted). */
  index: number;
  arch: Assignment;
}

/** A trial result with where it was computed. */
export interface ExecutedTrial extends TrialResult {
  /** The worker that evaluated it (host:pid, thread id ...); absent in-process. */
  worker?: string;
}

/** An estimator whose candidates an executor may evaluate elsewhere: one candidate on the network in ctx. */
export interface CandidateEvaluator {
  evaluateCandidate(ctx: EstimContext, arch: Assignment, index: number): Promise<TrialResult>;
  /**
   * Why this configuration cannot be evaluated by a remote executor (state shared between
   * candidates, e.g. successive halving), or undefined when it can.
   */
  remoteBlocker?(): string | undefined;
}

export function isCandidateEvaluator(x: unknown): x is CandidateEvaluator {
  return typeof x === 'object' && x !== null && typeof (x as CandidateEvaluator).evaluateCandidate === 'function';
}

/** The candidates of one estimator run: opened when it starts, closed when it ends. */
export interface ExecutorSession {
  /** Candidates evaluated at once: the estimator keeps this many submitted. */
  readonly concurrency: number;
  /**
   * Evaluate one candidate. Rejects with a ModnasError (MODNAS_E_EXECUTOR_JOB_FAILED: the
   * evaluation threw on the worker, after the executor's retries) or another executor error.
   */
  submit(job: CandidateJob): Promise<ExecutedTrial>;
  close(): Promise<void>;
}

/** The executor (ServiceTokens.Executor). */
export interface Executor {
  /** A short description for the log, e.g. "2 worker threads". */
  readonly description: string;
  /** True when candidates are evaluated on networks rebuilt from the config (weights shipped at open). */
  readonly remote: boolean;
  open(ctx: EstimContext, evaluator: CandidateEvaluator): Promise<ExecutorSession>;
  /** Release workers and connections (the runner calls it when the run ends). */
  close(): Promise<void>;
  /**
   * Checks that need no worker, such as credentials being present: the runner calls it when it
   * binds the executor, so a missing secret fails the run before any training.
   */
  preflight?(logger: Logger): Promise<void>;
  /**
   * The worker side of a distributed executor (`modnas worker`): take jobs from where the
   * coordinator puts them and evaluate each with `evaluate`, until `signal` aborts. It authenticates
   * every job before `evaluate` sees it; what reaches `evaluate` is a request to evaluate, never a
   * path, folder or code location to act on.
   */
  serve?(evaluate: RemoteEvaluate, opts: ServeOptions): Promise<void>;
}

export interface ServeOptions {
  /** Jobs evaluated at once by this worker process. */
  concurrency: number;
  /** This worker's name in logs and trial records (host:pid). */
  worker: string;
  logger: Logger;
  signal: AbortSignal;
  /** A job whose worker has not been heard from for this long counts as stalled and goes to another worker. */
  stalledAfterMs?: number;
}

/**
 * What a remote executor ships so that a worker rebuilds the same experiment: bound to
 * ServiceTokens.ExperimentImage by the runner.
 */
export interface ExperimentImage {
  /** The validated experiment config, JSON. */
  readonly config: Record<string, unknown>;
  /** The hash that identifies the run-defining part of the config (the store's run config hash). */
  readonly configHash: string;
  /** The packages the config's components come from, as name@version: a worker must have each. */
  readonly plugins: readonly string[];
  /**
   * The run's project folder: in-process executors (worker threads) discover plugins and find an
   * optional @tensorflow/tfjs-node from it. Never shipped to remote workers, which use their own.
   */
  readonly cwd: string;
  /** The network's weights and buffers as they are now (encoded), and an id that changes when they do. */
  weights(): { id: string; bytes: Uint8Array };
}

/**
 * A candidate as a remote worker receives it: the job and what it needs to rebuild the experiment.
 * It names no folder, plugin location or backend: those are the worker's own (its command line,
 * its cwd, its --config), and paths inside `config` are confined to the worker's folders.
 */
export interface RemoteCandidate extends CandidateJob {
  configHash: string;
  config: Record<string, unknown>;
  plugins: readonly string[];
  /** The weights to evaluate on (ExperimentImage.weights().id). */
  weightsId: string;
}

/**
 * What a worker evaluates remote candidates with (runtime's createRemoteEvaluator): it rebuilds
 * the experiment once per config hash, loads the data once, and fetches weights when their id changes.
 */
export type RemoteEvaluate = (job: RemoteCandidate, fetchWeights: () => Promise<Uint8Array>) => Promise<ExecutedTrial>;
