import { ModnasError, Sequential } from '@modnas/core';
import { BatchNorm2d, Conv2d, ReLU6 } from './layers.js';

export interface MobileInvertedConvOptions {
  expansion: number;
  kernelSize: number;
  /** Registry id this conv reports to exporters (default MB<k>E<e>). */
  id?: string;
}

/**
 * The inverted residual convolution of MobileNetV2: 1x1 expand (left out when the expansion is 1),
 * kxk depthwise with the stride, 1x1 linear projection, each followed by batch norm; ReLU6 after
 * the first two. Children keep the original's Sequential indices (0..7, or 0..4 without the
 * expansion), so weights map one to one. The residual add belongs to the enclosing block.
 */
export class MobileInvertedConv extends Sequential {
  readonly chnIn: number;
  readonly chnOut: number;
  readonly stride: number;
  readonly expansion: number;
  readonly kernelSize: number;
  readonly id: string;

  constructor(chnIn: number, chnOut: number, stride: number, opts: MobileInvertedConvOptions) {
    const { expansion: e, kernelSize: k } = opts;
    if (!(k % 2 === 1 && k > 0)) throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `MobileInvertedConv: kernel size must be odd (same padding), got ${k}`);
    const chn = chnIn * e;
    const layers = chn === chnIn ? [] : [new Conv2d(chnIn, chn, { kernelSize: 1 }), new BatchNorm2d(chn), new ReLU6()];
    layers.push(
      new Conv2d(chn, chn, { kernelSize: k, stride, padding: Math.floor(k / 2), groups: chn }),
      new BatchNorm2d(chn),
      new ReLU6(),
      new Conv2d(chn, chnOut, { kernelSize: 1 }),
      new BatchNorm2d(chnOut),
    );
    super(layers);
    this.chnIn = chnIn;
    this.chnOut = chnOut;
    this.stride = stride;
    this.expansion = e;
    this.kernelSize = k;
    this.id = opts.id ?? `MB${k}E${e}`;
  }

  /** The primitive's id, e.g. 'MB3E6' (what arch descriptions hold). */
  toArchDesc(): string {
    return this.id;
  }

  override describe(): string {
    return `${this.id}: ${this.chnIn}->${this.chnOut}, s=${this.stride}`;
  }
}
