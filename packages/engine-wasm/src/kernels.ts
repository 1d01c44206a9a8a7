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
}
type KernelArgs = { inputs: Record<string, TI>; attrs: Record<string, any>; backend: WasmBackend };
type KernelFn = (args: KernelArgs) => TI | TI[];

/** Custom kernels: batch norm in training mode (forward with batch statistics, and its gradient). */
export const BN_TRAIN = 'ModnasBatchNormTrain';
export const BN_TRAIN_GRAD = 'ModnasBatchNormTrainGrad';
/** Gradient of ReLU6 in one kernel (inputs {dy, x}). */
export const RELU6_GRAD = 'ModnasRelu6Grad';

const off = (b: WasmBackend, t: TI): number => b.dataIdMap.get(t.dataId).memoryOffset;

/** makeOutput that fails loudly when the wasm heap (4 GiB at most: wasm32) is exhausted. */
function out(b: WasmBackend, shape: number[], dtype = 'float32'): TI {
  const t = b.makeOutput(shape, dtype);
  if (sizeOf(shape) > 0 && !(off(b, t) > 0)) {
    throw new Error(
      `@modnas/engine-wasm: the wasm heap is exhausted (wasm32 memory is at most 4 GiB; ${(b.wasm.HEAPU8.buffer.byteLength / 2 ** 30).toFixed(2)} GiB in use) ` +
        `allocating a [${shape.join(', ')}] tensor. Use a smaller batch, or the native tensorflow backend (npm i @tensorflow/tfjs-node) for larger models.`,
    );
  }
  return t;
}
const f32 = (b: WasmBackend, t: TI): Float32Array => new Float32Array(b.wasm.HEAPU8.buffer, off(b, t), sizeOf(t.shape));
const sizeOf = (s: number[]): number => s.reduce((a, v) => a * v, 1);
/** [N, C, H, W] of an NHWC tensor (other ranks: all leading axes as N). */
const nchw = (s: number[]): [number, number, number, number] =>
  s.length === 4 ? [s[0], s[3], s[1], s[2]] : [sizeOf(s.slice(0, -1)), s[s.length - 1], 1, 1];

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

function convParams(b: WasmBackend, a: TI, w: TI, c: TI, ci: Conv2DInfo, groups: number): Int32Array {
  const p = ci.padInfo;
  return Int32Array.of(
    off(b, a), off(b, w), off(b, c),
    ci.batchSize, ci.inChannels, ci.inHeight, ci.inWidth, ci.outChannels, ci.outHeight, ci.outWidth,
    ci.filterHeight, ci.filterWidth, ci.strideHeight, ci.strideWidth, ci.dilationHeight, ci.dilationWidth,
    p.top, p.left, p.bottom, p.right, groups,
  );
}

/**
 * Register the engine's kernels for the wasm backend: the ones tfjs-backend-wasm 4.22 lacks
 * (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter/Input, UnsortedSegmentSum), a
 * correct MaxPoolGrad, training batch norm, and, where the native addon loaded, native
 * convolutions and their gradients. Every native call falls back to a JavaScript or the original
 * wasm kernel if the addon refuses a shape.
 */
export function registerKernels(tf: Tfjs, native: NativeKernels | undefined): void {
  const bu = tf.backend_util;
  const original = (name: string): KernelFn | undefined => tf.getKernel(name, 'wasm')?.kernelFunc as unknown as KernelFn | undefined;
  const put = (name: string, fn: KernelFn): void => {
    // Keep the original's setupFunc: it binds the wasm function the original kernelFunc calls.
    const prev = tf.getKernel(name, 'wasm');
    if (prev) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: fn as any, setupFunc: prev?.setupFunc, disposeFunc: prev?.disposeFunc });
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
    if (attrs.dataFormat != null && attrs.dataFormat !== 'NHWC') throw new Error(`@modnas/engine-wasm: ${name} supports NHWC only, got ${attrs.dataFormat}`);
  };

  // ---- Conv2D ----
  const conv2d = original('Conv2D');
  put('Conv2D', ({ inputs, attrs, backend }) => {
    const { x, filter } = inputs;
    nhwcOnly(attrs, 'Conv2D');
    const ci = bu.computeConv2DInfo(x.shape as any, filter.shape as any, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    const y = out(backend, ci.outShape, 'float32');
    if (sizeOf(ci.outShape) === 0 || tryNative('Conv2D', () => native!.conv(backend.wasm.HEAPU8.buffer, 0, convParams(backend, x, filter, y, ci, 1)))) return y;
    disposeInfo(tf, y);
    count(stats.fallback, 'Conv2D');
    return conv2d!({ inputs, attrs, backend });
  });

  const conv2dBackpropInput = original('Conv2DBackpropInput');
  put('Conv2DBackpropInput', ({ inputs, attrs, backend }) => {
    const { dy, filter } = inputs;
    nhwcOnly(attrs, 'Conv2DBackpropInput');
    const ci = bu.computeConv2DInfo(attrs.inputShape, filter.shape as any, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    const dx = out(backend, ci.inShape, 'float32');
    if (sizeOf(ci.inShape) === 0) return dx;
    if (sizeOf(dy.shape) === 0) {
      f32(backend, dx).fill(0);
      return dx;
    }
    if (tryNative('Conv2DBackpropInput', () => native!.conv(backend.wasm.HEAPU8.buffer, 1, convParams(backend, dy, filter, dx, ci, 1)))) return dx;
    disposeInfo(tf, dx);
    count(stats.fallback, 'Conv2DBackpropInput');
    return conv2dBackpropInput!({ inputs, attrs, backend });
  });

  put('Conv2DBackpropFilter', ({ inputs, attrs, backend }) => {
    const { x, dy } = inputs;
    nhwcOnly(attrs, 'Conv2DBackpropFilter');
    const ci = bu.computeConv2DInfo(x.shape as any, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    const dw = out(backend, ci.filterShape, 'float32');
    if (sizeOf(ci.filterShape) === 0) return dw;
    if (sizeOf(dy.shape) === 0 || sizeOf(x.shape) === 0) {
      f32(backend, dw).fill(0);
      return dw;
    }
    if (tryNative('Conv2DBackpropFilter', () => native!.conv(backend.wasm.HEAPU8.buffer, 2, convParams(backend, x, dy, dw, ci, 1)))) return dw;
    count(stats.fallback, 'Conv2DBackpropFilter');
    js.convBackpropFilter(f32(backend, x), f32(backend, dy), f32(backend, dw), ci, false);
    return dw;
  });

  // ---- depthwise ----
  const depthwise = original('DepthwiseConv2dNative');
  put('DepthwiseConv2dNative', ({ inputs, attrs, backend }) => {
    const { x, filter } = inputs;
    nhwcOnly(attrs, 'DepthwiseConv2dNative');
    const ci = bu.computeConv2DInfo(x.shape as any, filter.shape as any, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true, 'channelsLast');
    const y = out(backend, ci.outShape, 'float32');
    if (sizeOf(ci.outShape) === 0 || tryNative('DepthwiseConv2dNative', () => native!.conv(backend.wasm.HEAPU8.buffer, 0, convParams(backend, x, filter, y, ci, ci.inChannels)))) return y;
    disposeInfo(tf, y);
    count(stats.fallback, 'DepthwiseConv2dNative');
    return depthwise!({ inputs, attrs, backend });
  });

  put('DepthwiseConv2dNativeBackpropInput', ({ inputs, attrs, backend }) => {
    const { dy, filter } = inputs;
    nhwcOnly(attrs, 'DepthwiseConv2dNativeBackpropInput');
    const ci = bu.computeConv2DInfo(attrs.inputShape, filter.shape as any, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true, 'channelsLast');
    const dx = out(backend, ci.inShape, 'float32');
    if (sizeOf(ci.inShape) === 0) return dx;
    if (sizeOf(dy.shape) > 0 && tryNative('DepthwiseConv2dNativeBackpropInput', () => native!.conv(backend.wasm.HEAPU8.buffer, 1, convParams(backend, dy, filter, dx, ci, ci.inChannels)))) return dx;
    count(stats.fallback, 'DepthwiseConv2dNativeBackpropInput');
    js.convBackpropInput(f32(backend, dy), f32(backend, filter), f32(backend, dx), ci, true);
    return dx;
  });

  put('DepthwiseConv2dNativeBackpropFilter', ({ inputs, attrs, backend }) => {
    const { x, dy } = inputs;
    nhwcOnly(attrs, 'DepthwiseConv2dNativeBackpropFilter');
    const ci = bu.computeConv2DInfo(x.shape as any, attrs.filterShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true, 'channelsLast');
    const dw = out(backend, ci.filterShape, 'float32');
    if (sizeOf(ci.filterShape) === 0) return dw;
    if (sizeOf(dy.shape) > 0 && sizeOf(x.shape) > 0 && tryNative('DepthwiseConv2dNativeBackpropFilter', () => native!.conv(backend.wasm.HEAPU8.buffer, 2, convParams(backend, x, dy, dw, ci, ci.inChannels)))) return dw;
    count(stats.fallback, 'DepthwiseConv2dNativeBackpropFilter');
    js.convBackpropFilter(f32(backend, x), f32(backend, dy), f32(backend, dw), ci, true);
    return dw;
  });

  // ---- pooling and segment sums (JavaScript: correct where the wasm kernels are wrong or absent) ----
  put('MaxPoolGrad', ({ inputs, attrs, backend }) => {
    const { dy, input } = inputs;
    const ci = bu.computePool2DInfo(input.shape as any, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const dx = out(backend, input.shape, 'float32');
    js.maxPoolGrad(f32(backend, dy), f32(backend, input), f32(backend, dx), ci);
    return dx;
  });

  put('UnsortedSegmentSum', ({ inputs, attrs, backend }) => {
    const { x, segmentIds } = inputs;
    const numSegments: number = attrs.numSegments;
    const inner = sizeOf(x.shape.slice(segmentIds.shape.length));
    const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
    const res = out(backend, outShape, x.dtype);
    const heap = backend.wasm.HEAPU8.buffer;
    const ids = new Int32Array(heap, off(backend, segmentIds), sizeOf(segmentIds.shape));
    const Arr = x.dtype === 'int32' ? Int32Array : Float32Array;
    const xs = new Arr(heap, off(backend, x), sizeOf(x.shape));
    const o = new Arr(heap, off(backend, res), sizeOf(outShape));
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

  // ---- ReLU6 gradient in one pass (tfjs composes it from LessEqual, Step, Cast, Multiply) ----
  put(RELU6_GRAD, ({ inputs, backend }) => {
    const { dy, x } = inputs;
    const dx = out(backend, x.shape, 'float32');
    const n = sizeOf(x.shape);
    if (n > 0 && tryNative(RELU6_GRAD, () => native!.relu6Grad(backend.wasm.HEAPU8.buffer, Int32Array.of(off(backend, dy), off(backend, x), off(backend, dx), n)))) return dx;
    count(stats.fallback, RELU6_GRAD);
    const g = f32(backend, dy);
    const xs = f32(backend, x);
    const o = f32(backend, dx);
    for (let i = 0; i < n; i++) o[i] = xs[i] > 0 && xs[i] <= 6 ? g[i] : 0;
    return dx;
  });

  // ---- batch norm, eval mode (tf.batchNorm): per-channel vectors over the last axis on OpenMP ----
  const fusedBatchNorm = original('FusedBatchNorm');
  put('FusedBatchNorm', ({ inputs, attrs, backend }) => {
    const { x, mean, variance, offset, scale } = inputs;
    const c = x.shape[x.shape.length - 1];
    const vec = (t?: TI): boolean => t == null || (sizeOf(t.shape) === c && t.dtype === 'float32');
    if (native && engineOptions.useNative && x.dtype === 'float32' && sizeOf(x.shape) > 0 && vec(mean) && vec(variance) && vec(offset) && vec(scale)) {
      const y = out(backend, x.shape, 'float32');
      const o = (t?: TI): number => (t == null ? -1 : off(backend, t));
      if (tryNative('FusedBatchNorm', () => native.bnInfer(backend.wasm.HEAPU8.buffer, Int32Array.of(off(backend, x), off(backend, mean), off(backend, variance), o(offset), o(scale), off(backend, y), sizeOf(x.shape) / c, c), attrs.varianceEpsilon ?? 0.001))) return y;
      disposeInfo(tf, y);
    }
    count(stats.fallback, 'FusedBatchNorm');
    return fusedBatchNorm!({ inputs, attrs, backend });
  });

  // ---- batch norm, training mode ----
  put(BN_TRAIN, ({ inputs, attrs, backend }) => {
    const { x, scale, offset } = inputs;
    const c = x.shape[x.shape.length - 1];
    const m = sizeOf(x.shape) / c;
    const y = out(backend, x.shape, 'float32');
    const mean = out(backend, [c], 'float32');
    const variance = out(backend, [c], 'float32');
    const eps: number = attrs.epsilon;
    if (m > 0 && tryNative(BN_TRAIN, () => native!.bnForward(backend.wasm.HEAPU8.buffer, Int32Array.of(off(backend, x), off(backend, scale), off(backend, offset), off(backend, y), off(backend, mean), off(backend, variance), ...nchw(x.shape)), eps))) {
      return [y, mean, variance];
    }
    count(stats.fallback, BN_TRAIN);
    js.bnForward(f32(backend, x), f32(backend, scale), f32(backend, offset), f32(backend, y), f32(backend, mean), f32(backend, variance), c, eps);
    return [y, mean, variance];
  });

  put(BN_TRAIN_GRAD, ({ inputs, attrs, backend }) => {
    const { dy, x, scale, mean, variance } = inputs;
    const c = x.shape[x.shape.length - 1];
    const m = sizeOf(x.shape) / c;
    const dx = out(backend, x.shape, 'float32');
    const dscale = out(backend, [c], 'float32');
    const doffset = out(backend, [c], 'float32');
    const eps: number = attrs.epsilon;
    if (
      m > 0 &&
      tryNative(BN_TRAIN_GRAD, () =>
        native!.bnBackward(backend.wasm.HEAPU8.buffer, Int32Array.of(off(backend, dy), off(backend, x), off(backend, scale), off(backend, mean), off(backend, variance), off(backend, dx), off(backend, dscale), off(backend, doffset), ...nchw(x.shape)), eps),
      )
    ) {
      return [dx, dscale, doffset];
    }
    count(stats.fallback, BN_TRAIN_GRAD);
    js.bnBackward(f32(backend, dy), f32(backend, x), f32(backend, scale), f32(backend, mean), f32(backend, variance), f32(backend, dx), f32(backend, dscale), f32(backend, doffset), c, eps);
    return [dx, dscale, doffset];
  });
}

/**
 * ReLU6's gradient through RELU6_GRAD where the active backend has it; elsewhere exactly tfjs'
 * own composition (dy * (x <= 6) * step(x)), so other backends are unchanged.
 */
export function registerGradients(tf: Tfjs): void {
  tf.registerGradient({
    kernelName: 'Relu6',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return {
        x: () =>
          tf.getKernel(RELU6_GRAD, tf.getBackend())
            ? tf.engine().runKernel<TF.Tensor>(RELU6_GRAD, { dy: dy as TF.Tensor, x })
            : tf.mul(dy as TF.Tensor, tf.cast(tf.mul(tf.lessEqual(x, 6), tf.step(x)), 'float32')),
      };
    },
  });
}

/** Free an output made before a fallback took over. */
function disposeInfo(tf: Tfjs, t: TI): void {
  tf.engine().backend.disposeData(t.dataId);
}
