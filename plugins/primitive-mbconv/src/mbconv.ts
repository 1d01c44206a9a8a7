import type { SlotSpec } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { MobileInvertedConv } from '@modnas/nn';

/** Kernel sizes and expansion ratios of the registered MBxEy primitives (as the original). */
export const KERNEL_SIZES = [3, 5, 7, 9] as const;
export const EXPANSION_RATIOS = [1, 3, 6, 9] as const;

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
