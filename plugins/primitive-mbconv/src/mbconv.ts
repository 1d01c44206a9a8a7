import type { SlotSpec } from '@modnas/core';
import { ModnasError, Sequential, defineComponent, z } from '@modnas/core';
import { BatchNorm2d, Conv2d, ReLU6 } from '@modnas/nn';

/** Kernel sizes and expansion ratios of the registered MBxEy primitives (as the original). */
export const KERNEL_SIZES = [3, 5, 7, 9] as const;
export const EXPANSION_RATIOS = [1, 3, 6, 9] as const;

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

export const mbconvSchema = z.strictObject({});

function checkSpec(id: string, spec: SlotSpec | undefined): SlotSpec {
  if (!spec || !Number.isInteger(spec.chnIn) || !Number.isInteger(spec.chnOut) || !Number.isInteger(spec.stride) || spec.stride < 1) {
    throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `${id} needs a Slot spec { chnIn, chnOut, stride } of positive integers, got ${JSON.stringify(spec)}`, {
      fix: 'build primitives through a constructor (which passes the Slot), or pass { chnIn, chnOut, stride } as the input',
    });
  }
  return spec;
}

function mbComponent(k: number, e: number) {
  const id = `MB${k}E${e}`;
  return defineComponent({
    kind: 'primitive',
    id,
    description: `Inverted residual conv (MobileNetV2): ${e === 1 ? 'no expansion' : `1x1 expand x${e}`}, ${k}x${k} depthwise, 1x1 project, BN + ReLU6`,
    schema: mbconvSchema,
    create(_config, _ctx, spec) {
      const s = checkSpec(id, spec);
      // As the original, the Slot's extra args (expansion, activation of the block) are not forwarded.
      return new MobileInvertedConv(s.chnIn, s.chnOut, s.stride, { expansion: e, kernelSize: k, id });
    },
  });
}

/** MB3E1 ... MB9E9: kernel size x in {3,5,7,9} and expansion y in {1,3,6,9}. */
export const mbconvComponents = KERNEL_SIZES.flatMap((k) => EXPANSION_RATIOS.map((e) => mbComponent(k, e)));
