import type { KindInput } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import type { MobileNetV2Row } from './model.js';
import { MBV2_GPU_TABLE, MBV2_ORIGINAL_TABLE, MobileNetV2, cifarTable } from './model.js';

const common = {
  num_classes: z.number().int().positive().nullable().default(null).describe('Classes of the classifier; null: the dataset\'s, else 1000'),
  n_classes: z.number().int().positive().nullable().default(null).describe('The original\'s name for num_classes (either may be given)'),
  chn_in: z.number().int().positive().nullable().default(null).describe('Input channels; null: the dataset\'s, else 3'),
  width_coeff: z.number().min(0).default(1.0).describe('Width multiplier: channels x this, rounded to a multiple of 8 (also the 1280 of the last conv); 0 keeps them'),
  depth_coeff: z.number().min(0).default(1.0).describe('Depth multiplier: blocks per stage x this, rounded up; 0 keeps them'),
  dropout_rate: z.number().min(0).lt(1).default(0.2).describe('Dropout before the classifier'),
  resolution: z.number().int().positive().nullable().default(null).describe('Accepted and ignored, as in the original'),
};

const rowSchema = z.tuple([z.number().int().nonnegative(), z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]);

export const mobileNetV2Schema = z.strictObject({
  cfgs: z
    .array(rowSchema)
    .min(2)
    .default(MBV2_ORIGINAL_TABLE.map((r) => [...r] as MobileNetV2Row))
    .describe('Rows [t, c, n, s] (expansion, channels, repeats, stride); row 0 is the stem. Default: the original MobileNetV2 table'),
  ...common,
});

export const namedMobileNetV2Schema = z.strictObject(common);

type CommonConfig = z.output<typeof namedMobileNetV2Schema>;

function build(cfgs: readonly MobileNetV2Row[], c: CommonConfig, input: KindInput['backbone'], where: string): MobileNetV2 {
  if (c.num_classes !== null && c.n_classes !== null && c.num_classes !== c.n_classes) {
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', `${where}: num_classes (${c.num_classes}) and n_classes (${c.n_classes}) disagree`, { fix: 'give one of them', where });
  }
  return new MobileNetV2({
    cfgs,
    chnIn: c.chn_in ?? input?.inputShape?.[2] ?? 3,
    numClasses: c.num_classes ?? c.n_classes ?? input?.numClasses ?? 1000,
    widthCoeff: c.width_coeff,
    depthCoeff: c.depth_coeff,
    dropoutRate: c.dropout_rate,
  });
}

export const mobileNetV2 = defineComponent({
  kind: 'backbone',
  id: 'MobileNetV2',
  description: 'MobileNetV2 from a table of [t, c, n, s] rows, with width and depth multipliers; one Slot per block',
  schema: mobileNetV2Schema,
  create(config, ctx, input) {
    const { cfgs, ...rest } = config;
    return build(cfgs, rest, input, ctx.where);
  },
});

function variant(id: string, description: string, table: () => MobileNetV2Row[]) {
  return defineComponent({
    kind: 'backbone',
    id,
    description,
    schema: namedMobileNetV2Schema,
    create(config, ctx, input) {
      return build(table(), config, input, ctx.where);
    },
  });
}

const copy = (t: readonly MobileNetV2Row[]): MobileNetV2Row[] => t.map((r) => [...r] as MobileNetV2Row);

export const imageNetMobileNetV2 = variant('ImageNet_MobileNetV2', 'The original MobileNetV2 on 224x224 inputs (17 blocks, stride 32); one Slot per block', () => copy(MBV2_ORIGINAL_TABLE));
export const cifarMobileNetV2 = variant('CIFAR_MobileNetV2', 'MobileNetV2 for 32x32 inputs: stem and the 160-channel stage at stride 1 (stride 8)', () => cifarTable(MBV2_ORIGINAL_TABLE));
export const imageNetMobileNetV2Gpu = variant('ImageNet_MobileNetV2_GPU', 'MobileNetV2 with increased depth and width (22 blocks: 4 per stage, 40/80/192 channels)', () => copy(MBV2_GPU_TABLE));
export const cifarMobileNetV2Gpu = variant('CIFAR_MobileNetV2_GPU', 'The deeper and wider MobileNetV2 with the CIFAR strides (stem and the 192-channel stage at stride 1)', () => cifarTable(MBV2_GPU_TABLE));
