/**
 * The kernel tests' page: each case runs a kernel on `webgpu` and its reference on `cpu` (the
 * plain tfjs composition, differentiated by tfjs for the gradients) on the same seeded data, and
 * returns the largest error of each output relative to that output's largest magnitude.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import { kernelNames as K } from '@modnas/core';
import { registerWebGpuKernels } from '../src/kernels.js';

registerWebGpuKernels(tf);

/** A seeded stream (mulberry32) of normal draws. */
function normals(n: number, seed: number, mean = 0, std = 1): Float32Array {
  let s = seed >>> 0;
  const u = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

type Arrays = Float32Array[];

async function on(backend: string, f: () => tf.Tensor[]): Promise<Arrays> {
  await tf.setBackend(backend);
  await tf.ready();
  const ts = tf.tidy(f);
  const out = await Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(ts);
  return out;
}

function relErrors(got: Arrays, want: Arrays): number[] {
  return want.map((w, k) => {
    let err = 0;
    let mag = 1e-6;
    for (let i = 0; i < w.length; i++) {
      err = Math.max(err, Math.abs(got[k][i] - w[i]));
      mag = Math.max(mag, Math.abs(w[i]));
    }
    return got[k].length === w.length ? err / mag : Infinity;
  });
}

/** The composition: batch norm over every axis but the last, with batch statistics. */
function bnRef(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, eps: number): tf.Tensor[] {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const mean = tf.mean(x, axes);
  const variance = tf.mean(tf.square(tf.sub(x, mean)), axes);
  return [tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), scale), offset), mean, variance];
}

async function bnCase(shape: number[], eps: number, seed: number, xMean: number): Promise<{ forward: number[]; backward: number[] }> {
  const c = shape[shape.length - 1];
  const n = shape.reduce((a, b) => a * b, 1);
  const xs = normals(n, seed, xMean, 2);
  const ss = normals(c, seed + 1, 1, 0.5);
  const os = normals(c, seed + 2);
  const dys = normals(n, seed + 3);
  const inputs = () => [tf.tensor(xs, shape), tf.tensor1d(ss), tf.tensor1d(os)] as const;
  const fwdRef = await on('cpu', () => {
    const [x, s, o] = inputs();
    return bnRef(x, s, o, eps);
  });
  const fwd = await on('webgpu', () => {
    const [x, s, o] = inputs();
    return tf.engine().runKernel<tf.Tensor[]>(K.BatchNormTrain, { x, scale: s, offset: o }, { epsilon: eps });
  });
  const bwdRef = await on('cpu', () => {
    const [x, s, o] = inputs();
    return tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => bnRef(a, b, d, eps)[0])([x, s, o], tf.tensor(dys, shape));
  });
  const bwd = await on('webgpu', () => {
    const [x, s] = inputs();
    const mean = tf.tensor1d(fwdRef[1]);
    const variance = tf.tensor1d(fwdRef[2]);
    return tf.engine().runKernel<tf.Tensor[]>(K.BatchNormTrainGrad, { dy: tf.tensor(dys, shape), x, scale: s, mean, variance }, { epsilon: eps });
  });
  return { forward: relErrors(fwd, fwdRef), backward: relErrors(bwd, bwdRef) };
}

async function relu6GradCase(shape: number[], seed: number): Promise<number[]> {
  const n = shape.reduce((a, b) => a * b, 1);
  // x spread over [-4, 10], with exact 0 and 6 among them (the boundaries)
  const xs = normals(n, seed, 3, 4);
  if (n > 2) {
    xs[0] = 0;
    xs[1] = 6;
  }
  const dys = normals(n, seed + 1);
  const ref = await on('cpu', () => [tf.mul(tf.tensor(dys, shape), tf.cast(tf.mul(tf.lessEqual(tf.tensor(xs, shape), 6), tf.step(tf.tensor(xs, shape))), 'float32'))]);
  const got = await on('webgpu', () => [tf.engine().runKernel<tf.Tensor>(K.Relu6Grad, { dy: tf.tensor(dys, shape), x: tf.tensor(xs, shape) })]);
  return relErrors(got, ref);
}

/**
 * tf.addN of `count` tensors of `shape` (more than a shader binds), against the cpu: the error, and
 * the backend's buffers left over after its result is disposed (the groups' sums must not be).
 */
async function addNCase(count: number, shape: number[], seed: number): Promise<{ err: number; leaked: number }> {
  const n = shape.reduce((a, b) => a * b, 1);
  const xs = Array.from({ length: count }, (_, i) => normals(n, seed + i));
  const make = () => [tf.addN(xs.map((x) => tf.tensor(x, shape)))];
  await tf.setBackend('webgpu');
  const before = tf.engine().backend.numDataIds();
  const got = await on('webgpu', make);
  const leaked = tf.engine().backend.numDataIds() - before;
  return { err: relErrors(got, await on('cpu', make))[0], leaked };
}

declare const navigator: unknown;
declare const window: object;

async function adapter(): Promise<string> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }).gpu;
  const a = gpu ? await gpu.requestAdapter() : null;
  if (!a) return '';
  await tf.setBackend('webgpu');
  await tf.ready();
  return `${a.info?.vendor ?? '?'} ${a.info?.architecture ?? '?'}`;
}

Object.assign(window, { modnasWebGpu: { adapter, bnCase, relu6GradCase, addNCase } });
