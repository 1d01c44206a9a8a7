import { Worker } from 'node:worker_threads';
import { tf } from '@modnas/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATIVE_BACKEND, kernelStats, loadNative, nativeEngine, wasmEngine } from './index.js';
import { broadcastPlan, reducePlan } from './kernels.js';

// The native backend: tfjs' cpu backend with its tensors in Node's memory and the native
// elementwise, reduction and convolution kernels; its pooled memory never shows a reused block
// to a tensor or to user code.

const nativeStatus = loadNative();
let before = '';
beforeAll(async () => {
  before = tf.getBackend();
  await wasmEngine.setup(tf);
});
afterAll(async () => {
  await tf.setBackend(before);
});

let seed = 7;
const rand = (n: number): Float32Array =>
  Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648) * 4 - 2;
  });
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
/** Largest relative error (NaN or a length mismatch counts as infinite). */
function worst(got: Float32Array, ref: Float32Array): number {
  if (got.length !== ref.length) return Infinity;
  let w = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - ref[i]) / (1 + Math.abs(ref[i]));
    if (!(e <= w)) w = Number.isNaN(e) ? Infinity : e;
  }
  return w;
}

async function both(f: () => tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const run = async (b: string): Promise<Float32Array[]> => {
    await tf.setBackend(b);
    return tf.tidy(() => f().map((t) => t.dataSync() as Float32Array));
  };
  return [await run('cpu'), await run(NATIVE_BACKEND)];
}

describe('broadcast and reduction plans', () => {
  it('line operands up as [outer, mid, inner] or refuse', () => {
    expect(broadcastPlan([2, 3], [2, 3])).toEqual({ shape: [2, 3], outer: 1, mid: 1, inner: 6, swap: false });
    expect(broadcastPlan([4, 5, 6], [])).toEqual({ shape: [4, 5, 6], outer: 1, mid: 120, inner: 1, swap: false });
    expect(broadcastPlan([6], [4, 5, 6])).toEqual({ shape: [4, 5, 6], outer: 1, mid: 20, inner: 6, swap: true });
    expect(broadcastPlan([8, 1, 1, 3], [8, 4, 4, 3])).toEqual({ shape: [8, 4, 4, 3], outer: 8, mid: 16, inner: 3, swap: true });
    expect(broadcastPlan([8, 4, 1], [8, 4, 5])).toEqual({ shape: [8, 4, 5], outer: 32, mid: 5, inner: 1, swap: true });
    expect(broadcastPlan([2, 1, 3, 1], [2, 4, 3, 5])).toBeUndefined(); // two runs
    expect(broadcastPlan([2, 3], [3, 2])).toBeUndefined();
    expect(reducePlan([2, 3, 4, 5], [1, 2], false)).toEqual({ shape: [2, 5], outer: 2, mid: 12, inner: 5 });
    expect(reducePlan([2, 3, 4], [-1], true)).toEqual({ shape: [2, 3, 1], outer: 6, mid: 4, inner: 1 });
    expect(reducePlan([2, 3, 4], [0, 2], false)).toBeUndefined();
  });
});

describe.skipIf(!nativeStatus.loaded)(`native backend (${nativeStatus.detail})`, () => {
  it('elementwise ops, every broadcast form, and reductions match the cpu backend', async () => {
    const pairs: Array<[number[], number[]]> = [
      [[3, 5, 7], [3, 5, 7]],
      [[700, 600], []],
      [[], [9, 4]],
      [[4, 6, 6, 16], [16]],
      [[16], [4, 6, 6, 16]],
      [[4, 1, 1, 16], [4, 6, 6, 16]],
      [[5, 7, 1], [5, 7, 3]],
      [[2, 1, 3, 1], [2, 4, 3, 5]],
    ];
    const served = kernelStats.native.Multiply ?? 0;
    const data = pairs.map(([sa, sb]) => [rand(size(sa)), rand(size(sb)).map((v) => (Math.abs(v) < 0.1 ? 0.5 : v))]);
    const [ref, got] = await both(() =>
      pairs.flatMap(([sa, sb], i) => {
        const a = tf.tensor(data[i][0], sa);
        const b = tf.tensor(data[i][1], sb);
        return [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b)];
      }),
    );
    got.forEach((g, i) => expect(worst(g, ref[i]), `pair ${Math.floor(i / 4)} op ${i % 4}`).toBeLessThan(1e-5));
    expect((kernelStats.native.Multiply ?? 0) - served).toBeGreaterThanOrEqual(7);
    const xs = rand(4 * 6 * 5 * 7);
    const [r2, g2] = await both(() => {
      const x = tf.tensor(xs, [4, 6, 5, 7]);
      return [tf.mean(x, [1, 2]), tf.sum(x, -1, true), tf.mean(x), tf.sum(x, [0, 2]), tf.relu6(tf.mul(x, 4)), tf.mean(x, 3)];
    });
    g2.forEach((g, i) => expect(worst(g, r2[i]), `reduction ${i}`).toBeLessThan(1e-5));
  });

  it('pooled memory: views outlive the tensor they came from, user arrays are copies, blocks return to the pool', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const n0 = tf.memory().numTensors;
    // a native output, then a Slice of it (a view of its buffer), then dispose the original
    const base = tf.tidy(() => tf.mul(tf.tensor(rand(4 * 1000), [4, 1000]), 2));
    const expected = Array.from(base.dataSync()).slice(1000, 2000);
    const view = tf.slice(base, [1, 0], [1, 1000]);
    const user = base.dataSync();
    base.dispose();
    // reuse the same block size many times: a wrongly released block would be overwritten
    for (let i = 0; i < 5; i++) tf.tidy(() => tf.mul(tf.fill([4, 1000], 9), 3).dataSync());
    expect(Array.from(view.dataSync())).toEqual(expected);
    expect(user.length).toBe(4000);
    expect(Array.from(user.slice(1000, 2000))).toEqual(expected);
    view.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    const pool = nativeStatus.kernels!.poolInfo();
    expect(pool.pooledBytes).toBeGreaterThan(0);
  });

  it('a conv + batch norm training step matches the cpu backend and leaks nothing', async () => {
    const [xs, ws, ds] = [rand(2 * 9 * 9 * 4), rand(3 * 3 * 4 * 6), rand(3 * 3 * 6)];
    const run = (): tf.Tensor[] => {
      const x = tf.tensor(xs, [2, 9, 9, 4]);
      const w = tf.tensor(ws, [3, 3, 4, 6]);
      const d = tf.tensor(ds, [3, 3, 6, 1]);
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Scalar => {
        const h = tf.relu6(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'));
        const { mean, variance } = tf.moments(h, [0, 1, 2]);
        const y = tf.depthwiseConv2d(tf.batchNorm(h, mean, variance, tf.fill([6], 0.1), tf.fill([6], 1.2), 1e-5) as tf.Tensor4D, c as tf.Tensor4D, 2, 'same');
        return tf.mean(tf.square(tf.sub(tf.mean(y, [1, 2]), 0.5)));
      };
      return [f(x, w, d), ...tf.grads(f)([x, w, d])];
    };
    await tf.setBackend(NATIVE_BACKEND);
    const n0 = tf.memory().numTensors;
    const [ref, got] = await both(run);
    got.forEach((g, i) => expect(worst(g, ref[i]), `output ${i}`).toBeLessThan(1e-4));
    await tf.setBackend(NATIVE_BACKEND);
    expect(tf.memory().numTensors).toBe(n0);
  });
});

describe.skipIf(!nativeStatus.loaded)(`kernel threads (${nativeStatus.detail})`, () => {
  it('threads(n) caps the kernels called from this thread: describe() says so, and other threads keep their own count', async () => {
    const k = nativeStatus.kernels!;
    const all = k.info().threads;
    const file = nativeStatus.file!;
    // a worker thread loads the same addon and takes one thread for itself
    const code = "const { parentPort, workerData } = require('node:worker_threads'); const k = require(workerData); const before = k.info().threads; k.setThreads(1); parentPort.postMessage({ before, after: k.info().threads });";
    const w = new Worker(code, { eval: true, workerData: file });
    const got = await new Promise((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    expect(got).toEqual({ before: all, after: 1 });
    expect(k.info().threads).toBe(all);
    try {
      nativeEngine.threads!(1);
      expect(k.info().threads).toBe(1);
      expect(nativeEngine.describe!()).toMatch(/1 thread\), /);
      // the kernels still compute the same on one thread
      const x = rand(2 * 9 * 9 * 8);
      const w = rand(3 * 3 * 8 * 16);
      const [ref, got1] = await both(() => [tf.conv2d(tf.tensor4d(x, [2, 9, 9, 8]), tf.tensor4d(w, [3, 3, 8, 16]), 1, 'same')]);
      expect(worst(got1[0], ref[0])).toBeLessThan(1e-4);
    } finally {
      nativeEngine.threads!(all);
    }
    expect(k.info().threads).toBe(all);
    expect(() => k.setThreads(0)).toThrow(RangeError);
  });
});
