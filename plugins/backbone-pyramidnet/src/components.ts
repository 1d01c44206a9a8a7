import type { Slot, StateTransformer } from '@modnas/core';
import { ModnasError, Slot as SlotClass, defineComponent, z } from '@modnas/core';
import { GroupConv, PyramidNet } from './model.js';

export const pyramidNetSchema = z.strictObject({
  chn_in: z.number().int().positive().nullable().default(null).describe("Input channels; null: the dataset's, else 3"),
  chn: z.number().int().positive().default(16).describe('Channels of the first conv, where the widening starts'),
  n_classes: z.number().int().positive().nullable().default(null).describe("Classes of the classifier; null: the dataset's, else 10"),
  groups: z.number().int().positive().default(3).describe('Stages of blocks (the first at stride 1, the others at stride 2)'),
  blocks: z.number().int().positive().default(12).describe('Bottleneck blocks per stage (depth = 9 x blocks + 2 with 3 stages: 12 is PyramidNet-110)'),
  conv_groups: z.number().int().positive().default(1).describe("Groups of each block's 3x3 conv (its channels are rounded down to a multiple); 1, or the block's channels (depthwise)"),
  bottleneck_ratio: z.number().int().positive().default(4).describe("A block's output channels over its inner channels"),
  alpha: z.number().nonnegative().default(48).describe('Total widening of the blocks over the network, spread evenly: alpha / (groups x blocks) channels a block'),
});

export const pyramidNet = defineComponent({
  kind: 'backbone',
  id: 'PyramidNet',
  description: 'PyramidNet: bottleneck blocks whose width grows additively by alpha over the network, zero-padded shortcuts; one Slot per block (its 3x3 conv)',
  schema: pyramidNetSchema,
  create(c, _ctx, input) {
    return new PyramidNet({
      chnIn: c.chn_in ?? input?.inputShape?.[2] ?? 3,
      chn: c.chn,
      numClasses: c.n_classes ?? input?.numClasses ?? 10,
      groups: c.groups,
      blocks: c.blocks,
      convGroups: c.conv_groups,
      bottleneckRatio: c.bottleneck_ratio,
      alpha: c.alpha,
    });
  },
});

/** The op of a PyramidNet Slot: BN, ReLU, 3x3 conv (bias, the Slot's stride and groups). */
export function pyramidCell(slot: Slot, where?: string): GroupConv {
  const g = typeof slot.args.groups === 'number' ? slot.args.groups : 1;
  if (g !== 1 && g !== slot.chnIn) {
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', `PyramidNetPredefinedConstructor: a Slot of ${slot.chnIn} channels asks for a conv in ${g} groups; only 1 group or one per channel (depthwise) can be built`, {
      fix: 'set the backbone\'s conv_groups to 1',
      where,
    });
  }
  return new GroupConv(slot.chnIn, slot.chnOut, { kernelSize: 3, stride: slot.stride, padding: 1, groups: g });
}

export const pyramidNetPredefinedConstructor = defineComponent({
  kind: 'construct',
  id: 'PyramidNetPredefinedConstructor',
  description: "Fill every empty Slot with PyramidNet's 3x3 conv unit (BN, ReLU, conv with the Slot's stride and groups): the plain PyramidNet",
  schema: z.strictObject({}),
  create(): StateTransformer {
    return {
      apply(model, ctx) {
        const empty = SlotClass.find(model, { nested: true }).filter(([, s]) => !s.filled);
        for (const [, slot] of empty) slot.fill(pyramidCell(slot, ctx.where));
        return model;
      },
    };
  },
});
