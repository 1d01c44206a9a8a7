import type { SlotSpec } from '@modnas/core';
import { Module, Rng, defineComponent, definePlugin, getRegistry, tf, z } from '@modnas/core';

let forwards = 0;

/** A stand-in candidate op for tests of mixed ops and constructors: y = tanh(conv1x1(x)), seeded weights. */
export class TestLinOp extends Module {
  private readonly w: tf.Variable;

  constructor(
    private readonly slot: SlotSpec,
    seed: number,
  ) {
    super();
    const rng = new Rng(seed);
    this.w = this.addParam('w', tf.tensor4d(Array.from({ length: slot.chnIn * slot.chnOut }, () => rng.normal()), [1, 1, slot.chnIn, slot.chnOut]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    forwards++;
    return tf.tanh(tf.conv2d(x as tf.Tensor4D, this.w as tf.Tensor4D, this.slot.stride, 'same'));
  }
}

/** Forwards run by every TestLinOp since the last reset (to see which candidates a step ran). */
export const testLinForwards = {
  get count(): number {
    return forwards;
  },
  reset(): void {
    forwards = 0;
  },
};

const testLin = defineComponent({
  kind: 'primitive',
  id: 'TestLin',
  description: 'test stand-in: tanh of a seeded 1x1 conv',
  schema: z.strictObject({ seed: z.number().int().default(0).describe('weight seed') }),
  create: (c, _ctx, slot) => new TestLinOp(slot, c.seed),
});

/** Register the `TestLin` primitive in the process-wide registry (idempotent). */
export function registerTestPrimitives(): void {
  getRegistry().register(definePlugin({ meta: { name: '@modnas/testkit/primitives', version: '0.0.0' }, components: [testLin] }));
}
