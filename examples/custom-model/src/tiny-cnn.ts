import { Module, Slot, defineComponent, tf, z } from '@modnas/core';
import { ConvBNAct, GlobalAvgPool, Linear } from '@modnas/nn';

export interface TinyCNNOptions {
  chnIn?: number;
  numClasses?: number;
  width?: number;
}

/**
 * A user's own small CNN. It was written with three convolutions,
 *   this.conv1 = new Conv2d(w, w, { kernelSize: 3 }) ...
 * and each was replaced by a Slot with the same channels and stride: that is all it takes for
 * a constructor to turn the network into a search space.
 */
export class TinyCNN extends Module {
  readonly stem: ConvBNAct;
  readonly conv1: Slot;
  readonly conv2: Slot;
  readonly conv3: Slot;
  readonly pool: GlobalAvgPool;
  readonly fc: Linear;

  constructor({ chnIn = 3, numClasses = 10, width = 16 }: TinyCNNOptions = {}) {
    super();
    this.stem = this.addModule('stem', new ConvBNAct(chnIn, width, { kernelSize: 3 }));
    this.conv1 = this.addModule('conv1', new Slot({ chnIn: width, chnOut: width, stride: 1 }));
    this.conv2 = this.addModule('conv2', new Slot({ chnIn: width, chnOut: 2 * width, stride: 2 }));
    this.conv3 = this.addModule('conv3', new Slot({ chnIn: 2 * width, chnOut: 2 * width, stride: 1 }));
    this.pool = this.addModule('pool', new GlobalAvgPool());
    this.fc = this.addModule('fc', new Linear(2 * width, numClasses));
  }

  forward(x: tf.Tensor): tf.Tensor {
    let y = this.stem.call(x);
    y = tf.add(y, this.conv1.call(y));
    y = this.conv2.call(y);
    y = tf.add(y, this.conv3.call(y));
    return this.fc.call(this.pool.call(y));
  }
}

export const tinyCNN = defineComponent({
  kind: 'backbone',
  id: 'TinyCNN',
  description: 'A small CNN whose three convolutions are Slots (the custom-model example)',
  schema: z.strictObject({
    width: z.number().int().positive().default(16).describe('Channels after the stem (doubled by conv2)'),
    num_classes: z.number().int().positive().nullable().default(null).describe("Classes; null: the dataset's"),
    chn_in: z.number().int().positive().nullable().default(null).describe("Input channels; null: the dataset's"),
  }),
  create(config, _ctx, input) {
    return new TinyCNN({ chnIn: config.chn_in ?? input?.inputShape?.[2] ?? 3, numClasses: config.num_classes ?? input?.numClasses ?? 10, width: config.width });
  },
});
