import { hostname } from 'node:os';
import type { Logger } from '@modnas/core';
import { ModnasError, getRegistry } from '@modnas/core';
import { configHash, createRemoteEvaluator, prepareExperiment, registerRuntimeComponents } from '@modnas/runtime';
import { discoverPlugins } from '@modnas/discovery';
import { parse } from './args.js';

export const WORKER_HELP = `Usage: modnas worker --redis <url> [--concurrency N] [options]

Evaluates candidates for searches whose config says executor: { type: BullMQExecutor, redis: <url> }.
Start it in a project with the same plugins as the coordinator's (and the same data files, if the
dataset reads any): each job carries the experiment's config and its hash; the worker rebuilds the
experiment once per config, loads the data once, and evaluates the candidates sent to it. A job
whose config hash this worker cannot reproduce, or that needs a plugin it lacks, is refused with
MODNAS_E_WORKER_CONFIG_HASH / MODNAS_E_WORKER_PLUGIN_MISSING. Ctrl-C or SIGTERM: finish the jobs in
hand, then exit.

Options:
  --redis <url>              the Redis the coordinator uses (default redis://127.0.0.1:6379)
  --queue <name>             the queue (executor.queue; default modnas)
  --concurrency <N>          jobs at once (default 1; each more job needs a core of its own)
  --kernel-threads <N>       kernel threads of this worker's engine (default: OMP_NUM_THREADS, else
                             all cores; with several workers on one machine, cores / workers)
  --config <file.yaml>       serve only this experiment: refuse jobs of any other config hash
  --stalled-after <ms>       a job whose worker is silent this long goes to another worker (default 30000)
  --executor <id>            the distributed executor (default BullMQExecutor, @modnas/executor-bullmq)
  -q, --quiet                warnings and errors only`;

const positive = (v: string | undefined, key: string, dflt: number): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ModnasError('MODNAS_E_CLI_USAGE', `${key} must be a positive integer, got "${v}"`, { fix: `modnas worker ${key} 2` });
  return n;
};

/** `modnas worker`: serve a distributed executor's jobs until SIGINT/SIGTERM. */
export async function workerCommand(argv: string[], io: { out(s: string): void }, logger: (quiet: boolean) => Logger): Promise<number> {
  const { values } = parse(
    argv,
    { redis: { type: 'string' }, queue: { type: 'string' }, concurrency: { type: 'string' }, 'kernel-threads': { type: 'string' }, config: { type: 'string' }, 'stalled-after': { type: 'string' }, executor: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, debug: { type: 'boolean' } },
    WORKER_HELP,
  );
  if (values.help) {
    io.out(WORKER_HELP);
    return 0;
  }
  const log = logger(values.quiet === true);
  const registry = getRegistry();
  registerRuntimeComponents(registry);
  const discovery = discoverPlugins({ cwd: process.cwd(), registry });
  for (const p of discovery.problems) log.warn(`plugin ${p.package}: ${p.error.message.split('\n')[0]}`);
  let pinnedHash: string | undefined;
  if (typeof values.config === 'string') {
    const { plan } = await prepareExperiment([values.config], [], { registry, discover: false });
    pinnedHash = configHash(plan.config);
    log.info(`serving experiment ${plan.config.name} only (config hash ${pinnedHash})`);
  }
  const id = typeof values.executor === 'string' ? values.executor : 'BullMQExecutor';
  const def = await registry.resolve('executor', id, '--executor');
  const options: Record<string, unknown> = {};
  if (typeof values.redis === 'string') options.redis = values.redis;
  if (typeof values.queue === 'string') options.queue = values.queue;
  const parsed = def.schema.safeParse(options);
  if (!parsed.success) throw new ModnasError('MODNAS_E_CLI_USAGE', `${id} does not take --redis/--queue: ${parsed.error.issues.map((i: { message: string }) => i.message).join('; ')}`, { fix: 'modnas worker --redis redis://host:6379' });
  const executor = await def.create(parsed.data, undefined as never, undefined);
  if (typeof executor.serve !== 'function') throw new ModnasError('MODNAS_E_CLI_USAGE', `${id} has no worker side (it evaluates candidates itself)`, { fix: 'modnas worker --executor BullMQExecutor' });
  const worker = `${hostname()}:${process.pid}`;
  const kernelThreads = values['kernel-threads'] === undefined ? undefined : positive(values['kernel-threads'] as string, '--kernel-threads', 1);
  const remote = createRemoteEvaluator({ registry, logger: log, engines: discovery.engines, pinnedHash, worker, kernelThreads });
  const controller = new AbortController();
  const stop = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(sig === 'SIGTERM' ? 143 : 130);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await executor.serve(remote.evaluate, {
      concurrency: positive(values.concurrency as string | undefined, '--concurrency', 1),
      worker,
      logger: log,
      signal: controller.signal,
      stalledAfterMs: positive(values['stalled-after'] as string | undefined, '--stalled-after', 30_000),
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    remote.dispose();
  }
  return 0;
}
