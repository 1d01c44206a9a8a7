import { Module, nextTensorSeed, tf } from '@modnas/core';
import { BATCH_NORM_TRAIN_KERNEL, backendHasKernel, batchNormTrain } from './fused.js';
import { addMacs, profiling } from './profile.js';

const out = (n: number, k: number, s: number, p: number, d = 1): number => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

/**
 * A [kh, kw, I, O] kernel with d - 1 zeros between its taps: [(kh - 1)d + 1, (kw - 1)d + 1, I, O]
 * (square or not).
 */
export function dilateKernel(w: tf.Tensor4D, d: number): tf.Tensor4D {
  const [kh, kw, i, o] = w.shape;
  const nh = (kh - 1) * d + 1;
  const nw = (kw - 1) * d + 1;
  const spread = tf.pad(tf.reshape(w, [kh, 1, kw, 1, i, o]), [[0, 0], [0, d - 1], [0, 0], [0, d - 1], [0, 0], [0, 0]]);
  return tf.slice(tf.reshape<tf.Rank.R4>(spread, [kh * d, kw * d, i, o]), [0, 0, 0, 0], [nh, nw, i, o]);
}

export interface Conv2dOptions {
  /** Side of a square kernel, or [kh, kw] (default 1). */
  kernelSize?: number | readonly [number, number];
  stride?: number;
  /** Zero padding, symmetric on each axis, as PyTorch: a number for both axes or [ph, pw] (default: kh // 2 * dilation, kw // 2 * dilation). */
  padding?: number | readonly [number, number];
  dilation?: number;
  /**
   * 1 (default); chnIn for a depthwise conv (chnOut must be a multiple of chnIn); or any g dividing
   * chnIn and chnOut for a grouped conv (g independent convs of chnIn/g -> chnOut/g channels).
   */
  groups?: number;
  bias?: boolean;
}

const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/**
 * 2-D convolution over NHWC input; `groups: chnIn` makes it depthwise, other `groups` grouped.
 * Weight layout HWIO ([KH, KW, chnIn/groups, chnOut], output channels group by group, as PyTorch's
 * [chnOut, chnIn/groups, KH, KW] transposed); depthwise [KH, KW, chnIn, multiplier] (PyTorch's
 * [C*M, 1, KH, KW] transposed). Init as PyTorch's nn.Conv2d: weight kaiming_uniform(a=sqrt(5)), i.e.
 * uniform(±1/sqrt(fan_in)) with fan_in = chnIn/groups * KH * KW, bias uniform(±1/sqrt(fan_in)). The
 * original ModularNAS keeps these defaults for its networks (its DefaultModelInitializer re-initialises
 * nothing unless configured).
 */
export class Conv2d extends Module {
  /** The side of a square kernel; of a non-square one, its larger side (read kernelH and kernelW). */
  readonly kernelSize: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly stride: number;
  /** The padding of both axes when they agree; else the larger (read paddingH and paddingW). */
  readonly padding: number;
  readonly paddingH: number;
  readonly paddingW: number;
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
    [this.kernelH, this.kernelW] = pair(opts.kernelSize ?? 1);
    this.kernelSize = Math.max(this.kernelH, this.kernelW);
    this.stride = opts.stride ?? 1;
    this.dilation = opts.dilation ?? 1;
    [this.paddingH, this.paddingW] = opts.padding === undefined ? [Math.floor(this.kernelH / 2) * this.dilation, Math.floor(this.kernelW / 2) * this.dilation] : pair(opts.padding);
    this.padding = Math.max(this.paddingH, this.paddingW);
    this.groups = opts.groups ?? 1;
    const g = this.groups;
    if (!Number.isInteger(g) || g < 1 || chnIn % g !== 0) throw new Error(`Conv2d: groups must be a positive integer dividing chnIn (${chnIn}), got ${g}`);
    if (chnOut % g !== 0) throw new Error(`Conv2d: chnOut (${chnOut}) must be a multiple of groups (${g})${g === chnIn ? ' (depthwise: a multiple of chnIn)' : ''}`);
    const [kh, kw] = [this.kernelH, this.kernelW];
    const bound = 1 / Math.sqrt((chnIn / g) * kh * kw);
    const shape: [number, number, number, number] = this.depthwise ? [kh, kw, chnIn, chnOut / chnIn] : [kh, kw, chnIn / g, chnOut];
    this.weight = this.addParam('weight', tf.randomUniform(shape, -bound, bound, 'float32', nextTensorSeed()));
    if (opts.bias) this.bias = this.addParam('bias', tf.randomUniform([chnOut], -bound, bound, 'float32', nextTensorSeed()));
  }

  /** One group per input channel (tfjs' depthwise conv); other groups > 1 run as grouped convs. */
  get depthwise(): boolean {
    return this.groups > 1 && this.groups === this.chnIn;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const x4 = x as tf.Tensor4D;
    const [ph, pw] = [this.paddingH, this.paddingW];
    const pad = ph === 0 && pw === 0 ? 'valid' : ([[0, 0], [ph, ph], [pw, pw], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]);
    // tfjs has no gradient for dilated convs: in training, the kernel is dilated itself (zeros
    // between its taps, a differentiable pad and reshape), the same function; in inference (and
    // in export) the conv keeps its dilation
    const [w, d] = this.dilation > 1 && this.training ? [dilateKernel(this.weight as tf.Tensor4D, this.dilation), 1] : [this.weight as tf.Tensor4D, this.dilation];
    let y: tf.Tensor4D;
    if (this.depthwise) y = tf.depthwiseConv2d(x4, w, this.stride, pad, 'NHWC', d);
    else if (this.groups === 1) y = tf.conv2d(x4, w, this.stride, pad, 'NHWC', d);
    else {
      // tfjs has no grouped conv: one conv per group (input channels and output filters split alike), concatenated
      const xs = tf.split<tf.Tensor4D>(x4, this.groups, 3);
      const ws = tf.split<tf.Tensor4D>(w, this.groups, 3);
      y = tf.concat4d(xs.map((xg, i) => tf.conv2d(xg, ws[i], this.stride, pad, 'NHWC', d)), 3);
    }
    if (this.bias) y = tf.add(y, this.bias);
    if (profiling()) {
      const [, h, wd] = x4.shape;
      const ho = out(h, this.kernelH, this.stride, ph, this.dilation);
      const wo = out(wd, this.kernelW, this.stride, pw, this.dilation);
      addMacs(ho * wo * this.kernelH * this.kernelW * (this.chnIn / this.groups) * this.chnOut);
    }
    return y;
  }

  override describe(): string {
    const k = this.kernelH === this.kernelW ? String(this.kernelH) : `${this.kernelH}x${this.kernelW}`;
    const g = this.depthwise ? ', depthwise' : this.groups > 1 ? `, groups=${this.groups}` : '';
    return `${this.chnIn}->${this.chnOut}, k=${k}, s=${this.stride}${g}`;
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
