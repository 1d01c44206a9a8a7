import type { AnyComponentDef, Module, SlotSpec } from '@modnas/core';
import { Sequential, Slot, defineComponent, z } from '@modnas/core';
import { BatchNorm2d, Conv2d, ReLU } from '@modnas/nn';
import { KERNEL_SIZES } from './darts-ops.js';

/**
 * The original's factorized conv (FacConv in its ops.py), in its default ops order BN -> ReLU ->
 * weight: BN(chnIn), ReLU, a k x 1 conv chnIn -> chnIn with the stride (padding k//2 on the height),
 * then a 1 x k conv chnIn -> chnOut (padding k//2 on the width); no biases.
 */
export class FacConv extends Sequential {
  constructor(
    readonly opName: string,
    chnIn: number,
    chnOut: number,
    kernelSize: number,
    stride: number,
  ) {
    const p = Math.floor(kernelSize / 2);
    super([
      new BatchNorm2d(chnIn),
      new ReLU(),
      new Conv2d(chnIn, chnIn, { kernelSize: [kernelSize, 1], stride, padding: [p, 0] }),
      new Conv2d(chnIn, chnOut, { kernelSize: [1, kernelSize], padding: [0, p] }),
    ]);
  }

  toArchDesc(): string {
    return this.opName;
  }
}

const fcSchema = z.strictObject({});

function fc(k: number): AnyComponentDef {
  const id = `FC${k}`;
  return defineComponent({
    kind: 'primitive',
    id,
    description: `Factorized conv ${k}x1 then 1x${k} (BN-ReLU first, the stride on the ${k}x1)`,
    schema: fcSchema,
    create(_config, _ctx, spec: SlotSpec): Module {
      const s = Slot.checkSpec(id, spec);
      return new FacConv(id, s.chnIn, s.chnOut, k, s.stride);
    },
  }) as AnyComponentDef;
}

/** FC1 ... FC13: the original's factorized convs in every kernel size it registers. */
export const fcOps: AnyComponentDef[] = KERNEL_SIZES.map(fc);
