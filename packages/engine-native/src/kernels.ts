import { kernelNames } from '@modnas/core';
import type { tf as TF } from '@modnas/core';
import type { NativeKernels } from './native.js';
import * as js from './reference.js';

type Tfjs = typeof TF;
type Conv2DInfo = ReturnType<Tfjs['backend_util']['computeConv2DInfo']>;
interface TI {
  dataId: object;
  shape: number[];
  dtype: string;
}
/** The parts of tfjs' BackendWasm the kernels use. */
interface WasmBackend {
  wasm: { HEAPU8: { buffer: ArrayBuffer } };
  dataIdMap: { get(id: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): TI;
  incRef(dataId: object): void;
  disposeData(dataId: object): boolean;
}
/** The parts of the native backend (NativeBackend: tfjs' MathBackendCPU) the kernels use. */
interface ArrayBackend {
  data: { get(id: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: string, values?: Float32Array | Int32Array): TI;
  allocate(size: number, dtype: 'float32' | 'int32'): Float32Array | Int32Array;
  disposeData(dataId: object): boolean;
}
type AnyBackend = WasmBackend & ArrayBackend;
type KernelArgs = { inputs: Record<string, TI>; attrs: Record<string, any>; backend: AnyBackend };
type KernelFn = (args: KernelArgs) => TI | TI[];

// The custom kernels this engine implements, named (with their inputs and attributes) in core.
const { BatchNormTrain, BatchNormTrainGrad, Relu6Grad } = kernelNames;

const sizeOf = (s: number[]): number => s.reduce((a, v) => a * v, 1);

/** Where a backend keeps tensors: float32 views of them, new outputs, freeing an unused output. */
interface Memory {
  f32(t: TI): Float32Array;
  i32(t: TI): Int32Array;
  out(shape: number[], dtype?: string): TI;
  free(t: TI): void;
}

/** The wasm backend: tensors in the wasm heap (4 GiB at most: wasm32). */
function wasmMemory(b: WasmBackend): Memory {
  const off = (t: TI): number => b.dataIdMap.get(t.dataId).memoryOffset;
  return {
    f32: (t) => new Float32Array(b.wasm.HEAPU8.buffer, off(t), sizeOf(t.shape)),
    i32: (t) => new Int32Array(b.wasm.HEAPU8.buffer, off(t), sizeOf(t.shape)),
    out(shape, dtype = 'float32') {
      const t = b.makeOutput(shape, dtype);
      if (sizeOf(shape) > 0 && !(off(t) > 0)) {
        throw new Error(
          `@modnas/engine-native: the wasm heap is exhausted (wasm32 memory is at most 4 GiB; ${(b.wasm.HEAPU8.buffer.byteLength / 2 ** 30).toFixed(2)} GiB in use) ` +
            `allocating a [${shape.join(', ')}] tensor. Use the native backend (MODNAS_BACKEND=native, the default where the native kernels built), a smaller batch, or @tensorflow/tfjs-node.`,
        );
      }
      return t;
    },
    free: (t) => void b.disposeData(t.dataId),
  };
}

/** The native backend: every tensor its own array in Node's memory (no heap ceiling), outputs from the addon's pool. */
function arrayMemory(b: ArrayBackend): Memory {
  return {
    f32: (t) => b.data.get(t.dataId).values as Float32Array,
    i32: (t) => b.data.get(t.dataId).values as Int32Array,
    out: (shape, dtype = 'float32') => b.makeTensorInfo(shape, dtype, b.allocate(sizeOf(shape), dtype === 'int32' ? 'int32' : 'float32')),
    free: (t) => void b.disposeData(t.dataId),
  };
}
export interface KernelStats {
  /** Calls served by the native addon (own kernels or oneDNN), by kernel. */
  native: Record<string, number>;
  /** Calls served by the JavaScript or original wasm kernels, by kernel (with why, once). */
  fallback: Record<string, number>;
  errors: string[];
}

export const stats: KernelStats = { native: {}, fallback: {}, errors: [] };

/** Switch for tests and benchmarks: false routes every call to the fallback kernels. */
export const engineOptions = { useNative: true };

function convParams(ci: Conv2DInfo, groups: number): Int32Array {
  const p = ci.padInfo;
  return Int32Array.of(
    ci.batchSize, ci.inChannels, ci.inHeight, ci.inWidth, ci.outChannels, ci.outHeight, ci.outWidth,
    ci.filterHeight, ci.filterWidth, ci.strideHeight, ci.strideWidth, ci.dilationHeight, ci.dilationWidth,
    p.top, p.left, p.bottom, p.right, groups,
  );
}

/**
 * Register the engine's kernels for one backend. On `wasm`: the ones tfjs-backend-wasm 4.22
 * lacks (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter/Input, UnsortedSegmentSum), a
 * correct MaxPoolGrad and a buffer-sharing Identity; on `native` (tfjs' cpu backend with its
 * tensors in Node's memory) the cpu kernels stay for everything else. On both: training batch
 * norm, ReLU6's gradient, and, where the native addon loaded, convolutions, their gradients and
 * eval-mode batch norm on it. Every native call falls back to a JavaScript or the backend's own
 * kernel if the addon refuses a shape.
 */
export function registerKernels(tf: Tfjs, native: NativeKernels | undefined, backendName: 'wasm' | 'native' = 'wasm'): void {
  const bu = tf.backend_util;
  const mem: (b: AnyBackend) => Memory = backendName === 'wasm' ? wasmMemory : arrayMemory;
  const original = (name: string): KernelFn | undefined => tf.getKernel(name, backendName)?.kernelFunc as unknown as KernelFn | undefined;
  const put = (name: string, fn: KernelFn): void => {
    // Keep the original's setupFunc: it binds the wasm function the original kernelFunc calls.
    const prev = tf.getKernel(name, backendName);
    if (prev) tf.unregisterKernel(name, backendName);
    tf.registerKernel({ kernelName: name, backendName, kernelFunc: fn as any, setupFunc: prev?.setupFunc, disposeFunc: prev?.disposeFunc });
  };
  const count = (where: Record<string, number>, name: string): void => {
    where[name] = (where[name] ?? 0) + 1;
  };
  const tryNative = (name: string, run: () => void): boolean => {
    if (!native || !engineOptions.useNative) return false;
    try {
      run();
      count(stats.native, name);
      return true;
    } catch (e) {
      if (stats.errors.length < 20) stats.errors.push(`${name}: ${String((e as Error)?.message ?? e)}`);
      return false;
    }
  };
  const nhwcOnly = (attrs: Record<string, any>, name: string): void => {
    if (attrs.dataFormat != null && attrs.dataFormat !== 'NHWC') throw new Error(`@modnas/engine-native: ${name} supports NHWC only, got ${attrs.dataFormat}`);
  };
  // Only the own kernels' depthwise path is limited to channel multiplier 1 (asked once, not per call).
  const anyMultiplier = native?.info().version.startsWith('oneDNN') === true;
  const nativeDepthwise = (ci: Conv2DInfo): boolean => anyMultiplier || ci.outChannels === ci.inChannels;

  /** A convolution kernel: native where it can, else the backend's own kernel or the JavaScript one. */
  const conv = (name: string, kind: 0 | 1 | 2, depthwise: boolean, geometry: (a: KernelArgs) => { ci: Conv2DInfo; a: TI; b: TI; outShape: number[] }, fallback: 'original' | ((m: Memory, a: TI, b: TI, c: TI, ci: Conv2DInfo) => void)): void => {
    const orig = original(name);
    put(name, (args) => {
      nhwcOnly(args.attrs, name);
      const m = mem(args.backend);
      const { ci, a, b, outShape } = geometry(args);
      const c = m.out(outShape, 'float32');
      if (sizeOf(outShape) === 0) return c;
      if (sizeOf(a.shape) === 0 || sizeOf(b.shape) === 0) {
        m.f32(c).fill(0);
        return c;
      }
      if ((!depthwise || nativeDepthwise(ci)) && tryNative(name, () => native!.conv(kind, m.f32(a), m.f32(b), m.f32(c), convParams(ci, depthwise ? ci.inChannels : 1)))) return c;
      count(stats.fallback, name);
      if (fallback === 'original' && orig) {
        m.free(c);
        return orig(args);
      }
      if (fallback === 'original') throw new Error(`@modnas/engine-native: no kernel for ${name} on ${backendName}`);
      fallback(m, a, b, c, ci);
      return c;
    });
  };
  const info = (xShape: number[], fShape: number[], a: Record<string, any>, depthwise: boolean, dil: unknown = a.dilations ?? 1): Conv2DInfo =>
    bu.computeConv2DInfo(xShape as any, fShape as any, a.strides, dil as any, a.pad, a.dimRoundingMode, depthwise, 'channelsLast');

  conv('Conv2D', 0, false, ({ inputs: { x, filter }, attrs }) => {
    const ci = info(x.shape, filter.shape, attrs, false);
    return { ci, a: x, b: filter, outShape: ci.outShape };
  }, 'original');
  conv('Conv2DBackpropInput', 1, false, ({ inputs: { dy, filter }, attrs }) => {
    const ci = info(attrs.inputShape, filter.shape, attrs, false, 1);
    return { ci, a: dy, b: filter, outShape: ci.inShape };
  }, backendName === 'wasm' ? 'original' : (m, dy, w, dx, ci) => js.convBackpropInput(m.f32(dy), m.f32(w), m.f32(dx), ci, false));
  conv('Conv2DBackpropFilter', 2, false, ({ inputs: { x, dy }, attrs }) => {
    const ci = info(x.shape, attrs.filterShape, attrs, false, 1);
    return { ci, a: x, b: dy, outShape: ci.filterShape };
  }, (m, x, dy, dw, ci) => js.convBackpropFilter(m.f32(x), m.f32(dy), m.f32(dw), ci, false));
  conv('DepthwiseConv2dNative', 0, true, ({ inputs: { x, filter }, attrs }) => {
    const ci = info(x.shape, filter.shape, attrs, true);
    return { ci, a: x, b: filter, outShape: ci.outShape };
  }, 'original');
  conv('DepthwiseConv2dNativeBackpropInput', 1, true, ({ inputs: { dy, filter }, attrs }) => {
    const ci = info(attrs.inputShape, filter.shape, attrs, true);
    return { ci, a: dy, b: filter, outShape: ci.inShape };
  }, (m, dy, w, dx, ci) => js.convBackpropInput(m.f32(dy), m.f32(w), m.f32(dx), ci, true));
  conv('DepthwiseConv2dNativeBackpropFilter', 2, true, ({ inputs: { x, dy }, attrs }) => {
    const ci = info(x.shape, attrs.filterShape, attrs, true);
    return { ci, a: x, b: dy, outShape: ci.filterShape };
  }, (m, x, dy, dw, ci) => js.convBackpropFilter(m.f32(x), m.f32(dy), m.f32(dw), ci, true));

  // ---- pooling gradient (JavaScript: the wasm one is wrong when a window's maximum is negative) ----
  put('MaxPoolGrad', ({ inputs, attrs, backend }) => {
    const { dy, input } = inputs;
    const m = mem(backend);
    const ci = bu.computePool2DInfo(input.shape as any, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const dx = m.out(input.shape, 'float32');
    js.maxPoolGrad(m.f32(dy), m.f32(input), m.f32(dx), ci);
    return dx;
  });

  if (backendName === 'wasm') {
    // ---- gather's gradient: missing in tfjs-backend-wasm ----
    put('UnsortedSegmentSum', ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs;
      const m = mem(backend);
      const numSegments: number = attrs.numSegments;
      const inner = sizeOf(x.shape.slice(segmentIds.shape.length));
      const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      const res = m.out(outShape, x.dtype);
      const ids = m.i32(segmentIds);
      const xs = x.dtype === 'int32' ? m.i32(x) : m.f32(x);
      const o = x.dtype === 'int32' ? m.i32(res) : m.f32(res);
      o.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue;
        for (let j = 0; j < inner; j++) o[s * inner + j] += xs[i * inner + j];
      }
      return res;
    });

    // ---- Identity: share the buffer (reference-counted) instead of copying it ----
    // tfjs clones every tensor it saves for the backward pass; the wasm kernel copies the data.
    const identity = original('Identity');
    put('Identity', ({ inputs, attrs, backend }) => {
      const { x } = inputs;
      if (x.dtype === 'string') return identity!({ inputs, attrs, backend });
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    });
  }

  if (backendName === 'native') {
    // ---- elementwise ops and reductions that tfjs' cpu backend runs as scalar JavaScript ----
    const relu6 = original('Relu6');
    put('Relu6', (args) => {
      const { x } = args.inputs;
      const m = mem(args.backend);
      const n = sizeOf(x.shape);
      if (x.dtype === 'float32' && n > 0) {
        const y = m.out(x.shape);
        if (tryNative('Relu6', () => native!.relu6(m.f32(x), m.f32(y), n))) return y;
        m.free(y);
      }
      count(stats.fallback, 'Relu6');
      return relu6!(args);
    });
    const binary = (name: string, op: number): void => {
      const orig = original(name);
      put(name, (args) => {
        const { a, b } = args.inputs;
        const plan = broadcastPlan(a.shape, b.shape);
        if (plan && a.dtype === 'float32' && b.dtype === 'float32' && sizeOf(plan.shape) > 0) {
          const m = mem(args.backend);
          const c = m.out(plan.shape);
          const [big, small] = plan.swap ? [b, a] : [a, b];
          if (tryNative(name, () => native!.binary(op, m.f32(big), m.f32(small), m.f32(c), plan.outer, plan.mid, plan.inner, plan.swap))) return c;
          m.free(c);
        }
        count(stats.fallback, name);
        return orig!(args);
      });
    };
    binary('Add', 0);
    binary('Sub', 1);
    binary('Multiply', 2);
    binary('RealDiv', 3);
    const reduction = (name: string, mean: boolean): void => {
      const orig = original(name);
      put(name, (args) => {
        const { x } = args.inputs;
        const r = x.dtype === 'float32' ? reducePlan(x.shape, args.attrs.axis, args.attrs.keepDims) : undefined;
        if (r) {
          const m = mem(args.backend);
          const y = m.out(r.shape);
          if (tryNative(name, () => native!.reduceMid(m.f32(x), m.f32(y), r.outer, r.mid, r.inner, mean))) return y;
          m.free(y);
        }
        count(stats.fallback, name);
        return orig!(args);
      });
    };
    reduction('Mean', true);
    reduction('Sum', false);
  }

  // ---- ReLU6 gradient in one pass (tfjs composes it from LessEqual, Step, Cast, Multiply) ----
  put(Relu6Grad, ({ inputs, backend }) => {
    const { dy, x } = inputs;
    const m = mem(backend);
    const dx = m.out(x.shape, 'float32');
    const n = sizeOf(x.shape);
    if (n > 0 && tryNative(Relu6Grad, () => native!.relu6Grad(m.f32(dy), m.f32(x), m.f32(dx), n))) return dx;
    count(stats.fallback, Relu6Grad);
    const g = m.f32(dy);
    const xs = m.f32(x);
    const o = m.f32(dx);
    for (let i = 0; i < n; i++) o[i] = xs[i] > 0 && xs[i] <= 6 ? g[i] : 0;
    return dx;
  });

  // ---- batch norm, eval mode (tf.batchNorm): per-channel vectors over the last axis ----
  const fusedBatchNorm = original('FusedBatchNorm');
  put('FusedBatchNorm', (args) => {
    const { x, mean, variance, offset, scale } = args.inputs;
    const c = x.shape[x.shape.length - 1];
    const vec = (t?: TI): boolean => t == null || (sizeOf(t.shape) === c && t.dtype === 'float32');
    if (native && engineOptions.useNative && x.dtype === 'float32' && sizeOf(x.shape) > 0 && vec(mean) && vec(variance) && vec(offset) && vec(scale)) {
      const m = mem(args.backend);
      const y = m.out(x.shape, 'float32');
      const opt = (t?: TI): Float32Array | null => (t == null ? null : m.f32(t));
      if (tryNative('FusedBatchNorm', () => native.bnInfer(m.f32(x), m.f32(mean), m.f32(variance), opt(offset), opt(scale), m.f32(y), sizeOf(x.shape) / c, c, args.attrs.varianceEpsilon ?? 0.001))) return y;
      m.free(y);
    }
    count(stats.fallback, 'FusedBatchNorm');
    return fusedBatchNorm!(args);
  });

  // ---- batch norm, training mode ----
  put(BatchNormTrain, ({ inputs, attrs, backend }) => {
    const { x, scale, offset } = inputs;
    const m = mem(backend);
    const c = x.shape[x.shape.length - 1];
    const rows = sizeOf(x.shape) / c;
    const y = m.out(x.shape, 'float32');
    const mean = m.out([c], 'float32');
    const variance = m.out([c], 'float32');
    const eps: number = attrs.epsilon;
    if (rows > 0 && tryNative(BatchNormTrain, () => native!.bnForward(m.f32(x), m.f32(scale), m.f32(offset), m.f32(y), m.f32(mean), m.f32(variance), rows, c, eps))) {
      return [y, mean, variance];
    }
    count(stats.fallback, BatchNormTrain);
    js.bnForward(m.f32(x), m.f32(scale), m.f32(offset), m.f32(y), m.f32(mean), m.f32(variance), c, eps);
    return [y, mean, variance];
  });

  put(BatchNormTrainGrad, ({ inputs, attrs, backend }) => {
    const { dy, x, scale, mean, variance } = inputs;
    const m = mem(backend);
    const c = x.shape[x.shape.length - 1];
    const rows = sizeOf(x.shape) / c;
    const dx = m.out(x.shape, 'float32');
    const dscale = m.out([c], 'float32');
    const doffset = m.out([c], 'float32');
    const eps: number = attrs.epsilon;
    if (rows > 0 && tryNative(BatchNormTrainGrad, () => native!.bnBackward(m.f32(dy), m.f32(x), m.f32(scale), m.f32(mean), m.f32(variance), m.f32(dx), m.f32(dscale), m.f32(doffset), rows, c, eps))) {
      return [dx, dscale, doffset];
    }
    count(stats.fallback, BatchNormTrainGrad);
    js.bnBackward(m.f32(dy), m.f32(x), m.f32(scale), m.f32(mean), m.f32(variance), m.f32(dx), m.f32(dscale), m.f32(doffset), c, eps);
    return [dx, dscale, doffset];
  });
}

/**
 * How a binary op's operands line up for the native kernel: the larger operand viewed as
 * [outer, mid, inner] and the smaller as [outer, inner], repeated along mid (same shapes, a
 * scalar, a per-channel vector, [N, 1, 1, C] against [N, H, W, C]); undefined for any other
 * broadcast (the cpu kernel handles those).
 */
export function broadcastPlan(a: number[], b: number[]): { shape: number[]; outer: number; mid: number; inner: number; swap: boolean } | undefined {
  const swap = sizeOf(a) < sizeOf(b) || (sizeOf(a) === sizeOf(b) && a.length < b.length);
  const big = swap ? b : a;
  const small = swap ? a : b;
  if (small.length > big.length) return undefined;
  const s = [...Array(big.length - small.length).fill(1), ...small];
  // axes where small repeats (1 against big's d > 1) must form one contiguous run; all others equal
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < big.length; i++) {
    if (s[i] === big[i]) continue;
    if (s[i] !== 1) return undefined;
    if (lo === -1) lo = i;
    else if (hi !== i - 1) return undefined;
    hi = i;
  }
  if (lo === -1) return { shape: big, outer: 1, mid: 1, inner: sizeOf(big), swap };
  return { shape: big, outer: sizeOf(big.slice(0, lo)), mid: sizeOf(big.slice(lo, hi + 1)), inner: sizeOf(big.slice(hi + 1)), swap };
}

/** A reduction over contiguous axes as [outer, mid, inner]; undefined for non-contiguous axes. */
export function reducePlan(shape: number[], axis: number | number[] | null | undefined, keepDims: boolean): { shape: number[]; outer: number; mid: number; inner: number } | undefined {
  const rank = shape.length;
  const axes = [...new Set((axis == null ? shape.map((_, i) => i) : Array.isArray(axis) ? axis : [axis]).map((d) => (d < 0 ? d + rank : d)))].sort((p, q) => p - q);
  if (axes.length === 0 || axes.some((d, i) => d !== axes[0] + i || d >= rank)) return undefined;
  const lo = axes[0];
  const hi = axes[axes.length - 1];
  const outShape = keepDims ? shape.map((d, i) => (i >= lo && i <= hi ? 1 : d)) : shape.filter((_, i) => i < lo || i > hi);
  const mid = sizeOf(shape.slice(lo, hi + 1));
  if (mid === 0 || sizeOf(shape) === 0) return undefined;
  return { shape: outShape, outer: sizeOf(shape.slice(0, lo)), mid, inner: sizeOf(shape.slice(hi + 1)) };
}
