/**
 * BullMQExecutor: the coordinator (the run) puts each candidate on a BullMQ queue in Redis;
 * `modnas worker` processes on any machine take them (serve), rebuild the experiment from the
 * config the job carries, and return the metrics. Retries with backoff, and stalled-job detection
 * (a worker killed mid-job), are BullMQ's. The coordinator keeps the store: it records a trial
 * when its job completes, once per job, whatever the attempts.
 */
import { Redis } from 'ioredis';
import type { Job } from 'bullmq';
import { Queue, Worker } from 'bullmq';
import type { EstimContext, Logger } from '@modnas/core';
import { ModnasError, defineComponent, isModnasError, resolveToken, z } from '@modnas/core';
import type { CandidateEvaluator, CandidateJob, ExecutedTrial, Executor, ExecutorSession, RemoteCandidate, RemoteEvaluate, ServeOptions } from '@modnas/services';
import { ServiceTokens } from '@modnas/services';

export const bullMQExecutorSchema = z.strictObject({
  redis: z.string().default('redis://127.0.0.1:6379').describe('The Redis URL that the coordinator and every worker connect to'),
  queue: z.string().min(1).default('modnas').describe('The BullMQ queue name (workers started with the same --queue take its jobs)'),
  attempts: z.number().int().positive().default(3).describe('Attempts per candidate before its trial is failed (BullMQ retries a job that threw)'),
  backoff_ms: z.number().int().min(0).default(1000).describe('First retry delay; it doubles with each attempt (BullMQ exponential backoff)'),
  max_in_flight: z.number().int().positive().default(16).describe('Candidates on the queue at once (the most the workers can share)'),
  no_worker_timeout_s: z.number().min(0).default(60).describe('Fail the run when no worker has been connected to the queue for this long while candidates wait (0: wait forever)'),
  poll_ms: z.number().int().positive().default(200).describe('How often the coordinator looks at its jobs'),
});
export type BullMQExecutorConfig = z.output<typeof bullMQExecutorSchema>;

/** What a job carries besides the candidate: where the weights are in Redis. */
export interface BullMQJobData extends RemoteCandidate {
  weightsKey: string;
}

const REFUSAL = /^(MODNAS_E_WORKER_[A-Z_]+): /;

function connect(url: string): Redis {
  // BullMQ needs maxRetriesPerRequest null: commands wait for a reconnect instead of failing.
  return new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(200 * times, 2000) });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class BullMQExecutor implements Executor {
  readonly remote = true;
  private conn?: Redis;
  private queue?: Queue;
  private down = false;

  constructor(readonly config: BullMQExecutorConfig) {}

  get description(): string {
    return `BullMQ workers on queue "${this.config.queue}" at ${this.config.redis}`;
  }

  private connection(logger: Logger): { conn: Redis; queue: Queue } {
    if (!this.conn || !this.queue) {
      const conn = connect(this.config.redis);
      conn.on('error', (e: Error) => {
        if (this.down) return;
        this.down = true;
        logger.warn(`executor: lost Redis at ${this.config.redis} (${e.message}); waiting for it to come back, the candidates on the queue are kept`);
      });
      conn.on('ready', () => {
        if (!this.down) return;
        this.down = false;
        logger.info(`executor: Redis at ${this.config.redis} is back; continuing`);
      });
      this.conn = conn;
      this.queue = new Queue(this.config.queue, { connection: conn });
    }
    return { conn: this.conn, queue: this.queue };
  }

  async open(ctx: EstimContext, _evaluator: CandidateEvaluator): Promise<ExecutorSession> {
    const image = resolveToken(ctx.container, ServiceTokens.ExperimentImage);
    if (!image) throw new ModnasError('MODNAS_E_EXECUTOR_CONTEXT', 'BullMQExecutor needs the experiment image (ServiceTokens.ExperimentImage), which the runner binds', { fix: 'run the experiment with runExperiment / modnas run', where: 'executor' });
    const c = this.config;
    const { conn, queue } = this.connection(ctx.logger);
    const weights = image.weights();
    const weightsKey = `modnas:${c.queue}:weights:${weights.id}`;
    await conn.set(weightsKey, Buffer.from(weights.bytes), 'EX', 7 * 24 * 3600);
    // A fresh prefix per session: job ids of an earlier (killed) run never collide with this one's.
    const session = `${image.configHash}-${Date.now().toString(36)}-${process.pid}`;
    let noWorkerSince: number | undefined;
    let warned = false;
    const checkWorkers = async (): Promise<void> => {
      if (c.no_worker_timeout_s === 0 || this.down) return;
      const n = await queue.getWorkersCount();
      if (n > 0) {
        noWorkerSince = undefined;
        return;
      }
      noWorkerSince ??= Date.now();
      const waited = (Date.now() - noWorkerSince) / 1000;
      if (!warned && waited >= Math.min(5, c.no_worker_timeout_s / 2)) {
        warned = true;
        ctx.logger.warn(`executor: no worker is connected to queue "${c.queue}" at ${c.redis}; start one with: modnas worker --redis ${c.redis}${c.queue === 'modnas' ? '' : ` --queue ${c.queue}`}`);
      }
      if (waited >= c.no_worker_timeout_s) {
        throw new ModnasError('MODNAS_E_EXECUTOR_NO_WORKER', `no worker took candidates from queue "${c.queue}" at ${c.redis} for ${c.no_worker_timeout_s}s`, {
          fix: `start workers with \`modnas worker --redis ${c.redis}\` in a project with the same plugins (see the README, Executors), or raise executor.no_worker_timeout_s`,
          where: 'executor.no_worker_timeout_s',
        });
      }
    };
    const add = async (id: string, data: BullMQJobData): Promise<void> => {
      await queue.add('candidate', data, { jobId: id, attempts: c.attempts, backoff: { type: 'exponential', delay: c.backoff_ms }, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } });
    };
    const submit = async (job: CandidateJob): Promise<ExecutedTrial> => {
      const id = `${session}-${job.estim}-${job.index}`;
      const data: BullMQJobData = { ...job, configHash: image.configHash, config: image.config, plugins: image.plugins, cwd: image.cwd, weightsId: weights.id, weightsKey };
      await add(id, data);
      for (;;) {
        await sleep(c.poll_ms);
        if (ctx.signal?.aborted) throw new ModnasError('MODNAS_E_RUN_INTERRUPTED', `interrupted while candidate ${job.index + 1} was on the queue`, { fix: 'run again with --resume' });
        const state = await queue.getJobState(id);
        if (state === 'completed') {
          const done = await queue.getJob(id);
          return done?.returnvalue as ExecutedTrial;
        }
        if (state === 'failed') {
          const failed = await queue.getJob(id);
          throw jobError(failed, job);
        }
        if (state === 'unknown') {
          // Redis lost its data (restarted without persistence): put the candidate back.
          ctx.logger.warn(`executor: candidate ${job.index + 1} is no longer on the queue (Redis restarted without its data?); submitting it again`);
          await conn.set(weightsKey, Buffer.from(weights.bytes), 'EX', 7 * 24 * 3600);
          await add(id, data);
          continue;
        }
        if (state === 'waiting' || state === 'prioritized') await checkWorkers();
        else noWorkerSince = undefined;
      }
    };
    return { concurrency: c.max_in_flight, submit, close: async () => undefined };
  }

  async close(): Promise<void> {
    await this.queue?.close();
    this.conn?.disconnect();
    this.queue = undefined;
    this.conn = undefined;
  }

  /** `modnas worker`: take candidates from the queue until the signal aborts. */
  async serve(evaluate: RemoteEvaluate, opts: ServeOptions): Promise<void> {
    const c = this.config;
    const conn = connect(c.redis);
    const data = connect(c.redis);
    let down = false;
    conn.on('error', (e: Error) => {
      if (!down) opts.logger.warn(`worker ${opts.worker}: lost Redis at ${c.redis} (${e.message}); waiting for it`);
      down = true;
    });
    conn.on('ready', () => {
      if (down) opts.logger.info(`worker ${opts.worker}: Redis at ${c.redis} is back`);
      down = false;
    });
    data.on('error', () => undefined);
    const worker = new Worker(
      c.queue,
      async (job: Job<BullMQJobData>) => {
        const d = job.data;
        opts.logger.info(`worker ${opts.worker}: candidate ${d.index + 1} of ${d.estim} (job ${job.id}, attempt ${job.attemptsMade + 1})`);
        try {
          return await evaluate(d, async () => {
            const bytes = await data.getBuffer(d.weightsKey);
            if (!bytes) throw new ModnasError('MODNAS_E_WORKER_WEIGHTS_MISSING', `the weights ${d.weightsKey} are not in Redis (expired, or Redis lost its data)`, { fix: 'run the search again' });
            return bytes;
          });
        } catch (e) {
          opts.logger.warn(`worker ${opts.worker}: candidate ${d.index + 1} failed: ${(e as Error).message.split('\n')[0]}`);
          // the code leads the message, so the coordinator can tell a refusal from an evaluation error
          throw new Error(isModnasError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e));
        }
      },
      {
        connection: conn,
        concurrency: opts.concurrency,
        name: opts.worker,
        // BullMQ's stalled-job detection: the lock lapses when this worker dies, and another moves the job back to wait
        lockDuration: opts.stalledAfterMs ?? 30_000,
        stalledInterval: opts.stalledAfterMs ?? 30_000,
        maxStalledCount: 2,
      },
    );
    worker.on('error', (e: Error) => {
      if (!down) opts.logger.warn(`worker ${opts.worker}: ${e.message}`);
    });
    opts.logger.info(`worker ${opts.worker}: waiting for candidates on queue "${c.queue}" at ${c.redis} (concurrency ${opts.concurrency})`);
    await new Promise<void>((resolve) => {
      if (opts.signal.aborted) resolve();
      opts.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    opts.logger.info(`worker ${opts.worker}: stopping after the jobs in hand`);
    await worker.close();
    conn.disconnect();
    data.disconnect();
  }
}

/** The error of a job that failed after its attempts: a worker's refusal fails the run, an evaluation error the trial. */
function jobError(job: Job | undefined, cand: CandidateJob): ModnasError {
  const reason = job?.failedReason ?? 'unknown reason';
  const attempts = job?.attemptsMade ?? 0;
  const m = REFUSAL.exec(reason);
  if (m) {
    return new ModnasError(m[1], `candidate ${cand.index + 1}: ${reason.slice(m[0].length)}`, { where: `executor (job ${job?.id}, ${attempts} attempt(s))` });
  }
  return new ModnasError('MODNAS_E_EXECUTOR_JOB_FAILED', `candidate ${cand.index + 1} failed on the worker after ${attempts} attempt(s): ${reason}`, { where: `executor (job ${job?.id})` });
}

export const bullMQExecutor = defineComponent({
  kind: 'executor',
  id: 'BullMQExecutor',
  description: 'Evaluates candidates on `modnas worker` processes (any machine) through a BullMQ queue in Redis, with retries and stalled-job detection',
  schema: bullMQExecutorSchema,
  create: (config) => new BullMQExecutor(config),
});
