/**
 * The estimator's side of the executor service: open a session on the executor bound in the
 * experiment's container, and evaluate a batch of candidates through it, as many at once as it
 * takes, handing each result back as it arrives.
 */
import type { EstimContext } from '@modnas/core';
import { ModnasError, Rng, Tokens, isModnasError, resolveToken, setTensorSeed } from '@modnas/core';
import type { CandidateEvaluator, CandidateJob, ExecutedTrial, Executor, ExecutorSession } from '@modnas/services';
import { ServiceTokens } from '@modnas/services';
import { failedTrial } from './estim-base.js';

/**
 * Seed candidate `index`'s streams and return ctx with its own: ctx.rng (batch order, the batches
 * that recalibrate batch norm) and the tensor stream (dropout) are functions of the experiment's
 * seed and the index alone, so a candidate is evaluated alike in-process, in a worker thread or on
 * another machine, whatever was evaluated before it.
 */
export function candidateContext(ctx: Omit<EstimContext, 'rng'>, seed: number, index: number): EstimContext {
  setTensorSeed(new Rng(seed ^ 0x7e45).fork(index + 1).int(0x7fffffff));
  return { ...ctx, rng: new Rng(seed).fork(index + 1) };
}

/**
 * The default executor: candidates evaluated one by one in the run's own process, on its own
 * network (also what openExecutor uses where no executor is bound).
 */
export class InProcessExecutor implements Executor {
  readonly description = 'the run process';
  readonly remote = false;

  async open(ctx: EstimContext, evaluator: CandidateEvaluator): Promise<ExecutorSession> {
    const seed = resolveToken(ctx.container, Tokens.Config)?.seed;
    return {
      concurrency: 1,
      // a context built by hand (no experiment config bound) keeps its own stream
      submit: async (job) => evaluator.evaluateCandidate(typeof seed === 'number' ? candidateContext(ctx, seed, job.index) : ctx, job.arch, job.index),
      close: async () => undefined,
    };
  }

  async close(): Promise<void> {}
}

/**
 * A session on the executor the experiment binds (ServiceTokens.Executor); in-process when none is bound
 * (an EstimContext built by hand). A remote executor is refused, naming the key, when the
 * estimator's configuration shares state between candidates.
 */
export async function openExecutor(ctx: EstimContext, evaluator: CandidateEvaluator): Promise<ExecutorSession> {
  const executor = resolveToken(ctx.container, ServiceTokens.Executor);
  if (!executor) return new InProcessExecutor().open(ctx, evaluator);
  if (executor.remote) {
    const blocker = evaluator.remoteBlocker?.();
    if (blocker) {
      throw new ModnasError('MODNAS_E_EXECUTOR_UNSUPPORTED', `estim ${ctx.name}: ${blocker}, so its candidates cannot be evaluated by ${executor.description}`, {
        fix: `remove the executor key (evaluate in-process), or change estim.${ctx.name} as said`,
        where: `executor, estim.${ctx.name}`,
      });
    }
    ctx.logger.info(`${ctx.name}: candidates evaluated by ${executor.description}`);
  }
  return executor.open(ctx, evaluator);
}

/** The code of a job that threw on a worker (after the executor's retries). */
export const JOB_FAILED_CODE = 'MODNAS_E_EXECUTOR_JOB_FAILED';

/**
 * Evaluate `jobs` through the session, keeping up to session.concurrency of them submitted; `done`
 * runs once per job, in the order they finish (never two at once). A job that failed on a remote
 * worker (JOB_FAILED_CODE) becomes a failed trial with the worker's error; any other error stops
 * the batch and is thrown once the jobs already submitted have settled. `stop()` true: submit no more.
 */
export async function evaluateJobs(session: ExecutorSession, jobs: readonly CandidateJob[], done: (job: CandidateJob, r: ExecutedTrial, position: number) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  let failure: unknown;
  let chain = Promise.resolve();
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < jobs.length && !stop()) {
      const position = next++;
      const job = jobs[position];
      const t0 = Date.now();
      let r: ExecutedTrial;
      try {
        r = await session.submit(job);
      } catch (e) {
        if (!(isModnasError(e) && e.code === JOB_FAILED_CODE)) {
          failure ??= e;
          return;
        }
        r = failedTrial(job.arch, e.message.split('\n')[0]);
      }
      r.seconds ??= (Date.now() - t0) / 1000;
      // results are reported one at a time, in the order they arrive
      const reported = chain.then(() => done(job, r, position));
      chain = reported.catch(() => undefined);
      try {
        await reported;
      } catch (e) {
        failure ??= e;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(session.concurrency, jobs.length)) }, lane));
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
}
