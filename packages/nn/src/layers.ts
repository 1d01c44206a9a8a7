import { Module, nextTensorSeed, tf } from '@modnas/core';
import { BATCH_NORM_TRAIN_KERNEL, backendHasKernel, batchNormTrain } from './fused.js';
import { addMacs, profiling } from './profile.js';

const out = (n: number, k: number, s: number, p: number, d = 1): number => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

/** A [k, k, I, O] kernel with d - 1 zeros between its taps: [(k - 1)d + 1, (k - 1)d + 1, I, O]. */
export function dilateKernel(w: tf.Tensor4D, d: number): tf.Tensor4D {
  const [k, , i, o] = w.shape;
  const n = (k - 1) * d + 1;
  const spread = tf.pad(tf.reshape(w, [k, 1, k, 1, i, o]), [[0, 0], [0, d - 1], [0, 0], [0, d - 1], [0, 0], [0, 0]]);
  return tf.slice(tf.reshape<tf.Rank.R4>(spread, [k * d, k * d, i, o]), [0, 0, 0, 0], [n, n, i, o]);
}

export interface Conv2dOptions {
  kernelSize?: number;
  stride?: number;
  /** Symmetric zero padding, as PyTorch (default: kernelSize // 2 * dilation). */
  padding?: number;
  dilation?: number;
  /** 1 (default), or chnIn for a depthwise conv (chnOut must be a multiple of chnIn). */
  groups?: number;
  bias?: boolean;
}

/**
 * 2-D convolution over NHWC input; `groups: chnIn` makes it depthwise. Weight layout HWIO
 * ([KH, KW, chnIn, chnOut]), depthwise [KH, KW, chnIn, multiplier] (PyTorch's OIHW / [C, 1, KH, KW]
 * transposed). Init as PyTorch's nn.Conv2d: weight kaiming_uniform(a=sqrt(5)), i.e.
 * uniform(±1/sqrt(fan_in)) with fan_in = chnIn/groups * KH * KW, bias uniform(±1/sqrt(fan_in)). The
 * original ModularNAS keeps these defaults for its networks (its DefaultModelInitializer re-initialises
 * nothing unless configured).
 */
export class Conv2d extends Module {
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly chnIn: number,
    readonly chnOut: number,
    opts: Conv2dOptions = {},
  ) {
    super();
    this.kernelSize = opts.kernelSize ?? 1;
    this.stride = opts.stride ?? 1;
    this.dilation = opts.dilation ?? 1;
    this.padding = opts.padding ?? Math.floor(this.kernelSize / 2) * this.dilation;
    this.groups = opts.groups ?? 1;
    const k = this.kernelSize;
    if (this.groups !== 1 && this.groups !== chnIn) throw new Error(`Conv2d: groups must be 1 or chnIn (${chnIn}), got ${this.groups}`);
    if (this.groups === chnIn && this.groups > 1 && chnOut % chnIn !== 0) throw new Error(`Conv2d: depthwise chnOut (${chnOut}) must be a multiple of chnIn (${chnIn})`);
    const bound = 1 / Math.sqrt((chnIn / this.groups) * k * k);
    const shape: [number, number, number, number] = this.depthwise ? [k, k, chnIn, chnOut / chnIn] : [k, k, chnIn, chnOut];
    this.weight = this.addParam('weight', tf.randomUniform(shape, -bound, bound, 'float32', nextTensorSeed()));
    if (opts.bias) this.bias = this.addParam('bias', tf.randomUniform([chnOut], -bound, bound, 'float32', nextTensorSeed()));
  }

  get depthwise(): boolean {
    return this.groups > 1;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const x4 = x as tf.Tensor4D;
    const p = this.padding;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [p, p], [p, p], [0, 0]];
    // tfjs has no gradient for dilated convs: in training, the kernel is dilated itself (zeros
    // between its taps, a differentiable pad and reshape), the same function; in inference (and
    // in export) the conv keeps its dilation
    const [w, d] = this.dilation > 1 && this.training ? [dilateKernel(this.weight as tf.Tensor4D, this.dilation), 1] : [this.weight as tf.Tensor4D, this.dilation];
    let y = this.depthwise ? tf.depthwiseConv2d(x4, w, this.stride, p === 0 ? 'valid' : pad, 'NHWC', d) : tf.conv2d(x4, w, this.stride, p === 0 ? 'valid' : pad, 'NHWC', d);
    if (this.bias) y = tf.add(y, this.bias);
    if (profiling()) {
      const [, h, w] = x4.shape;
      const k = this.kernelSize;
      const ho = out(h, k, this.stride, p, this.dilation);
      const wo = out(w, k, this.stride, p, this.dilation);
      addMacs(ho * wo * k * k * (this.chnIn / this.groups) * this.chnOut);
    }
    return y;
  }

  override describe(): string {
    return `${this.chnIn}->${this.chnOut}, k=${this.kernelSize}, s=${this.stride}${this.depthwise ? ', depthwise' : ''}`;
  }
}

export interface BatchNormOptions {
  /** Added to the variance (PyTorch default 1e-5). */
  eps?: number;
  /** Weight of the new batch statistic in the running average (PyTorch convention, default 0.1). */
  momentum?: number;
  affine?: boolean;
}

/**
 * Batch norm over the channel axis of NHWC input, with running statistics for evaluation (the
 * running variance unbiased, as PyTorch's). Init as PyTorch's nn.BatchNorm2d: weight (gamma) 1,
 * bias (beta) 0, running mean 0, running variance 1.
 */
export class BatchNorm2d extends Module {
  readonly eps: number;
  readonly momentum: number;
  readonly gamma?: tf.Variable;
  readonly beta?: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;

  constructor(
    readonly channels: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    if (opts.affine !== false) {
      this.gamma = this.addParam('weight', tf.ones([channels]));
      this.beta = this.addParam('bias', tf.zeros([channels]));
    }
    this.runningMean = this.addBuffer('running_mean', tf.zeros([channels]));
    this.runningVar = this.addBuffer('running_var', tf.ones([channels]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.training) {
      const fused = backendHasKernel(BATCH_NORM_TRAIN_KERNEL);
      const ones = fused && !this.gamma ? tf.onesLike(this.runningVar) : undefined;
      const zeros = fused && !this.beta ? tf.zerosLike(this.runningMean) : undefined;
      // One kernel for statistics + normalisation and one for the gradient where the engine has them.
      const res = fused ? batchNormTrain(x, (this.gamma ?? ones)!, (this.beta ?? zeros)!, this.eps) : undefined;
      const { mean, variance } = res ?? tf.moments(x, [0, 1, 2]);
      // Running statistics use the unbiased variance, as PyTorch does.
      const n = x.size / this.channels;
      const m = this.momentum;
      tf.tidy(() => {
        this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
        this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(variance, (m * n) / Math.max(n - 1, 1))));
      });
      if (res) {
        tf.dispose([res.mean, res.variance, ones, zeros].filter((t): t is tf.Tensor => t != null));
        return res.y;
      }
      return tf.batchNorm(x, mean, variance, this.beta, this.gamma, this.eps);
    }
    return tf.batchNorm(x, this.runningMean, this.runningVar, this.beta, this.gamma, this.eps);
  }

  /** Forget the running statistics (before recalibrating them on a few batches). */
  resetRunningStats(): void {
    tf.tidy(() => {
      this.runningMean.assign(tf.zeros([this.channels]));
      this.runningVar.assign(tf.ones([this.channels]));
    });
  }

  override describe(): string {
    return String(this.channels);
  }
}

/**
 * y = x W + b, weight [inFeatures, outFeatures] (PyTorch's [out, in] transposed). Init as PyTorch's
 * nn.Linear: weight kaiming_uniform(a=sqrt(5)), i.e. uniform(±1/sqrt(inFeatures)), bias
 * uniform(±1/sqrt(inFeatures)); the original ModularNAS keeps these for its classifiers.
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true }: { bias?: boolean } = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.addParam('weight', tf.randomUniform([inFeatures, outFeatures], -bound, bound, 'float32', nextTensorSeed()));
    if (bias) this.bias = this.addParam('bias', tf.randomUniform([outFeatures], -bound, bound, 'float32', nextTensorSeed()));
  }

  forward(x: tf.Tensor): tf.Tensor {
    addMacs(this.inFeatures * this.outFeatures);
    const y = tf.matMul(x, this.weight);
    return this.bias ? tf.add(y, this.bias) : y;
  }

  override describe(): string {
    return `${this.inFeatures}->${this.outFeatures}`;
  }
}

export class ReLU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }
}

export class ReLU6 extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.relu6(x);
  }
}

export class Identity extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

/** Zeros of the output shape (NIL): strided and with chnOut channels. */
export class Zero extends Module {
  constructor(
    readonly chnOut: number,
    readonly stride = 1,
  ) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    const [n, h, w] = x.shape;
    return tf.zeros([n, Math.ceil(h / this.stride), Math.ceil(w / this.stride), this.chnOut]);
  }
}

/** Mean over H and W: NHWC -> NC. */
export class GlobalAvgPool extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mean(x, [1, 2]);
  }
}

export class Dropout extends Module {
  constructor(readonly rate: number) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.training && this.rate > 0 ? tf.dropout(x, this.rate, undefined, nextTensorSeed()) : x;
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly stride = kernelSize,
    readonly padding: 'same' | 'valid' = 'valid',
  ) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.avgPool(x as tf.Tensor4D, this.kernelSize, this.stride, this.padding);
  }
}

/** Conv -> BN -> optional ReLU6: the unit MobileNet-style networks are made of. Init: Conv2d's and BatchNorm2d's (PyTorch's). */
export class ConvBNAct extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly act?: Module;

  constructor(chnIn: number, chnOut: number, opts: Conv2dOptions & { act?: 'relu6' | 'relu' | 'none'; bn?: BatchNormOptions } = {}) {
    super();
    this.conv = this.addModule('conv', new Conv2d(chnIn, chnOut, opts));
    this.bn = this.addModule('bn', new BatchNorm2d(chnOut, opts.bn));
    const act = opts.act ?? 'relu6';
    if (act !== 'none') this.act = this.addModule('act', act === 'relu6' ? new ReLU6() : new ReLU());
  }

  forward(x: tf.Tensor): tf.Tensor {
    const y = this.bn.call(this.conv.call(x));
    return this.act ? this.act.call(y) : y;
  }
}
