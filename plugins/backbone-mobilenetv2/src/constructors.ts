import type { Slot } from '@modnas/core';
import { MobileInvertedConv } from '@modnas/nn';
import { DEFAULT_PRIMITIVES, blockSpaceConstructors } from '@modnas/kit-mixed-op';

/**
 * The block a MobileNetV2 Slot stands for: a 3x3 inverted residual conv with the block's expansion
 * (the Slot's `expansion` arg, 6 when absent), as the original's mbv2_predefined_convert_fn.
 */
export function predefinedBlock(slot: Slot): MobileInvertedConv {
  const t = typeof slot.args.expansion === 'number' ? slot.args.expansion : 6;
  return new MobileInvertedConv(slot.chnIn, slot.chnOut, slot.stride, { expansion: t, kernelSize: 3 });
}

const constructors = blockSpaceConstructors({
  net: 'MobileNetV2',
  block: predefinedBlock,
  primitives: DEFAULT_PRIMITIVES,
  describe: {
    predefined: "Fill every empty Slot with its MobileNetV2 block (3x3, the block's expansion): the plain MobileNetV2",
    search: 'The MobileNetV2 search space: first block fixed, every other block a mixed op over the primitives, plus NIL where the block may be skipped',
    archDesc: 'Build the searched MobileNetV2 from an arch_desc: the first block fixed, every other Slot from its entry',
  },
});

export const mobileNetV2PredefinedConstructor = constructors.predefined;
export const mobileNetV2SearchConstructor = constructors.search;
export const mobileNetV2ArchDescConstructor = constructors.archDesc;
