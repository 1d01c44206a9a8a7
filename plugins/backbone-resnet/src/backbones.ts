import type { AnyComponentDef, KindInput } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import type { BlockType } from './model.js';
import { ResNet, bottleneckWidth } from './model.js';

/** The keys every ResNet takes (the original's args, snake_case). */
const common = {
  chn_in: z.number().int().positive().nullable().default(null).describe("Input channels; null: the dataset's, else 3"),
  chn: z.number().int().positive().default(64).describe('Channels of the stem; stage i has 2^i x chn planes (the original requires it; 64 as torchvision, 16 for the CIFAR ResNet-32/56 of He et al.)'),
  n_classes: z.number().int().positive().nullable().default(null).describe("Classes of the classifier; null: the dataset's, else 10 (CIFAR) or 1000 (ImageNet)"),
  num_classes: z.number().int().positive().nullable().default(null).describe('Another name for n_classes (either may be given)'),
  zero_init_residual: z.boolean().default(false).describe('Accepted for the original\'s configs; it does nothing there either (the original stores it and never applies it)'),
  use_bn: z.boolean().default(false).describe('BN after each block\'s 3x3 Slots (the original\'s default: none; its 1x1 convs, shortcut and stem always have BN)'),
  expansion: z.number().int().positive().nullable().default(null).describe('Output channels per plane of a block; null: 1 for basic blocks, 4 for bottlenecks'),
};
const grouping = {
  groups: z.number().int().positive().default(1).describe("Groups of each block's first 3x3 Slot (ResNeXt's cardinality)"),
  width_per_group: z.number().int().positive().nullable().default(null).describe('Bottleneck width per group at the first stage; null: chn / groups'),
};

export const resNetFixedSchema = z.strictObject({ ...common, ...grouping });
export const resNeXtSchema = z.strictObject({ ...common });
export const resNetSchema = z.strictObject({
  ...common,
  ...grouping,
  layers: z.array(z.number().int().positive()).min(1).default(() => [2, 2, 2, 2]).describe('Blocks per stage (the first stage keeps the resolution, each later one halves it)'),
  bottleneck: z.boolean().default(false).describe('Bottleneck blocks (1x1, 3x3, 1x1) instead of basic ones (3x3, 3x3)'),
});

type Config = z.output<typeof resNetSchema>;

interface Variant {
  block: BlockType;
  layers: number[];
  groups?: number;
  widthPerGroup?: number;
}

function build(c: Partial<Config> & z.output<typeof resNeXtSchema>, v: Variant, input: KindInput['backbone'], where: string, imagenet: boolean): ResNet {
  if (c.num_classes !== null && c.n_classes !== null && c.num_classes !== c.n_classes) {
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', `${where}: num_classes (${c.num_classes}) and n_classes (${c.n_classes}) disagree`, { fix: 'give one of them', where });
  }
  if (v.block === 'basic' && c.expansion !== null && c.expansion !== 1) {
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', `${where}: expansion ${c.expansion} needs bottleneck blocks (a basic block outputs its planes, so its residual sum would not match)`, {
      fix: 'drop expansion, or use a bottleneck network (bottleneck: true, or a ResNet-50/101/152)',
      where,
    });
  }
  const groups = v.groups ?? c.groups ?? 1;
  const widthPerGroup = v.widthPerGroup ?? c.width_per_group ?? null;
  const base = widthPerGroup ?? Math.floor(c.chn / groups);
  for (let i = 0; i < v.layers.length; i++) {
    const planes = 2 ** i * c.chn;
    const width = v.block === 'basic' ? planes : bottleneckWidth(planes, base, c.chn, groups);
    // a grouped Slot's convs need channels divisible by groups (the first block's input included)
    const inputs = v.block === 'basic' ? [i === 0 ? c.chn : 2 ** (i - 1) * c.chn] : [];
    if (width < 1 || [width, ...inputs].some((n) => n % groups !== 0)) {
      throw new ModnasError('MODNAS_E_CONFIG_INVALID', `${where}: stage ${i} gets a 3x3 conv of ${width} channels${inputs.length ? ` (inputs ${inputs.join(', ')})` : ''}, which groups (${groups}) does not divide`, {
        fix: 'choose chn, groups and width_per_group so that every stage width is a positive multiple of groups',
        where,
      });
    }
  }
  return new ResNet({
    chnIn: c.chn_in ?? input?.inputShape?.[2] ?? 3,
    chn: c.chn,
    block: v.block,
    layers: v.layers,
    numClasses: c.num_classes ?? c.n_classes ?? input?.numClasses ?? (imagenet ? 1000 : 10),
    groups,
    widthPerGroup,
    useBn: c.use_bn,
    expansion: c.expansion,
    stem: imagenet ? 'imagenet' : 'cifar',
  });
}

/** The original's registered depths: [name suffix, block, blocks per stage, ResNeXt groups x width]. */
const DEPTHS: ReadonlyArray<[string, BlockType, number[], [number, number]?]> = [
  ['ResNet-10', 'basic', [1, 1, 1, 1]],
  ['ResNet-18', 'basic', [2, 2, 2, 2]],
  ['ResNet-32', 'basic', [5, 5, 5]],
  ['ResNet-34', 'basic', [3, 4, 6, 3]],
  ['ResNet-50', 'bottleneck', [3, 4, 6, 3]],
  ['ResNet-56', 'basic', [9, 9, 9]],
  ['ResNet-101', 'bottleneck', [3, 4, 23, 3]],
  ['ResNet-152', 'bottleneck', [3, 8, 36, 3]],
  ['ResNeXt-50', 'bottleneck', [3, 4, 6, 3], [32, 4]],
  ['ResNeXt-101', 'bottleneck', [3, 4, 23, 3], [32, 8]],
];

const STEMS = [
  ['CIFAR', false, '3x3 stride-1 stem'],
  ['ImageNet', true, '7x7 stride-2 stem and max pool'],
] as const;

function fixed(prefix: string, imagenet: boolean, stemText: string, [name, block, layers, x]: (typeof DEPTHS)[number]): AnyComponentDef {
  const blocks = block === 'basic' ? 'basic blocks' : 'bottlenecks';
  const what = x ? `${name} ${x[0]}x${x[1]}d` : name;
  const description = `${what} (${blocks} ${layers.join('-')}${x ? `, ${x[0]} groups` : ''}) with the ${stemText}; one Slot per 3x3 conv`;
  if (x) {
    return defineComponent({
      kind: 'backbone' as const,
      id: `${prefix}-${name}`,
      description,
      schema: resNeXtSchema,
      create: (c, ctx, input) => build(c, { block, layers, groups: x[0], widthPerGroup: x[1] }, input, ctx.where, imagenet),
    }) as AnyComponentDef;
  }
  return defineComponent({
    kind: 'backbone' as const,
    id: `${prefix}-${name}`,
    description,
    schema: resNetFixedSchema,
    create: (c, ctx, input) => build(c, { block, layers }, input, ctx.where, imagenet),
  }) as AnyComponentDef;
}

function configurable(prefix: string, imagenet: boolean, stemText: string): AnyComponentDef {
  return defineComponent({
    kind: 'backbone' as const,
    id: `${prefix}-ResNet`,
    description: `ResNet of any depth (layers, bottleneck) with the ${stemText}; one Slot per 3x3 conv`,
    schema: resNetSchema,
    create: (c, ctx, input) => build(c, { block: c.bottleneck ? 'bottleneck' : 'basic', layers: c.layers }, input, ctx.where, imagenet),
  }) as AnyComponentDef;
}

/** CIFAR-ResNet, CIFAR-ResNet-10 ... CIFAR-ResNeXt-101, and the same with the ImageNet stem. */
export const resNetBackbones: AnyComponentDef[] = STEMS.flatMap(([prefix, imagenet, stemText]) => [configurable(prefix, imagenet, stemText), ...DEPTHS.map((d) => fixed(prefix, imagenet, stemText, d))]);
