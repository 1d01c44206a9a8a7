import type { KindInput } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import type { MobileNetV3Mode, MobileNetV3Row } from './model.js';
import { MBV3_LARGE_TABLE, MBV3_SMALL_TABLE, MobileNetV3 } from './model.js';

const bit = z.union([z.literal(0), z.literal(1)]);
const rowSchema = z.tuple([
  z.number().int().positive().refine((k) => k % 2 === 1, 'the kernel size must be odd'),
  z.number().int().nonnegative(),
  z.number().int().positive(),
  bit,
  bit,
  z.union([z.literal(1), z.literal(2)]),
]);

const common = {
  chn_in: z.number().int().positive().nullable().default(null).describe('Input channels; null: the dataset\'s, else 3'),
  n_classes: z.number().int().positive().nullable().default(null).describe('Classes of the classifier; null: the dataset\'s, else 1000'),
  width_mult: z.number().positive().default(1.0).describe('Width multiplier: output channels (and the last convs) x this, rounded to a multiple of 8; the expanded widths t are kept'),
  dropout_rate: z.number().min(0).lt(1).default(0.2).describe('Dropout before the last classifier conv'),
};

const cfgsOf = (what: string) =>
  z.array(rowSchema).min(2).nullable().default(null).describe(`Rows [k, t, c, SE, NL, s] (kernel, expanded channels, channels, squeeze-excite 0/1, hard swish 0/1, stride 1/2); row 0 is the stem. null: ${what}`);

export const mobileNetV3Schema = z.strictObject({
  cfgs: cfgsOf('the MobileNetV3-Large table'),
  mode: z.enum(['large', 'small']).default('large').describe('large: a plain last conv and 1280 x width head channels; small: squeeze-excite on the last conv and 1024'),
  ...common,
});

export const mobileNetV3NamedSchema = (table: string) => z.strictObject({ cfgs: cfgsOf(table), ...common });

type Common = { [K in keyof typeof common]: z.output<(typeof common)[K]> };

function build(cfgs: readonly MobileNetV3Row[], mode: MobileNetV3Mode, c: Common, input: KindInput['backbone']): MobileNetV3 {
  return new MobileNetV3({
    cfgs,
    mode,
    chnIn: c.chn_in ?? input?.inputShape?.[2] ?? 3,
    numClasses: c.n_classes ?? input?.numClasses ?? 1000,
    widthMult: c.width_mult,
    dropoutRate: c.dropout_rate,
  });
}

const copy = (t: readonly MobileNetV3Row[]): MobileNetV3Row[] => t.map((r) => [...r] as MobileNetV3Row);

export const mobileNetV3 = defineComponent({
  kind: 'backbone',
  id: 'MobileNetV3',
  description: 'MobileNetV3 from a table of [k, t, c, SE, NL, s] rows in large or small mode, with a width multiplier; one Slot per block',
  schema: mobileNetV3Schema,
  create(config, _ctx, input) {
    const { cfgs, mode, ...rest } = config;
    return build(cfgs ?? copy(MBV3_LARGE_TABLE), mode, rest, input);
  },
});

export const mobileNetV3Large = defineComponent({
  kind: 'backbone',
  id: 'mobilenetv3_large',
  description: 'MobileNetV3-Large (15 blocks, stride 32); one Slot per block',
  schema: mobileNetV3NamedSchema('the MobileNetV3-Large table'),
  create(config, _ctx, input) {
    const { cfgs, ...rest } = config;
    return build(cfgs ?? copy(MBV3_LARGE_TABLE), 'large', rest, input);
  },
});

export const mobileNetV3Small = defineComponent({
  kind: 'backbone',
  id: 'mobilenetv3_small',
  description: 'MobileNetV3-Small (11 blocks, stride 32, squeeze-excite on the last conv); one Slot per block',
  schema: mobileNetV3NamedSchema('the MobileNetV3-Small table'),
  create(config, _ctx, input) {
    const { cfgs, ...rest } = config;
    return build(cfgs ?? copy(MBV3_SMALL_TABLE), 'small', rest, input);
  },
});
