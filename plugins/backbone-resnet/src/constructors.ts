import type { Module, StateTransformer } from '@modnas/core';
import { Sequential, Slot, defineComponent, z } from '@modnas/core';
import { BatchNorm2d, Conv2d, Identity } from '@modnas/nn';

export const resNetPredefinedConstructorSchema = z.strictObject({
  use_bn: z.boolean().default(false).describe('A BN after each conv it puts in a Slot (the original\'s default: none)'),
});

/** The plain conv a ResNet Slot stands for: 3x3, the Slot's stride and groups, padding 1, no bias; then BN or nothing. */
export function predefinedConv(slot: Slot, useBn: boolean): Module {
  const groups = typeof slot.args.groups === 'number' ? slot.args.groups : 1;
  return new Sequential([new Conv2d(slot.chnIn, slot.chnOut, { kernelSize: 3, stride: slot.stride, padding: 1, groups }), useBn ? new BatchNorm2d(slot.chnOut) : new Identity()]);
}

export const resNetPredefinedConstructor = defineComponent({
  kind: 'construct',
  id: 'ResNetPredefinedConstructor',
  description: 'Fill every empty Slot with a plain 3x3 conv (its stride and groups), and a BN with use_bn: the plain ResNet / ResNeXt',
  schema: resNetPredefinedConstructorSchema,
  create(config): StateTransformer {
    return {
      apply(model) {
        for (const [, slot] of Slot.find(model, { nested: true })) if (!slot.filled) slot.fill(predefinedConv(slot, config.use_bn));
        return model;
      },
    };
  },
});
