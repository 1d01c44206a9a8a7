import type { SlotSpec } from '@modnas/core';
import { Module, Slot, defineComponent, tf, z } from '@modnas/core';
import { BatchNorm2d, Conv2d, ReLU } from '@modnas/nn';

/** The identity: what IDT is when the Slot keeps channels and resolution. */
export class IdentityOp extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }

  toArchDesc(): string {
    return 'IDT';
  }
}

/**
 * ReLU, then two 1x1 convs with the stride, one on the input and one on the input shifted by one
 * pixel, concatenated on channels, then BN: the original's (DARTS') FactorizedReduce. Two changes:
 * the shifted branch is zero-padded back to the input size, so odd maps give ceil(h/stride) as the
 * other primitives do (the original fails on odd maps); an odd chnOut is split floor/ceil (the
 * original fails); and the given stride is used (the original always halves, even at stride 1).
 */
export class FactorizedReduce extends Module {
  readonly relu: ReLU;
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly bn: BatchNorm2d;

  constructor(
    readonly chnIn: number,
    readonly chnOut: number,
    readonly stride = 2,
  ) {
    super();
    const half = Math.floor(chnOut / 2);
    this.relu = this.addModule('relu', new ReLU());
    this.conv1 = this.addModule('conv1', new Conv2d(chnIn, half, { kernelSize: 1, stride, padding: 0 }));
    this.conv2 = this.addModule('conv2', new Conv2d(chnIn, chnOut - half, { kernelSize: 1, stride, padding: 0 }));
    this.bn = this.addModule('bn', new BatchNorm2d(chnOut));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const r = this.relu.call(x) as tf.Tensor4D;
    const [, h, w] = r.shape;
    const shifted = h < 2 || w < 2 ? tf.zerosLike(r) : tf.pad(tf.slice(r, [0, 1, 1, 0], [-1, h - 1, w - 1, -1]), [[0, 0], [0, 1], [0, 1], [0, 0]]);
    return this.bn.call(tf.concat([this.conv1.call(r), this.conv2.call(shifted)], 3));
  }

  toArchDesc(): string {
    return 'IDT';
  }

  override describe(): string {
    return `IDT (factorized reduce): ${this.chnIn}->${this.chnOut}, s=${this.stride}`;
  }
}

export const idtSchema = z.strictObject({});

export const idt = defineComponent({
  kind: 'primitive',
  id: 'IDT',
  // the original's IDF is this op; its own IDT is the identity alone, which fails where a Slot reduces
  aliases: ['IDF'],
  description: 'Identity; a factorized reduce (two shifted strided 1x1 convs + BN) when the Slot changes stride or channels',
  schema: idtSchema,
  create(_config, _ctx, spec: SlotSpec) {
    const s = Slot.checkSpec('IDT', spec);
    if (s.chnIn === s.chnOut && s.stride === 1) return new IdentityOp();
    return new FactorizedReduce(s.chnIn, s.chnOut, s.stride);
  },
});
