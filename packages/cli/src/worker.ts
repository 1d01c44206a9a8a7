import { hostname } from 'node:os';
import type { Logger } from '@modnas/core';
import { ModnasError, getRegistry } from '@modnas/core';
import { createRemoteEvaluator, prepareExperiment, registerRuntimeComponents, selectBackend, workerFolders } from '@modnas/runtime';
import { configHash } from '@modnas/services';
import { discoverPlugins } from '@modnas/discovery';
import { parse } from './args.js';

export const WORKER_HELP = `Usage: modnas worker --redis <url> --secret-file <file> [--concurrency N] [options]

Evaluates candidates for searches whose config says executor: { type: BullMQExecutor, redis: <url> }.
Start it in a project with the same plugins as the coordinator's (and the same data files, if the
dataset reads any): each job carries the experiment's config and its hash; the worker rebuilds the
experiment once per config, loads the data once, and evaluates the candidates sent to it. A job
whose config hash this worker cannot reproduce, or that needs a plugin it lacks, is refused with
MODNAS_E_WORKER_CONFIG_HASH / MODNAS_E_WORKER_PLUGIN_MISSING. Ctrl-C or SIGTERM: finish the jobs in
hand, then exit (at once when Redis is unreachable).

What a worker trusts: only jobs signed with the secret it shares with the coordinator (HMAC-SHA256;
others are refused with MODNAS_E_WORKER_AUTH). The backend, the plugins and the folder are its own;
a job's config may name files only inside the folder the worker runs in and its --allow-dir folders
(MODNAS_E_WORKER_PATH otherwise), and failures go back without the contents of any file.

Options:
  --redis <url>              the Redis the coordinator uses (default redis://127.0.0.1:6379);
                             redis://user@host:port/db for an ACL user, rediss:// for TLS
                             (a private CA: NODE_EXTRA_CA_CERTS=ca.pem)
  --secret-file <file>       the secret shared with the coordinator (its executor.secret_file);
                             env: MODNAS_WORKER_SECRET_FILE, or MODNAS_WORKER_SECRET. Required
  --redis-password-file <f>  the Redis password (env: MODNAS_REDIS_PASSWORD)
  --allow-dir <folder>       a folder, besides the current one, that jobs may name files in
                             (data kept elsewhere); repeatable
  --queue <name>             the queue (executor.queue; default modnas)
  --concurrency <N>          jobs at once (default 1; each more job needs a core of its own)
  --kernel-threads <N>       kernel threads of this worker's engine (default: OMP_NUM_THREADS, else
                             all cores; with several workers on one machine, cores / workers)
  --config <file.yaml>       serve only this experiment: refuse jobs of any other config hash
                             (its backend: key chooses this worker's backend)
  --stalled-after <ms>       a job whose worker is silent this long goes to another worker (default 30000)
  --executor <id>            the distributed executor (default BullMQExecutor, @modnas/executor-bullmq)
  -q, --quiet                warnings and errors only

The tensor backend is this worker's: MODNAS_BACKEND, else its --config's backend:, else auto (a job's
backend: key is not used).`;

/** How long a worker told to stop may take to exit once it has stopped serving (connections that will not close). */
const EXIT_GRACE_MS = 1000;

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
    {
      redis: { type: 'string' },
      'secret-file': { type: 'string' },
      'redis-password-file': { type: 'string' },
      'allow-dir': { type: 'string', multiple: true },
      queue: { type: 'string' },
      concurrency: { type: 'string' },
      'kernel-threads': { type: 'string' },
      config: { type: 'string' },
      'stalled-after': { type: 'string' },
      executor: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      debug: { type: 'boolean' },
    },
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
  let backend: string | undefined;
  if (typeof values.config === 'string') {
    const { plan } = await prepareExperiment([values.config], [], { registry, discover: false });
    pinnedHash = configHash(plan.config);
    backend = plan.config.backend;
    log.info(`serving experiment ${plan.config.name} only (config hash ${pinnedHash})`);
  }
  const id = typeof values.executor === 'string' ? values.executor : 'BullMQExecutor';
  const def = await registry.resolve('executor', id, '--executor');
  const options: Record<string, unknown> = {};
  if (typeof values.redis === 'string') options.redis = values.redis;
  if (typeof values.queue === 'string') options.queue = values.queue;
  if (typeof values['secret-file'] === 'string') options.secret_file = values['secret-file'];
  if (typeof values['redis-password-file'] === 'string') options.redis_password_file = values['redis-password-file'];
  const parsed = def.schema.safeParse(options);
  if (!parsed.success) throw new ModnasError('MODNAS_E_CLI_USAGE', `${id} does not take --redis/--queue/--secret-file/--redis-password-file: ${parsed.error.issues.map((i: { message: string }) => i.message).join('; ')}`, { fix: 'modnas worker --redis redis://host:6379 --secret-file modnas.secret' });
  const executor = await def.create(parsed.data, undefined as never, undefined);
  if (typeof executor.serve !== 'function') throw new ModnasError('MODNAS_E_CLI_USAGE', `${id} has no worker side (it evaluates candidates itself)`, { fix: 'modnas worker --executor BullMQExecutor' });
  const worker = `${hostname()}:${process.pid}`;
  const kernelThreads = values['kernel-threads'] === undefined ? undefined : positive(values['kernel-threads'] as string, '--kernel-threads', 1);
  const concurrency = positive(values.concurrency as string | undefined, '--concurrency', 1);
  const stalledAfterMs = positive(values['stalled-after'] as string | undefined, '--stalled-after', 30_000);
  const allow = (values['allow-dir'] as string[] | undefined) ?? [];
  const folders = workerFolders(process.cwd(), allow);
  if (allow.length) log.info(`jobs may name files in ${folders.roots.join(', ')}`);
  // the secret and the URL before the engine loads: a worker without a secret stops here
  await executor.preflight?.(log);
  // The backend is this worker's own, chosen once from its own folder: never from a job.
  await selectBackend({ prefer: backend, registry, logger: log, cwd: process.cwd(), threads: kernelThreads });
  const remote = createRemoteEvaluator({ registry, logger: log, cwd: process.cwd(), backendChosen: true, confine: folders, pinnedHash, worker, kernelThreads });
  const controller = new AbortController();
  const stop = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(sig === 'SIGTERM' ? 143 : 130);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await executor.serve(remote.evaluate, { concurrency, worker, logger: log, signal: controller.signal, stalledAfterMs });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    remote.dispose();
  }
  // Stopped: whatever still holds the event loop (a connection to a Redis that is gone, a
  // candidate still computing) may not keep the process past this (the timer does not hold it).
  setTimeout(() => process.exit(process.exitCode ?? 0), EXIT_GRACE_MS).unref();
  return 0;
}
