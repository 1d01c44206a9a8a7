/**
 * The training kernels tfjs' WebGPU backend lacks, in WGSL, under the names @modnas/core gives
 * them (kernelNames): batch norm over the last axis with batch statistics and its gradient, and
 * the ReLU6 gradient in one pass. @modnas/nn runs them where the active backend has them.
 *
 * Tensors are channels-last: x is viewed as [rows, channels] (rows = every axis but the last).
 * A per-channel sum is one workgroup per channel: its 64 threads stride over the rows, then halve
 * their partial sums in workgroup memory. Statistics are two-pass (mean, then the mean squared
 * deviation), as the cpu reference computes them, so large means do not cancel the variance.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { webgpu_util } from '@tensorflow/tfjs-backend-webgpu';
import { kernelNames } from '@modnas/core';
import type { kernelNames as K } from '@modnas/core';
import { WEBGPU_BACKEND } from './name.js';

export { WEBGPU_BACKEND };

/** Threads a workgroup (a per-channel sum halves them: a power of two). */
const THREADS = 64;

type Uniform = { type: 'int32' | 'float32'; data: number[] };

/** rows and channels of a channels-last tensor. */
function view(shape: readonly number[]): { rows: number; channels: number } {
  const channels = shape[shape.length - 1] ?? 1;
  const size = shape.reduce((a, b) => a * b, 1);
  return { rows: channels === 0 ? 0 : size / channels, channels };
}

/** What the programs here share: 64 threads a workgroup, the channels-last sizes and eps as uniforms, a one-axis dispatch layout. */
abstract class ChannelsLastProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = 'channels : i32, rows : i32, eps : f32,';
  workgroupSize: [number, number, number] = [THREADS, 1, 1];

  /** `dispatch` undefined: enough workgroups for one thread per output element. */
  constructor(outputShape: readonly number[], variableNames: string[], key: string, dispatch?: [number, number, number]) {
    this.outputShape = [...outputShape];
    this.variableNames = variableNames;
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    this.dispatch = dispatch ?? webgpu_util.computeDispatch(this.dispatchLayout, this.outputShape, this.workgroupSize);
    this.shaderKey = `modnas${key}`;
  }

  abstract getUserCode(): string;
}

/**
 * A per-channel sum of `term` over the rows, times `scale` (a WGSL expression of uniforms): one
 * value per channel, one workgroup per channel. In `term`, `i` is the element's flat index and `c`
 * its channel; the inputs are read as arrays by their names.
 */
class ChannelSumProgram extends ChannelsLastProgram {
  constructor(
    channels: number,
    variableNames: string[],
    private readonly term: string,
    private readonly scale: string,
    key: string,
  ) {
    super([channels], variableNames, `ChannelSum_${key}`, [channels, 1, 1]);
  }

  getUserCode(): string {
    return `
      var<workgroup> partial : array<f32, ${THREADS}>;
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let t = i32(localId.x);
        var acc = 0.0;
        for (var r = t; r < uniforms.rows; r = r + ${THREADS}) {
          let i = r * uniforms.channels + c;
          acc = acc + (${this.term});
        }
        partial[t] = acc;
        workgroupBarrier();
        for (var s = ${THREADS / 2}; s > 0; s = s >> 1u) {
          if (t < s) {
            partial[t] = partial[t] + partial[t + s];
          }
          workgroupBarrier();
        }
        if (t == 0) {
          setOutputAtIndex(c, partial[0] * (${this.scale}));
        }
      }
    `;
  }
}

/** One value per element of a channels-last tensor: `value` (a WGSL expression of `i`, the flat index, and `c`, its channel). */
class ElementwiseProgram extends ChannelsLastProgram {
  size = true;

  constructor(
    shape: readonly number[],
    variableNames: string[],
    private readonly value: string,
    key: string,
  ) {
    super(shape, variableNames, `Elementwise_${key}`);
  }

  getUserCode(): string {
    return `
      fn main(i : i32) {
        if (i < uniforms.size) {
          let c = i % uniforms.channels;
          setOutputAtIndex(i, ${this.value});
        }
      }
    `;
  }
}

function uniformsOf(shape: readonly number[], eps: number): Uniform[] {
  const { rows, channels } = view(shape);
  return [
    { type: 'int32', data: [channels] },
    { type: 'int32', data: [rows] },
    { type: 'float32', data: [eps] },
  ];
}

const INV_STD = 'inverseSqrt(variance[c] + uniforms.eps)';

/** BatchNormTrain: [y, mean, biased variance] of x over every axis but the last. */
const batchNormTrain: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, scale, offset } = inputs as K.BatchNormTrainInputs;
  const { epsilon } = attrs as unknown as K.BatchNormTrainAttrs;
  const b = backend as WebGPUBackend;
  const u = uniformsOf(x.shape, epsilon);
  const { channels } = view(x.shape);
  const mean = b.runWebGPUProgram(new ChannelSumProgram(channels, ['x'], 'x[i]', '1.0 / f32(uniforms.rows)', 'mean'), [x], 'float32', u);
  const variance = b.runWebGPUProgram(new ChannelSumProgram(channels, ['x', 'mean'], '(x[i] - mean[c]) * (x[i] - mean[c])', '1.0 / f32(uniforms.rows)', 'variance'), [x, mean], 'float32', u);
  const y = b.runWebGPUProgram(
    new ElementwiseProgram(x.shape, ['x', 'scale', 'offset', 'mean', 'variance'], `(x[i] - mean[c]) * ${INV_STD} * scale[c] + offset[c]`, 'batchNormTrain'),
    [x, scale, offset, mean, variance],
    'float32',
    u,
  );
  return [y, mean, variance];
};

/** BatchNormTrainGrad: [dx, dscale, doffset] from dy and what BatchNormTrain saw and returned. */
const batchNormTrainGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, scale, mean, variance } = inputs as K.BatchNormTrainGradInputs;
  const { epsilon } = attrs as unknown as K.BatchNormTrainGradAttrs;
  const b = backend as WebGPUBackend;
  const u = uniformsOf(x.shape, epsilon);
  const { channels } = view(x.shape);
  const doffset = b.runWebGPUProgram(new ChannelSumProgram(channels, ['dy'], 'dy[i]', '1.0', 'doffset'), [dy], 'float32', u);
  const dscale = b.runWebGPUProgram(new ChannelSumProgram(channels, ['dy', 'x', 'mean', 'variance'], `dy[i] * (x[i] - mean[c]) * ${INV_STD}`, '1.0', 'dscale'), [dy, x, mean, variance], 'float32', u);
  // dx = scale·invstd·(dy − (Σdy + x̂·Σ(dy·x̂)) / rows), x̂ = (x − mean)·invstd
  const dx = b.runWebGPUProgram(
    new ElementwiseProgram(
      x.shape,
      ['dy', 'x', 'scale', 'mean', 'variance', 'dscale', 'doffset'],
      `scale[c] * ${INV_STD} * (dy[i] - (doffset[c] + (x[i] - mean[c]) * ${INV_STD} * dscale[c]) / f32(uniforms.rows))`,
      'batchNormTrainGrad',
    ),
    [dy, x, scale, mean, variance, dscale, doffset],
    'float32',
    u,
  );
  return [dx, dscale, doffset];
};

/** Relu6Grad: dy where 0 < x <= 6, else 0. */
const relu6Grad: KernelFunc = ({ inputs, backend }) => {
  const { dy, x } = inputs as K.Relu6GradInputs;
  const u = uniformsOf(x.shape, 0);
  return (backend as WebGPUBackend).runWebGPUProgram(new ElementwiseProgram(x.shape, ['dy', 'x'], 'select(0.0, dy[i], x[i] > 0.0 && x[i] <= 6.0)', 'relu6Grad'), [dy, x], 'float32', u);
};

/** The kernels, for tfjs' registerKernel on the `webgpu` backend. */
export const WEBGPU_KERNELS: KernelConfig[] = [
  { kernelName: kernelNames.BatchNormTrain, backendName: WEBGPU_BACKEND, kernelFunc: batchNormTrain },
  { kernelName: kernelNames.BatchNormTrainGrad, backendName: WEBGPU_BACKEND, kernelFunc: batchNormTrainGrad },
  { kernelName: kernelNames.Relu6Grad, backendName: WEBGPU_BACKEND, kernelFunc: relu6Grad },
];

/**
 * tfjs' AddN on WebGPU binds every input in one shader, and a device allows only so many storage
 * buffers per stage (8 on many, SwiftShader's included): a global gradient norm over 60 weights
 * fails to compile. This AddN sums groups of inputs that fit, then the groups' sums, with tfjs' own.
 */
function groupedAddN(addN: KernelFunc): KernelFunc {
  const grouped: KernelFunc = (args) => {
    const inputs = args.inputs as unknown as TensorInfo[];
    const backend = args.backend as WebGPUBackend;
    const fit = Math.max(backend.device.limits.maxStorageBuffersPerShaderStage - 1, 2);
    if (inputs.length <= fit) return addN(args);
    const sums: TensorInfo[] = [];
    for (let i = 0; i < inputs.length; i += fit) {
      const group = inputs.slice(i, i + fit);
      sums.push(group.length === 1 ? group[0] : (addN({ ...args, inputs: group as unknown as typeof args.inputs }) as TensorInfo));
    }
    const out = grouped({ ...args, inputs: sums as unknown as typeof args.inputs }) as TensorInfo;
    for (const t of sums) if (!inputs.includes(t)) backend.disposeData(t.dataId);
    return out;
  };
  return grouped;
}

interface KernelRegistry {
  getKernel(name: string, backend: string): { kernelFunc: KernelFunc } | undefined;
  registerKernel(k: KernelConfig): void;
  unregisterKernel(name: string, backend: string): void;
}

const ADD_N = 'AddN';
/** The AddN this package wraps (tfjs' own), so that registering twice wraps it once. */
let wrappedAddN: KernelFunc | undefined;

/** Register the kernels with `tf`, and AddN in groups (once; a second call leaves them as they are). */
export function registerWebGpuKernels(tf: KernelRegistry): void {
  for (const k of WEBGPU_KERNELS) if (!tf.getKernel(k.kernelName, WEBGPU_BACKEND)) tf.registerKernel(k);
  const addN = tf.getKernel(ADD_N, WEBGPU_BACKEND);
  if (addN && addN.kernelFunc !== wrappedAddN) {
    wrappedAddN = groupedAddN(addN.kernelFunc);
    tf.unregisterKernel(ADD_N, WEBGPU_BACKEND);
    tf.registerKernel({ kernelName: ADD_N, backendName: WEBGPU_BACKEND, kernelFunc: wrappedAddN });
  }
}

export type { TensorInfo };
