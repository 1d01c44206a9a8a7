import { ModnasError, Module, Sequential, tf } from '@modnas/core';
import { HardSigmoid, HardSwish } from './activations.js';
import { BatchNorm2d, Conv2d, ReLU } from './layers.js';

/**
 * `v` rounded to the nearest multiple of `divisor` (at least `minValue`, default `divisor`), and one
 * `divisor` more if that lost over 10% of `v`: the channel rounding of the TF MobileNet code, which
 * MobileNetV3 uses for its width multiplier and squeeze-excite widths.
 */
export function makeDivisible(v: number, divisor = 8, minValue?: number): number {
  let out = Math.max(minValue ?? divisor, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

/** Average over H and W, keeping them (N, 1, 1, C): PyTorch's AdaptiveAvgPool2d(1) in NHWC. */
export class SpatialMeanKeepDims extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mean(x, [1, 2], true);
  }
}

/**
 * Squeeze-and-excitation (Hu et al. 2018) as MobileNetV3 uses it: the channel weights come from
 * global average pool -> 1x1 conv to makeDivisible(C / reduction) (with bias) -> ReLU -> 1x1 conv
 * back to C (with bias) -> hard sigmoid, and multiply the input. Children keep the original
 * SELayer's `net` indices (net.1 and net.3 hold the weights).
 */
export class SqueezeExcite extends Module {
  readonly channels: number;
  readonly reduced: number;
  readonly net: Sequential;

  constructor(channels: number, reduction = 4) {
    super();
    if (!(Number.isInteger(channels) && channels > 0 && reduction > 0)) {
      throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `SqueezeExcite: channels must be a positive integer and reduction positive, got channels=${channels}, reduction=${reduction}`);
    }
    this.channels = channels;
    this.reduced = makeDivisible(Math.floor(channels / reduction), 8);
    this.net = this.addModule(
      'net',
      new Sequential([new SpatialMeanKeepDims(), new Conv2d(channels, this.reduced, { kernelSize: 1, bias: true }), new ReLU(), new Conv2d(this.reduced, channels, { kernelSize: 1, bias: true }), new HardSigmoid()]),
    );
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, this.net.call(x));
  }

  override describe(): string {
    return `${this.channels}->${this.reduced}->${this.channels}`;
  }
}

export interface MobileInvertedConvV3Options {
  /** Channels of the expanded (depthwise) stage. */
  chn: number;
  kernelSize: number;
  /** Squeeze-excite after the depthwise conv. */
  useSe?: boolean;
  /** Hard swish instead of ReLU after the expand and depthwise convs. */
  useHs?: boolean;
  /** Registry id this conv reports to exporters; default: its M3B name when it has one, else none. */
  id?: string | null;
}

/**
 * The inverted residual convolution of MobileNetV3 (Howard et al. 2019): 1x1 expand to `chn` (left
 * out when chn equals chnIn), kxk depthwise with the stride, each with BN and ReLU or hard swish,
 * optional squeeze-excite on the `chn` channels, 1x1 linear projection with BN. Convs have no bias.
 * Children keep the original MobileInvertedConvV3's Sequential indices. The residual add belongs to
 * the enclosing block.
 */
export class MobileInvertedConvV3 extends Sequential {
  readonly chnIn: number;
  readonly chnOut: number;
  readonly stride: number;
  readonly chn: number;
  readonly kernelSize: number;
  readonly useSe: boolean;
  readonly useHs: boolean;
  readonly id: string | null;

  constructor(chnIn: number, chnOut: number, stride: number, opts: MobileInvertedConvV3Options) {
    const { chn, kernelSize: k } = opts;
    const useSe = opts.useSe ?? false;
    const useHs = opts.useHs ?? false;
    if (!(k % 2 === 1 && k > 0)) throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `MobileInvertedConvV3: kernel size must be odd (same padding), got ${k}`);
    if (!(Number.isInteger(chn) && chn > 0)) throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `MobileInvertedConvV3: chn (the expanded channels) must be a positive integer, got ${chn}`);
    const act = (): Module => (useHs ? new HardSwish() : new ReLU());
    const layers: Module[] = chn === chnIn ? [] : [new Conv2d(chnIn, chn, { kernelSize: 1 }), new BatchNorm2d(chn), act()];
    layers.push(new Conv2d(chn, chn, { kernelSize: k, stride, padding: Math.floor(k / 2), groups: chn }), new BatchNorm2d(chn), act());
    if (useSe) layers.push(new SqueezeExcite(chn));
    layers.push(new Conv2d(chn, chnOut, { kernelSize: 1 }), new BatchNorm2d(chnOut));
    super(layers);
    this.chnIn = chnIn;
    this.chnOut = chnOut;
    this.stride = stride;
    this.chn = chn;
    this.kernelSize = k;
    this.useSe = useSe;
    this.useHs = useHs;
    this.id = opts.id === undefined ? m3bName(chnIn, chn, k, useSe, useHs) : opts.id;
  }

  /** The primitive's id (e.g. 'M3B5E6SH'), or null when no registered M3B primitive builds this conv. */
  toArchDesc(): string | null {
    return this.id;
  }

  override describe(): string {
    return `${this.id ?? 'MobileInvertedConvV3'}: ${this.chnIn}->${this.chn}->${this.chnOut}, k=${this.kernelSize}, s=${this.stride}${this.useSe ? ', SE' : ''}${this.useHs ? ', h-swish' : ''}`;
  }
}

/** The M3B{k}E{e}[S][H] id that builds this conv, when k is 3/5/7/9 and chn is chnIn x 1/3/6/9. */
function m3bName(chnIn: number, chn: number, k: number, useSe: boolean, useHs: boolean): string | null {
  const e = chn / chnIn;
  if (![3, 5, 7, 9].includes(k) || ![1, 3, 6, 9].includes(e)) return null;
  return `M3B${k}E${e}${useSe ? 'S' : ''}${useHs ? 'H' : ''}`;
}
