// The entry of a WorkerThreadsExecutor thread: discover the plugins as the run did, then evaluate
// each candidate the run sends (remote-evaluator.ts), on the weights sent with the first job of
// each estimator.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { LogLevel } from '@modnas/core';
import { getRegistry, isModnasError } from '@modnas/core';
import { discoverPlugins } from '@modnas/discovery';
import type { FromThread, ThreadData, ToThread } from './executors/worker-threads.js';
import { createRemoteEvaluator } from './remote-evaluator.js';

const port = parentPort;
if (!port) throw new Error('thread-main runs in a worker thread only');
const { cwd, name, kernelThreads } = workerData as ThreadData;
const registry = getRegistry();
discoverPlugins({ cwd, registry });
const say = (level: LogLevel) => (line: string): void => port.postMessage({ log: level, line: `${name}: ${line}` } satisfies FromThread);
const logger = { debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error') };
const { evaluate } = createRemoteEvaluator({ registry, logger, cwd, worker: `${name} (thread ${threadId}, pid ${process.pid})`, kernelThreads });
let weights: Uint8Array | undefined;

port.on('message', (m: ToThread) => {
  if (m.weights) weights = m.weights;
  evaluate(m.job, async () => {
    if (!weights) throw new Error('no weights were sent to this thread');
    return weights;
  }).then(
    (result) => port.postMessage({ id: m.id, result } satisfies FromThread),
    (e: unknown) => port.postMessage({ id: m.id, error: { code: isModnasError(e) ? e.code : undefined, message: e instanceof Error ? e.message : String(e) } } satisfies FromThread),
  );
});
