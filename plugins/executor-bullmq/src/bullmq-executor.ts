/**
 * BullMQExecutor: the coordinator (the run) puts each candidate on a BullMQ queue in Redis;
 * `modnas worker` processes on any machine take them (serve), rebuild the experiment from the
 * config the job carries, and return the metrics. Retries with backoff, and stalled-job detection
 * (a worker killed mid-job), are BullMQ's. The coordinator keeps the store: it records a trial
 * when its job completes, once per job, whatever the attempts. Jobs, results and failures are
 * signed with a secret the coordinator and workers share (auth.ts): the queue is a transport,
 * never a source of authority.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Job } from 'bullmq';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { EstimContext, Logger } from '@modnas/core';
import { ModnasError, defineComponent, isModnasError, resolveToken, z } from '@modnas/core';
import type { CandidateEvaluator, CandidateJob, ExecutedTrial, Executor, ExecutorSession, RemoteCandidate, RemoteEvaluate, ServeOptions } from '@modnas/services';
import { ServiceTokens } from '@modnas/services';
import type { Secret } from './auth.js';
import { REDIS_PASSWORD_ENV, WORKER_AUTH_CODE, canonicalJson, loadSecret, openFailure, openJob, readSecretFile, redactUrl, sign, signFailure, signJob, verify, wireForm } from './auth.js';

export const bullMQExecutorSchema = z.strictObject({
  redis: z.string().default('redis://127.0.0.1:6379').describe('The Redis URL that the coordinator and every worker connect to: redis://[user@]host:port[/db], rediss:// for TLS (keep the password out of it: it is stored with the config; use redis_password_file)'),
  redis_password_file: z.string().default('').describe('A file holding the Redis password (of the URL\'s ACL user, or the default user); \'\' = MODNAS_REDIS_PASSWORD, else the URL\'s own'),
  secret_file: z.string().default('').describe('A file holding the secret shared with the workers, which signs every job and result (HMAC-SHA256); \'\' = MODNAS_WORKER_SECRET_FILE, else MODNAS_WORKER_SECRET. Required: unsigned jobs are never sent'),
  queue: z.string().min(1).default('modnas').describe('The BullMQ queue name (workers started with the same --queue take its jobs)'),
  attempts: z.number().int().positive().default(3).describe('Attempts per candidate before its trial is failed (BullMQ retries a job that threw)'),
  backoff_ms: z.number().int().min(0).default(1000).describe('First retry delay; it doubles with each attempt (BullMQ exponential backoff)'),
  max_in_flight: z.number().int().positive().default(16).describe('Candidates on the queue at once (the most the workers can share)'),
  no_worker_timeout_s: z.number().min(0).default(60).describe('Fail the run when no worker has been connected to the queue for this long while candidates wait (0: wait forever)'),
  poll_ms: z.number().int().positive().default(200).describe('How often the coordinator looks at its jobs'),
});
export type BullMQExecutorConfig = z.output<typeof bullMQExecutorSchema>;

/** What a job carries besides the candidate: where the weights are in Redis and their digest (all of it signed). */
export interface BullMQJobData extends RemoteCandidate {
  weightsKey: string;
  /** SHA-256 (hex) of the weights' bytes: a worker loads only the bytes the coordinator signed for. */
  weightsSha256: string;
}

/** What a worker returns: the trial, and its signature over the job id. */
interface SignedResult {
  trial: ExecutedTrial;
  sig: string;
}

const REFUSAL = /^(MODNAS_E_WORKER_[A-Z_]+): /;
/** Reasons BullMQ itself gives a job (no worker signs them): taken as a failed candidate, never echoed. */
const QUEUE_REASON = /^job (stalled|started) more than allowable limit$/;
/** How long a worker told to stop waits for an unreachable Redis before it stops without it. */
export const STOP_WITHOUT_REDIS_MS = 3000;

/** The URL ioredis connects with: the password from the file or MODNAS_REDIS_PASSWORD in place of the URL's own. */
export function connectionUrl(c: Pick<BullMQExecutorConfig, 'redis' | 'redis_password_file'>, where: string, env: NodeJS.ProcessEnv = process.env): { url: string; warnings: string[] } {
  let u: URL;
  try {
    u = new URL(c.redis);
  } catch (e) {
    throw new ModnasError('MODNAS_E_EXECUTOR_REDIS_URL', `${JSON.stringify(redactUrl(c.redis))} is not a Redis URL`, { fix: 'write it as redis://[user@]host:port[/db], or rediss://... for TLS', where, cause: e });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ModnasError('MODNAS_E_EXECUTOR_REDIS_URL', `${JSON.stringify(redactUrl(c.redis))} is not a Redis URL (it starts with ${u.protocol})`, { fix: 'write it as redis://[user@]host:port[/db], or rediss://... for TLS', where });
  }
  const warnings: string[] = [];
  let password: string | undefined;
  if (c.redis_password_file) {
    const read = readSecretFile(c.redis_password_file, 'Redis password', `${where} redis_password_file`);
    password = read.value;
    warnings.push(...read.warnings);
  } else if (env[REDIS_PASSWORD_ENV]) {
    password = env[REDIS_PASSWORD_ENV];
  }
  if (password !== undefined) u.password = encodeURIComponent(password);
  return { url: u.toString(), warnings };
}

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
  private secret?: Secret;

  constructor(readonly config: BullMQExecutorConfig) {}

  /** The Redis URL as logs show it (no password). */
  get redisShown(): string {
    return redactUrl(this.config.redis);
  }

  get description(): string {
    return `BullMQ workers on queue "${this.config.queue}" at ${this.redisShown}`;
  }

  /** The shared secret (loaded once; MODNAS_E_WORKER_AUTH when there is none). */
  private key(logger: Logger, key: string): Buffer {
    if (!this.secret) {
      this.secret = loadSecret({ file: this.config.secret_file, key });
      for (const w of this.secret.warnings) logger.warn(`executor: ${w}`);
    }
    return this.secret.key;
  }

  /**
   * Before any work (the run's training, a worker's first job): the secret is there, the Redis URL
   * parses, and a password written in the URL is pointed out.
   */
  async preflight(logger: Logger): Promise<void> {
    this.key(logger, 'executor.secret_file (modnas worker: --secret-file)');
    connectionUrl(this.config, 'executor.redis');
    if (URL.canParse(this.config.redis) && new URL(this.config.redis).password) {
      logger.warn('executor: the Redis URL carries its password, which then sits in stored configs (outputs/config.yaml, the store, every job), shell histories and `ps`: give it by redis_password_file (modnas worker --redis-password-file) or MODNAS_REDIS_PASSWORD instead');
    }
    logger.info(`executor: jobs and results are signed with the shared secret from ${this.secret?.source}`);
  }

  private connection(logger: Logger): { conn: Redis; queue: Queue } {
    if (!this.conn || !this.queue) {
      const { url, warnings } = connectionUrl(this.config, 'executor');
      for (const w of warnings) logger.warn(`executor: ${w}`);
      const conn = connect(url);
      const shown = this.redisShown;
      conn.on('error', (e: Error) => {
        if (this.down) return;
        this.down = true;
        logger.warn(`executor: lost Redis at ${shown} (${e.message}); waiting for it to come back, the candidates on the queue are kept`);
      });
      conn.on('ready', () => {
        if (!this.down) return;
        this.down = false;
        logger.info(`executor: Redis at ${shown} is back; continuing`);
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
    const key = this.key(ctx.logger, 'executor.secret_file');
    const { conn, queue } = this.connection(ctx.logger);
    const shown = this.redisShown;
    const weights = image.weights();
    const weightsKey = `modnas:${c.queue}:weights:${weights.id}`;
    const weightsSha256 = createHash('sha256').update(weights.bytes).digest('hex');
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
        ctx.logger.warn(`executor: no worker is connected to queue "${c.queue}" at ${shown}; start one with: modnas worker --redis ${shown}${c.queue === 'modnas' ? '' : ` --queue ${c.queue}`} --secret-file <the same secret file>`);
      }
      if (waited >= c.no_worker_timeout_s) {
        throw new ModnasError('MODNAS_E_EXECUTOR_NO_WORKER', `no worker took candidates from queue "${c.queue}" at ${shown} for ${c.no_worker_timeout_s}s`, {
          fix: `start workers with \`modnas worker --redis ${shown} --secret-file <the same secret file>\` in a project with the same plugins (see the README, Executors), or raise executor.no_worker_timeout_s`,
          where: 'executor.no_worker_timeout_s',
        });
      }
    };
    const add = async (id: string, data: BullMQJobData & { sig: string }): Promise<void> => {
      await queue.add('candidate', data, { jobId: id, attempts: c.attempts, backoff: { type: 'exponential', delay: c.backoff_ms }, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } });
    };
    const submit = async (job: CandidateJob): Promise<ExecutedTrial> => {
      const id = `${session}-${job.estim}-${job.index}`;
      // no folder, no backend, no plugin location: the worker uses its own
      const data = signJob(key, c.queue, id, { estim: job.estim, index: job.index, arch: job.arch, configHash: image.configHash, config: image.config, plugins: image.plugins, weightsId: weights.id, weightsKey, weightsSha256 } satisfies BullMQJobData);
      await add(id, data);
      for (;;) {
        await sleep(c.poll_ms);
        if (ctx.signal?.aborted) throw new ModnasError('MODNAS_E_RUN_INTERRUPTED', `interrupted while candidate ${job.index + 1} was on the queue`, { fix: 'run again with --resume' });
        const state = await queue.getJobState(id);
        if (state === 'completed') {
          const done = await queue.getJob(id);
          return openResult(key, c.queue, id, done?.returnvalue, job);
        }
        if (state === 'failed') {
          const failed = await queue.getJob(id);
          throw jobError(key, c.queue, id, failed, job);
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

  /**
   * `modnas worker`: take candidates from the queue until the signal aborts. Every job's signature
   * is checked before anything else is read from it; a job that fails it is refused for good
   * (MODNAS_E_WORKER_AUTH, no retry). Results and failures go back signed.
   */
  async serve(evaluate: RemoteEvaluate, opts: ServeOptions): Promise<void> {
    const c = this.config;
    const log = opts.logger;
    const key = this.key(log, '--secret-file');
    const { url, warnings } = connectionUrl(c, '--redis');
    for (const w of warnings) log.warn(`worker ${opts.worker}: ${w}`);
    const shown = this.redisShown;
    const conn = connect(url);
    const data = connect(url);
    let down = false;
    conn.on('error', (e: Error) => {
      if (!down) log.warn(`worker ${opts.worker}: lost Redis at ${shown} (${e.message}); waiting for it`);
      down = true;
    });
    conn.on('ready', () => {
      if (down) log.info(`worker ${opts.worker}: Redis at ${shown} is back`);
      down = false;
    });
    data.on('error', () => undefined);
    const weightsPrefix = `modnas:${c.queue}:weights:`;
    const worker = new Worker(
      c.queue,
      async (job: Job) => {
        const id = job.id ?? '';
        const fail = (reason: string, unrecoverable = false): Error => {
          const signed = signFailure(key, c.queue, id, reason);
          return unrecoverable ? new UnrecoverableError(signed) : new Error(signed);
        };
        const opened = openJob(key, c.queue, id, job.data);
        if (!opened) {
          log.warn(`worker ${opts.worker}: refused job ${id}: it is not signed with this worker's secret (a coordinator with another secret, or someone else writing to the queue)`);
          throw fail(`${WORKER_AUTH_CODE}: worker ${opts.worker} refuses job ${id}: it is not signed with this worker's shared secret`, true);
        }
        const d = jobData(opened, weightsPrefix);
        if (!d) {
          log.warn(`worker ${opts.worker}: refused job ${id}: signed, but not in the form this worker reads`);
          throw fail(`MODNAS_E_WORKER_PROTOCOL: worker ${opts.worker} refuses job ${id}: it is not in the form this worker reads (a coordinator with another version of @modnas/executor-bullmq?)`, true);
        }
        log.info(`worker ${opts.worker}: candidate ${d.index + 1} of ${d.estim} (job ${id}, attempt ${job.attemptsMade + 1})`);
        const candidate: RemoteCandidate = { estim: d.estim, index: d.index, arch: d.arch, configHash: d.configHash, config: d.config, plugins: d.plugins, weightsId: d.weightsId };
        let trial: ExecutedTrial;
        try {
          trial = await evaluate(candidate, async () => {
            const bytes = await data.getBuffer(d.weightsKey);
            if (!bytes) throw new ModnasError('MODNAS_E_WORKER_WEIGHTS_MISSING', `the weights ${d.weightsKey} are not in Redis (expired, or Redis lost its data)`, { fix: 'run the search again' });
            if (createHash('sha256').update(bytes).digest('hex') !== d.weightsSha256) {
              throw new ModnasError(WORKER_AUTH_CODE, `the weights ${d.weightsKey} in Redis are not the ones the coordinator signed for`, { fix: 'someone other than the coordinator wrote them: secure the Redis (a password, an ACL user, a private network), then run again' });
            }
            return bytes;
          });
        } catch (e) {
          log.warn(`worker ${opts.worker}: candidate ${d.index + 1} failed: ${(e as Error)?.message?.split('\n')[0] ?? String(e)}`);
          // the code leads the message, so the coordinator can tell a refusal from an evaluation error
          throw fail(isModnasError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e));
        }
        const wire = wireForm(trial);
        return { trial: wire, sig: sign(key, 'result', c.queue, id, canonicalJson(wire)) } satisfies SignedResult;
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
      if (!down) log.warn(`worker ${opts.worker}: ${e.message}`);
    });
    log.info(`worker ${opts.worker}: waiting for candidates on queue "${c.queue}" at ${shown} (concurrency ${opts.concurrency})`);
    await new Promise<void>((resolve) => {
      if (opts.signal.aborted) resolve();
      opts.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const reachable = conn.status === 'ready';
    if (reachable) log.info(`worker ${opts.worker}: stopping after the jobs in hand`);
    else log.warn(`worker ${opts.worker}: stopping without Redis (unreachable at ${shown}): the jobs in hand go back to the queue when their lock lapses (--stalled-after)`);
    // Redis may also go away while the jobs in hand finish: stop waiting once it has been gone for STOP_WITHOUT_REDIS_MS.
    let watching = true;
    const gone = (async (): Promise<boolean> => {
      let since: number | undefined;
      while (watching) {
        if (conn.status === 'ready') since = undefined;
        else if ((since ??= Date.now()) + STOP_WITHOUT_REDIS_MS <= Date.now()) return true;
        await sleep(100);
      }
      return false;
    })();
    const closed = worker.close(!reachable).then(
      () => false,
      () => false,
    );
    const gaveUp = await Promise.race([closed, gone]);
    watching = false;
    if (gaveUp) log.warn(`worker ${opts.worker}: Redis at ${shown} is still unreachable; stopped without it`);
    conn.disconnect();
    data.disconnect();
  }
}

/** The fields a worker reads from a job whose signature held, checked for shape (undefined: not a job of this protocol). */
function jobData(d: Record<string, unknown>, weightsPrefix: string): BullMQJobData | undefined {
  const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
  const ok =
    typeof d.estim === 'string' &&
    Number.isInteger(d.index) &&
    (d.index as number) >= 0 &&
    isObj(d.arch) &&
    typeof d.configHash === 'string' &&
    isObj(d.config) &&
    Array.isArray(d.plugins) &&
    d.plugins.every((p) => typeof p === 'string') &&
    typeof d.weightsId === 'string' &&
    typeof d.weightsKey === 'string' &&
    d.weightsKey.startsWith(weightsPrefix) &&
    typeof d.weightsSha256 === 'string';
  return ok ? (d as unknown as BullMQJobData) : undefined;
}

/** A completed job's trial when a worker with the run's secret signed it; MODNAS_E_WORKER_AUTH otherwise. */
function openResult(key: Buffer, queue: string, id: string, value: unknown, cand: CandidateJob): ExecutedTrial {
  const r = value as Partial<SignedResult> | null | undefined;
  if (r && typeof r === 'object' && r.trial && typeof r.trial === 'object' && verify(key, 'result', queue, id, canonicalJson(r.trial), r.sig)) return r.trial;
  throw new ModnasError(WORKER_AUTH_CODE, `candidate ${cand.index + 1}: its result on the queue is not signed with this run's shared secret, so it is not stored`, {
    fix: 'give the coordinator and every worker the same secret (executor.secret_file / modnas worker --secret-file); if they have it, something else writes to this Redis: secure it (a password, an ACL user, a private network)',
    where: `executor (job ${id})`,
  });
}

/** The error of a job that failed after its attempts: a worker's refusal fails the run, an evaluation error the trial; an unsigned reason is never echoed. */
function jobError(key: Buffer, queue: string, id: string, job: Job | undefined, cand: CandidateJob): ModnasError {
  const raw = job?.failedReason ?? '';
  const attempts = job?.attemptsMade ?? 0;
  const where = `executor (job ${id}, ${attempts} attempt(s))`;
  const reason = openFailure(key, queue, id, raw);
  if (reason === undefined) {
    if (QUEUE_REASON.test(raw)) return new ModnasError('MODNAS_E_EXECUTOR_JOB_FAILED', `candidate ${cand.index + 1} failed: its workers stopped answering too often (BullMQ: ${raw})`, { where });
    return new ModnasError(WORKER_AUTH_CODE, `candidate ${cand.index + 1}: the job failed with a reason that is not signed with this run's shared secret (not shown)`, {
      fix: 'a worker has another secret (its log says MODNAS_E_WORKER_AUTH): give the coordinator and every worker the same one (executor.secret_file / modnas worker --secret-file); if they have it, something else writes to this Redis: secure it',
      where,
    });
  }
  const m = REFUSAL.exec(reason);
  if (m) return new ModnasError(m[1], `candidate ${cand.index + 1}: ${reason.slice(m[0].length)}`, { where });
  return new ModnasError('MODNAS_E_EXECUTOR_JOB_FAILED', `candidate ${cand.index + 1} failed on the worker after ${attempts} attempt(s): ${reason}`, { where: `executor (job ${id})` });
}

export const bullMQExecutor = defineComponent({
  kind: 'executor',
  id: 'BullMQExecutor',
  description: 'Evaluates candidates on `modnas worker` processes (any machine) through a BullMQ queue in Redis, with retries and stalled-job detection',
  schema: bullMQExecutorSchema,
  create: (config) => new BullMQExecutor(config),
});
