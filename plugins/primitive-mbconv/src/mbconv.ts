import { Slot, defineComponent, z } from '@modnas/core';
import { MobileInvertedConv } from '@modnas/nn';

/** Kernel sizes and expansion ratios of the registered MBxEy primitives (as the original). */
export const KERNEL_SIZES = [3, 5, 7, 9] as const;
export const EXPANSION_RATIOS = [1, 3, 6, 9] as const;

export const mbconvSchema = z.strictObject({});


function mbComponent(k: number, e: number) {
  const id = `MB${k}E${e}`;
  return defineComponent({
    kind: 'primitive',
    id,
    description: `Inverted residual conv (MobileNetV2): ${e === 1 ? 'no expansion' : `1x1 expand x${e}`}, ${k}x${k} depthwise, 1x1 project, BN + ReLU6`,
    schema: mbconvSchema,
    create(_config, _ctx, spec) {
      const s = Slot.checkSpec(id, spec);
      // As the original, the Slot's extra args (expansion, activation of the block) are not forwarded.
      return new MobileInvertedConv(s.chnIn, s.chnOut, s.stride, { expansion: e, kernelSize: k, id });
    },
  });
}

/** MB3E1 ... MB9E9: kernel size x in {3,5,7,9} and expansion y in {1,3,6,9}. */
export const mbconvComponents = KERNEL_SIZES.flatMap((k) => EXPANSION_RATIOS.map((e) => mbComponent(k, e)));
