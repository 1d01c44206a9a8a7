/**
 * The runtimes a latency is measured in (targets), each opened once per process:
 * - `engine`: this process's own tensor engine (the one training uses), on the Module itself;
 * - `onnxruntime-node`: the network exported to ONNX, run by onnxruntime-node's CPU build;
 * - `tfjs-wasm`, `tfjs-webgl`, `onnxruntime-web`: the exported network in headless Chromium
 *   (browser.ts), where a web page would run it.
 * Every runtime but the engine measures the inference graph `modnas export` would write (batch
 * norm folded), so what is timed is what ships. Optional packages are imported only when their
 * target is asked for, and a missing one is a coded error that names it.
 */
import { cpus, platform, arch } from 'node:os';
import type { Module } from '@modnas/core';
import { ModnasError, Module as ModuleBase, tf } from '@modnas/core';
import type { Graph } from '@modnas/model-export';
import { toInference, toOnnx, traceModel } from '@modnas/model-export';
import type { BrowserHost } from './browser.js';
import { closeBrowser, openBrowser } from './browser.js';
import type { Timing } from './timing.js';
import { sampleRuns } from './timing.js';

export const LATENCY_TARGETS = ['engine', 'onnxruntime-node', 'tfjs-wasm', 'tfjs-webgl', 'onnxruntime-web'] as const;
export type LatencyTarget = (typeof LATENCY_TARGETS)[number];
export const BROWSER_TARGETS: readonly LatencyTarget[] = ['tfjs-wasm', 'tfjs-webgl', 'onnxruntime-web'];

export interface RuntimeInfo {
  target: LatencyTarget;
  /** The runtime and its version, e.g. "onnxruntime-web 1.30.0 (wasm, 1 thread) in Chromium 143". */
  runtime: string;
  /** The machine: CPU model, cores, OS and architecture (and the GPU renderer for webgl). */
  machine: string;
}

/** A network to time: the module (for the engine) and its inference graph (for the others). */
export interface Net {
  module: Module;
  /** One example's shape, [height, width, channels]. */
  inputShape: readonly number[];
  graph: Graph;
}

export interface LatencyRuntime {
  readonly target: LatencyTarget;
  info(): Promise<RuntimeInfo>;
  /** Milliseconds of each timed sample (see timing.ts). */
  measure(net: Net, t: Timing): Promise<number[]>;
}

export interface RuntimeOptions {
  /** Threads of the ONNX runtimes (1: what a page without cross-origin isolation gets). */
  threads: number;
  /** Chromium's executable (default: MODNAS_CHROMIUM, then /usr/bin/chromium, then Playwright's own). */
  browser?: string;
  /** How long the runtime runs a small network when it opens, before anything is measured (default 1000 ms). */
  burnInMs?: number;
}

/** A module that only runs x -> relu(x): the "empty" network of a shape (input in, output out). */
export class Passthrough extends ModuleBase {
  override forward(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }
}

/**
 * Run a runtime for about `ms` on a small network before its first measurement: the first
 * hundreds of runs of a process (JIT tiers, allocator arenas, clocks) are several times slower
 * than the rest, which would skew whatever is measured first.
 */
async function burnIn(r: LatencyRuntime, ms = 1000): Promise<void> {
  const m = new Passthrough();
  const shape = [8, 8, 8];
  const net = { module: m, inputShape: shape, graph: inferenceGraph(m, shape) };
  const end = performance.now() + ms;
  while (performance.now() < end) await r.measure(net, { batch_size: 1, warmup: 10, rep: 10, min_sample_ms: 1 });
}

/** The batch networks are traced at: odd, so that batch axes are told apart; the graph's batch is free. */
const TRACE_BATCH = 5;

/** The inference graph of a module (eval mode, batch norm folded), as `modnas export` makes it. */
export function inferenceGraph(module: Module, inputShape: readonly number[]): Graph {
  const x = tf.randomNormal<tf.Rank.R4>([TRACE_BATCH, inputShape[0], inputShape[1], inputShape[2]]);
  try {
    return toInference(traceModel(module, x));
  } finally {
    x.dispose();
  }
}

export function machineOf(): string {
  const c = cpus();
  return `${c[0]?.model.trim() ?? 'unknown CPU'} x${c.length}, ${platform()}-${arch()}`;
}

/** Import an optional package a target needs, or say which to install. */
export async function importFor<T>(pkg: string, target: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
    throw new ModnasError('MODNAS_E_LATENCY_RUNTIME', `latency target ${target} needs the package ${pkg}, which is not installed`, { fix: `npm i ${pkg}`, where: 'metrics.*.target', cause: e });
  }
}

/** A runtime failed on a network: name the target and, where the message names one, the op. */
export function runFailure(target: string, net: Net, e: unknown): ModnasError {
  if (e instanceof ModnasError) return e;
  const msg = (e as Error)?.message ?? String(e);
  const ops = [...new Set(net.graph.nodes.map((n) => n.op))].join(', ');
  return new ModnasError('MODNAS_E_LATENCY_RUN', `latency target ${target} could not run the network (ops: ${ops}): ${msg}`, {
    fix: 'measure on another target, or replace the layer the message names with supported ops',
    cause: e,
  });
}

interface Ort {
  InferenceSession: { create(data: Uint8Array, opts: Record<string, unknown>): Promise<{ inputNames: readonly string[]; run(feeds: Record<string, unknown>): Promise<unknown>; release(): Promise<void> }> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

/** NCHW input dims of a batch (ONNX models take NCHW; see @modnas/model-export's onnx.ts). */
export function nchw(inputShape: readonly number[], batch: number): number[] {
  const [h, w, c] = inputShape;
  return [batch, c, h, w];
}

function engineRuntime(): LatencyRuntime {
  return {
    target: 'engine',
    async info() {
      return { target: 'engine', runtime: `@modnas engine on tfjs backend ${tf.getBackend()}`, machine: machineOf() };
    },
    async measure(net, t) {
      const m = net.module;
      const wasTraining = m.training;
      m.eval();
      const x = tf.randomNormal([t.batch_size, ...net.inputShape]);
      try {
        // dataSync waits for the result, so asynchronous backends are timed to completion.
        return await sampleRuns(() => void tf.tidy(() => m.call(x).dataSync()), t);
      } finally {
        x.dispose();
        m.train(wasTraining);
      }
    },
  };
}

async function ortNodeRuntime(opts: RuntimeOptions): Promise<LatencyRuntime> {
  const ort = await importFor<Ort & { default?: Ort; env?: { versions?: { common?: string } } }>('onnxruntime-node', 'onnxruntime-node');
  const version = ort.env?.versions?.common ?? 'unknown';
  return {
    target: 'onnxruntime-node',
    async info() {
      return { target: 'onnxruntime-node', runtime: `onnxruntime-node ${version} (cpu, ${opts.threads} thread${opts.threads === 1 ? '' : 's'})`, machine: machineOf() };
    },
    async measure(net, t) {
      let session: Awaited<ReturnType<Ort['InferenceSession']['create']>>;
      try {
        session = await ort.InferenceSession.create(toOnnx(net.graph), { intraOpNumThreads: opts.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
      } catch (e) {
        throw runFailure('onnxruntime-node', net, e);
      }
      try {
        const dims = nchw(net.inputShape, t.batch_size);
        const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.random() - 0.5);
        const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
        return await sampleRuns(async () => void (await session.run(feeds)), t);
      } catch (e) {
        throw runFailure('onnxruntime-node', net, e);
      } finally {
        await session.release();
      }
    },
  };
}

function browserRuntime(target: LatencyTarget, host: BrowserHost, opts: RuntimeOptions): LatencyRuntime {
  return {
    target,
    info: () => host.info(target, opts.threads),
    async measure(net, t) {
      try {
        return await host.measure(target, net, t, opts.threads);
      } catch (e) {
        throw runFailure(target, net, e);
      }
    },
  };
}

const open = new Map<string, Promise<LatencyRuntime>>();

/**
 * The runtime of a target, opened once per process and options (the browser targets share one
 * Chromium, started on first use). closeRuntimes() ends them.
 */
export function openRuntime(target: LatencyTarget, opts: RuntimeOptions): Promise<LatencyRuntime> {
  if (!(LATENCY_TARGETS as readonly string[]).includes(target)) {
    throw new ModnasError('MODNAS_E_LATENCY_TARGET', `unknown latency target "${target}"`, { fix: `use one of ${LATENCY_TARGETS.join(', ')}`, where: 'metrics.*.target' });
  }
  const key = `${target}|${opts.threads}|${opts.browser ?? ''}`;
  let r = open.get(key);
  if (!r) {
    r = (async () => {
      const rt = target === 'engine' ? engineRuntime() : target === 'onnxruntime-node' ? await ortNodeRuntime(opts) : browserRuntime(target, await openBrowser(opts.browser), opts);
      await burnIn(rt, opts.burnInMs);
      return rt;
    })();
    open.set(key, r);
    r.catch(() => open.delete(key));
  }
  return r;
}

/** Close the browser (if one was started) and forget the opened runtimes. */
export async function closeRuntimes(): Promise<void> {
  open.clear();
  await closeBrowser();
}
