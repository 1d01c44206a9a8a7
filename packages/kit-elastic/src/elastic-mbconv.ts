import type { CategoricalParam } from '@modnas/core';
import { Module, ModnasError, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, addMacs, profiling } from '@modnas/nn';

/** Brand of elastic blocks (a `Symbol.for` key, so two copies of this package still agree). */
export const ELASTIC_BLOCK: unique symbol = Symbol.for('@modnas/construct-elastic:ElasticMBConv');

/** How hidden channels are ranked before shrinking (most important first). */
export type RankFn = 'l1_fan_in' | 'l1_fan_out' | 'bn_l1' | 'none';

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];
const samePad = (p: number): Pad4 | 'valid' => (p === 0 ? 'valid' : [[0, 0], [p, p], [p, p], [0, 0]]);
const outSize = (n: number, k: number, s: number, p: number): number => Math.floor((n + 2 * p - k) / s) + 1;

/**
 * An inverted residual conv (1x1 expand, kxk depthwise, 1x1 project, each with batch norm) whose
 * hidden width and depthwise kernel size change at run time:
 * - width c: the first c hidden channels are used (expand conv outputs, both BNs, the depthwise
 *   filters, the project conv inputs). `sortChannels` reorders the hidden channels by importance
 *   first, so shrinking keeps the most important ones (Once-for-All);
 * - kernel k: the centre k x k of the largest kernel, passed through a learnable k²×k² kernel
 *   transformation matrix per step down (7→5, 5→3), initialised to the identity (Once-for-All's
 *   elastic kernel); without transforms, the plain centre crop.
 * The block takes over the children of the conv it replaces under the same names, so weight paths
 * (`...conv.impl.0.weight`) are those of the fixed network. At full size it runs those children as
 * they are.
 */
export class ElasticMBConv extends Module {
  readonly [ELASTIC_BLOCK] = true;
  readonly chnIn: number;
  readonly chnOut: number;
  readonly stride: number;
  readonly expand?: Conv2d;
  readonly bn1?: BatchNorm2d;
  readonly dw: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly proj: Conv2d;
  readonly bn3: BatchNorm2d;
  private readonly acts: Module[];
  /** Hidden channels at full width. */
  readonly maxWidth: number;
  readonly maxKernel: number;
  /** Allowed kernel sizes, largest first (the transform chain). */
  private kernels: number[];
  private readonly transforms = new Map<string, tf.Variable>();
  private w: number;
  private k: number;
  /** Can the width change (set by the spatial constructor)? */
  widthElastic = false;
  /** How `sortChannels` ranks hidden channels when progressive shrinking re-ranks them. */
  rank: RankFn = 'l1_fan_in';
  /** Set by an elastic stage when depth leaves this block out (exports as NIL). */
  skipped = false;
  /** Arch params bound by the constructors (search spaces), to sync from after direct changes. */
  readonly bound: { width?: CategoricalParam; kernel?: CategoricalParam } = {};

  constructor(conv: Module, spec: { chnIn: number; chnOut: number; stride: number }) {
    super();
    const convs: Conv2d[] = [];
    const bns: BatchNorm2d[] = [];
    const acts: Module[] = [];
    for (const [, m] of conv.modules()) {
      if (m === conv) continue;
      if (m instanceof Conv2d) convs.push(m);
      else if (m instanceof BatchNorm2d) bns.push(m);
      else if (m.children().length === 0) acts.push(m);
    }
    const shape = `${convs.length} convs, ${bns.length} batch norms, ${acts.length} activations`;
    const ok = (convs.length === 3 && bns.length === 3 && acts.length === 2) || (convs.length === 2 && bns.length === 2 && acts.length === 1);
    if (!ok) {
      throw new ModnasError('MODNAS_E_ELASTIC_BLOCK', `an elastic constructor expected an inverted residual conv (1x1 conv, BN, act, depthwise conv, BN, act, 1x1 conv, BN), found ${shape} in ${conv.constructor.name}`, {
        fix: 'fill the Slots with MobileNetV2 blocks first (construct: [MobileNetV2PredefinedConstructor, ...], or DefaultOpConstructor with an MBxEy op)',
      });
    }
    if (convs.length === 3) {
      [this.expand, this.dw, this.proj] = convs;
      [this.bn1, this.bn2, this.bn3] = bns;
    } else {
      [this.dw, this.proj] = convs;
      [this.bn2, this.bn3] = bns;
    }
    if (!this.dw.depthwise || this.proj.kernelSize !== 1 || (this.expand && this.expand.kernelSize !== 1)) {
      throw new ModnasError('MODNAS_E_ELASTIC_BLOCK', `an elastic constructor expected 1x1 / depthwise / 1x1 convs in ${conv.constructor.name}, found kernel sizes ${convs.map((c) => c.kernelSize).join('/')}`, {
        fix: 'fill the Slots with MobileNetV2 blocks (MBxEy) before the elastic constructor',
      });
    }
    this.acts = acts;
    this.chnIn = spec.chnIn;
    this.chnOut = spec.chnOut;
    this.stride = this.dw.stride;
    this.maxWidth = this.dw.chnIn;
    this.maxKernel = this.dw.kernelSize;
    this.kernels = [this.maxKernel];
    this.w = this.maxWidth;
    this.k = this.maxKernel;
    // Same child names as the replaced conv: the weight paths of the fixed network.
    for (const [name, child] of conv.children()) this.addModule(name, child);
  }

  /** The active hidden width. */
  get width(): number {
    return this.w;
  }

  /** The active depthwise kernel size. */
  get kernel(): number {
    return this.k;
  }

  /** Active width / chnIn (the MBxEy expansion of the current subnet). */
  get expansion(): number {
    return this.w / this.chnIn;
  }

  get maxExpansion(): number {
    return this.maxWidth / this.chnIn;
  }

  /** Allowed kernel sizes, largest first. */
  get kernelSizes(): readonly number[] {
    return this.kernels;
  }

  /** Width of hidden channels to use (null: full). */
  setWidth(width: number | null): void {
    if (width === null) {
      this.w = this.maxWidth;
      return;
    }
    if (!this.widthElastic && width !== this.maxWidth) {
      throw new ModnasError('MODNAS_E_ELASTIC_WIDTH', `this block's width is not elastic (it has no expand conv, or no spatial constructor made it elastic)`, {
        fix: 'add MobileNetV2ElasticSpatialConstructor (or MobileNetV2ElasticConstructor) to the construct chain',
      });
    }
    if (!Number.isInteger(width) || width < 1 || width > this.maxWidth) {
      throw new ModnasError('MODNAS_E_ELASTIC_WIDTH', `width ${width} is outside [1, ${this.maxWidth}] for a block of ${this.chnIn} input channels`);
    }
    this.w = width;
  }

  /** Kernel size to use (null: the largest). */
  setKernel(kernel: number | null): void {
    if (kernel === null) {
      this.k = this.maxKernel;
      return;
    }
    if (!this.kernels.includes(kernel)) {
      throw new ModnasError('MODNAS_E_ELASTIC_KERNEL', `kernel size ${kernel} is not one of this block's sizes ${JSON.stringify(this.kernels)}`, {
        fix: 'use a size listed in kernel_range that is not larger than the block\'s kernel',
      });
    }
    this.k = kernel;
  }

  /** Make the kernel elastic over `sizes` (odd, at most the block's kernel), with transform matrices or plain centre crops. */
  enableKernels(sizes: readonly number[], transform: boolean): void {
    const ks = [...new Set([this.maxKernel, ...sizes.filter((s) => s <= this.maxKernel)])].sort((a, b) => b - a);
    for (const s of ks) {
      if (s % 2 !== 1 || s < 1) throw new ModnasError('MODNAS_E_ELASTIC_KERNEL', `kernel sizes must be odd, got ${s}`, { fix: 'use odd sizes in kernel_range, e.g. [3, 5, 7]' });
    }
    for (const t of this.transforms.values()) t.dispose();
    this.transforms.clear();
    this.kernels = ks;
    if (transform) {
      for (let i = 1; i < ks.length; i++) {
        const n = ks[i] * ks[i];
        // A weight of this module: trained with the rest, saved under `<path>.ktm_7to5`.
        const name = `ktm_${ks[i - 1]}to${ks[i]}`;
        this.transforms.set(`${ks[i - 1]}to${ks[i]}`, this.addParam(name, tf.eye(n)));
      }
    }
    if (!ks.includes(this.k)) this.k = this.maxKernel;
  }

  /** The learnable kernel transformation matrix from size `from` to `to` (Once-for-All), if any. */
  transformMatrix(from: number, to: number): tf.Variable | undefined {
    return this.transforms.get(`${from}to${to}`);
  }

  /** The depthwise filters of kernel size k for all hidden channels: [k, k, maxWidth, 1]. */
  dwKernel(k: number = this.k): tf.Tensor4D {
    return tf.tidy(() => {
      let w = this.dw.weight as tf.Tensor4D;
      let cur = this.maxKernel;
      for (const s of this.kernels) {
        if (s >= cur) continue;
        if (s < k) break;
        const off = (cur - s) / 2;
        w = tf.slice(w, [off, off, 0, 0], [s, s, this.maxWidth, 1]);
        const m = this.transformMatrix(cur, s);
        if (m) {
          // [s, s, C, 1] -> [C, s*s] · M -> back
          const flat = tf.transpose(tf.reshape(w, [s * s, this.maxWidth]));
          w = tf.reshape(tf.transpose(tf.matMul(flat, m)), [s, s, this.maxWidth, 1]);
        }
        cur = s;
      }
      return w;
    });
  }

  override forward(x: tf.Tensor): tf.Tensor {
    if (this.w === this.maxWidth && this.k === this.maxKernel) {
      let y = x;
      for (const [, m] of this.children()) y = m.call(y);
      return y;
    }
    const c = this.w;
    const k = this.k;
    let h = x as tf.Tensor4D;
    const [, hIn, wIn] = h.shape;
    if (this.expand && this.bn1) {
      const we = tf.slice(this.expand.weight, [0, 0, 0, 0], [1, 1, this.chnIn, c]) as tf.Tensor4D;
      h = tf.conv2d(h, we, 1, 'valid');
      if (this.expand.bias) h = tf.add(h, tf.slice(this.expand.bias, [0], [c]));
      if (profiling()) addMacs(hIn * wIn * this.chnIn * c);
      h = this.acts[0].call(slicedBatchNorm(this.bn1, h, c)) as tf.Tensor4D;
    }
    const p = Math.floor(k / 2);
    const wd = tf.slice(this.dwKernel(k), [0, 0, 0, 0], [k, k, c, 1]);
    h = tf.depthwiseConv2d(h, wd, this.stride, samePad(p));
    if (this.dw.bias) h = tf.add(h, tf.slice(this.dw.bias, [0], [c]));
    const ho = outSize(hIn, k, this.stride, p);
    const wo = outSize(wIn, k, this.stride, p);
    if (profiling()) addMacs(ho * wo * k * k * c);
    h = this.acts[this.acts.length - 1].call(slicedBatchNorm(this.bn2, h, c)) as tf.Tensor4D;
    const wp = tf.slice(this.proj.weight, [0, 0, 0, 0], [1, 1, c, this.chnOut]) as tf.Tensor4D;
    h = tf.conv2d(h, wp, 1, 'valid');
    if (this.proj.bias) h = tf.add(h, this.proj.bias);
    if (profiling()) addMacs(ho * wo * c * this.chnOut);
    return this.bn3.call(h);
  }

  /**
   * Reorder the hidden channels by importance, most important first (a function-preserving
   * permutation at full width; Once-for-All's re-organisation before shrinking). `l1_fan_in`: L1
   * norm of the project conv's input filters; `l1_fan_out`: of the expand conv's output filters;
   * `bn_l1`: |γ| of the depthwise conv's batch norm. Returns the order applied.
   */
  async sortChannels(rank: RankFn = this.rank): Promise<number[]> {
    if (rank === 'none' || !this.expand || !this.bn1) return Array.from({ length: this.maxWidth }, (_, i) => i);
    const t = tf.tidy(() => {
      if (rank === 'l1_fan_in') return tf.sum(tf.abs(this.proj.weight), [0, 1, 3]);
      if (rank === 'l1_fan_out') return tf.sum(tf.abs(this.expand!.weight), [0, 1, 2]);
      return tf.abs(this.bn2.gamma ?? tf.ones([this.maxWidth]));
    });
    // read without blocking the backend (a GPU's read is asynchronous)
    const score = Array.from(await t.data());
    t.dispose();
    const order = score.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
    if (order.every((v, i) => v === i)) return order;
    tf.tidy(() => {
      const idx = tf.tensor1d(order, 'int32');
      const perm = (v: tf.Variable | undefined, axis: number): void => {
        if (v) v.assign(tf.gather(v, idx, axis));
      };
      perm(this.expand!.weight, 3);
      perm(this.expand!.bias, 0);
      for (const bn of [this.bn1!, this.bn2]) {
        perm(bn.gamma, 0);
        perm(bn.beta, 0);
        perm(bn.runningMean, 0);
        perm(bn.runningVar, 0);
      }
      perm(this.dw.weight, 2);
      perm(this.dw.bias, 0);
      perm(this.proj.weight, 2);
    });
    return order;
  }

  /** Set width and kernel from the bound arch params (full size where none is bound). */
  syncFromParams(): void {
    this.w = this.bound.width ? this.chnIn * Number(this.bound.width.value) : this.maxWidth;
    this.k = this.bound.kernel ? Number(this.bound.kernel.value) : this.maxKernel;
  }

  /** The MBxEy id of the active subnet block, or NIL when depth skips it. */
  toArchDesc(): string {
    return this.skipped ? 'NIL' : `MB${this.k}E${Number.isInteger(this.expansion) ? this.expansion : +this.expansion.toFixed(2)}`;
  }

  override describe(): string {
    return `${this.chnIn}->${this.chnOut}, s=${this.stride}, width ${this.w}/${this.maxWidth}, kernel ${this.k}/${this.maxKernel}`;
  }
}

/**
 * Batch norm over the first c channels of `bn` (the rest of its statistics untouched). In training
 * it normalises with the batch statistics and updates the first c running statistics with the
 * layer's momentum (so BN recalibration, which sets the momentum, works on subnets too).
 */
export function slicedBatchNorm(bn: BatchNorm2d, x: tf.Tensor, c: number): tf.Tensor {
  if (c === bn.channels) return bn.call(x);
  const gamma = bn.gamma ? tf.slice(bn.gamma, [0], [c]) : undefined;
  const beta = bn.beta ? tf.slice(bn.beta, [0], [c]) : undefined;
  if (bn.training) {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const n = x.size / c;
    const m = bn.momentum;
    tf.tidy(() => {
      const rest = bn.channels - c;
      const upd = (run: tf.Variable, v: tf.Tensor): void => {
        const head = tf.add(tf.mul(tf.slice(run, [0], [c]), 1 - m), tf.mul(v, m));
        run.assign(tf.concat([head, tf.slice(run, [c], [rest])]));
      };
      upd(bn.runningMean, mean);
      upd(bn.runningVar, tf.mul(variance, n / Math.max(n - 1, 1)));
    });
    return tf.batchNorm(x, mean, variance, beta, gamma, bn.eps);
  }
  return tf.batchNorm(x, tf.slice(bn.runningMean, [0], [c]), tf.slice(bn.runningVar, [0], [c]), beta, gamma, bn.eps);
}

export function isElasticBlock(m: unknown): m is ElasticMBConv {
  return typeof m === 'object' && m !== null && (m as Record<symbol, unknown>)[ELASTIC_BLOCK] === true;
}
