/**
 * WorkerThreadsExecutor: candidates evaluated in worker_threads on this machine. Each thread is an
 * engine of its own: it discovers the same plugins, rebuilds the experiment from the config,
 * loads the data once, and evaluates the candidates sent to it on the weights the run has now.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DependencyContainer } from 'tsyringe';
import type { EstimContext, Logger, LogLevel } from '@modnas/core';
import { ModnasError, defineComponent, resolveToken, z } from '@modnas/core';
import { JOB_FAILED_CODE } from '@modnas/kit-estim';
import type { CandidateEvaluator, CandidateJob, ExecutedTrial, Executor, ExecutorSession, ExperimentImage, RemoteCandidate } from '@modnas/services';
import { ServiceTokens } from '@modnas/services';

export const workerThreadsExecutorSchema = z.strictObject({
  workers: z.number().int().positive().default(2).describe('Worker threads, each with its own engine, network and copy of the data (one per core is the most that helps)'),
  kernel_threads: z
    .union([z.literal('auto'), z.number().int().positive()])
    .default('auto')
    .describe("Kernel threads per worker. auto: the machine's cores divided among the workers (at least 1), unless OMP_NUM_THREADS is set, which then applies to every worker"),
});
export type WorkerThreadsExecutorConfig = z.output<typeof workerThreadsExecutorSchema>;

/** What a thread starts with. */
export interface ThreadData {
  cwd: string;
  name: string;
  kernelThreads?: number;
}

/** The messages between the run and a thread. */
export type ToThread = { id: number; job: RemoteCandidate; weights?: Uint8Array };
export type FromThread =
  | { id: number; result: ExecutedTrial }
  | { id: number; error: { code?: string; message: string } }
  | { log: LogLevel; line: string };

/** The thread entry, built beside the bundle (dist/thread-main.js); from the sources, the built one. */
function threadEntry(): URL {
  const beside = new URL('./thread-main.js', import.meta.url);
  return existsSync(fileURLToPath(beside)) ? beside : new URL('../../dist/thread-main.js', import.meta.url);
}

interface Thread {
  worker: Worker;
  name: string;
  /** Taken by a job (set before the job is posted). */
  claimed?: boolean;
  busy?: { id: number; resolve(r: ExecutedTrial): void; reject(e: unknown): void };
  weightsId?: string;
}

export class WorkerThreadsExecutor implements Executor {
  readonly remote = true;
  private threads: Thread[] = [];
  private nextId = 1;
  private closing = false;

  constructor(
    readonly config: WorkerThreadsExecutorConfig,
    private readonly container: DependencyContainer,
  ) {}

  get description(): string {
    const k = this.kernelThreads();
    return `${this.config.workers} worker thread${this.config.workers > 1 ? 's' : ''}${k ? `, ${k} kernel thread${k > 1 ? 's' : ''} each` : ''}`;
  }

  /** Kernel threads per worker, or undefined to leave the engine's own count (OMP_NUM_THREADS set, kernel_threads: auto). */
  kernelThreads(): number | undefined {
    const k = this.config.kernel_threads;
    if (k !== 'auto') return k;
    if (process.env.OMP_NUM_THREADS) return undefined;
    return Math.max(1, Math.floor(availableParallelism() / this.config.workers));
  }

  private spawn(index: number, image: ExperimentImage, logger: Logger): Thread {
    const workerData: ThreadData = { cwd: image.cwd, name: `thread ${index + 1}`, kernelThreads: this.kernelThreads() };
    const t: Thread = { worker: new Worker(threadEntry(), { workerData }), name: workerData.name };
    t.worker.on('message', (m: FromThread) => {
      if ('log' in m) return logger[m.log](m.line);
      const b = t.busy;
      if (!b || b.id !== m.id) return;
      t.busy = undefined;
      if ('result' in m) b.resolve(m.result);
      else b.reject(threadError(t.name, m.error));
    });
    const died = (why: string): void => {
      const b = t.busy;
      t.busy = undefined;
      const at = this.threads.indexOf(t);
      if (!this.closing && at >= 0) this.threads[at] = this.spawn(index, image, logger);
      b?.reject(new ModnasError('MODNAS_E_EXECUTOR_WORKER_DIED', `worker ${t.name} died while evaluating a candidate: ${why}`, { fix: 'see the error above; the thread was replaced, run again to retry the candidate', where: 'executor' }));
    };
    t.worker.on('error', (e) => died(e.message));
    t.worker.on('exit', (code) => {
      if (code !== 0 || t.busy) died(`exit code ${code}`);
    });
    return t;
  }

  async open(ctx: EstimContext, _evaluator: CandidateEvaluator): Promise<ExecutorSession> {
    const image = resolveToken(this.container, ServiceTokens.ExperimentImage) ?? resolveToken(ctx.container, ServiceTokens.ExperimentImage);
    if (!image) throw new ModnasError('MODNAS_E_EXECUTOR_CONTEXT', 'WorkerThreadsExecutor needs the experiment image (ServiceTokens.ExperimentImage), which the runner binds', { fix: 'run the experiment with runExperiment / modnas run', where: 'executor' });
    if (this.threads.length === 0) this.threads = Array.from({ length: this.config.workers }, (_, i) => this.spawn(i, image, ctx.logger));
    const weights = image.weights();
    const waiting: Array<() => void> = [];
    /** An idle thread, claimed for this job before anything else can take it. */
    const claim = async (): Promise<Thread> => {
      for (;;) {
        const t = this.threads.find((x) => !x.claimed);
        if (t) {
          t.claimed = true;
          return t;
        }
        await new Promise<void>((r) => waiting.push(r));
      }
    };
    const submit = async (job: CandidateJob): Promise<ExecutedTrial> => {
      const t = await claim();
      const id = this.nextId++;
      const msg: ToThread = { id, job: { ...job, configHash: image.configHash, config: image.config, plugins: image.plugins, weightsId: weights.id } };
      if (t.weightsId !== weights.id) msg.weights = weights.bytes;
      try {
        return await new Promise<ExecutedTrial>((resolve, reject) => {
          t.busy = { id, resolve, reject };
          t.worker.postMessage(msg);
          t.weightsId = weights.id;
        });
      } finally {
        t.claimed = false;
        waiting.shift()?.();
      }
    };
    return { concurrency: this.config.workers, submit, close: async () => undefined };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    this.threads = [];
  }
}

/** An error a thread sent back: a refusal keeps its code (the run fails), an evaluation error fails the trial. */
function threadError(name: string, e: { code?: string; message: string }): ModnasError {
  if (e.code?.startsWith('MODNAS_E_WORKER_')) return new ModnasError(e.code, e.message, { where: `executor (${name})` });
  return new ModnasError(JOB_FAILED_CODE, `${name}: ${e.code ? `${e.code}: ` : ''}${e.message}`, { where: `executor (${name})` });
}

export const workerThreadsExecutor = defineComponent({
  kind: 'executor',
  id: 'WorkerThreadsExecutor',
  description: 'Evaluates candidates in worker threads on this machine, each with its own engine, network and copy of the data',
  schema: workerThreadsExecutorSchema,
  create: (config, ctx) => new WorkerThreadsExecutor(config, ctx.container),
});
