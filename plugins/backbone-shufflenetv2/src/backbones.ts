import { defineComponent, z } from '@modnas/core';
import type { ShuffleNetV2Row } from './model.js';
import { CIFAR_SHUFFLENETV2_ONESHOT_TABLE, CIFAR_SHUFFLENETV2_TABLE, SHUFFLENETV2_ONESHOT_TABLE, SHUFFLENETV2_TABLE, ShuffleNetV2 } from './model.js';

const rowSchema = z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive(), z.number().positive()]);

export const shuffleNetV2Schema = z.strictObject({
  cfgs: z.array(rowSchema).min(2).nullable().default(null).describe("Rows [c, n, s, e] (channels, units, stride, expansion of chn_mid); row 0 the stem (stride 4: conv and max pool), the last row the final 1x1 conv; null: the network's own table"),
  chn_in: z.number().int().positive().nullable().default(null).describe("Input channels; null: the dataset's, else 3"),
  n_classes: z.number().int().positive().nullable().default(null).describe("Classes of the classifier; null: the dataset's, else 1000"),
  dropout_rate: z.number().min(0).lt(1).default(0.1).describe('Dropout before the classifier'),
});

function variant(id: string, description: string, table: readonly ShuffleNetV2Row[]) {
  return defineComponent({
    kind: 'backbone',
    id,
    description,
    schema: shuffleNetV2Schema,
    create(c, _ctx, input) {
      return new ShuffleNetV2({
        cfgs: c.cfgs ?? table.map((r) => [...r] as ShuffleNetV2Row),
        chnIn: c.chn_in ?? input?.inputShape?.[2] ?? 3,
        numClasses: c.n_classes ?? input?.numClasses ?? 1000,
        dropoutRate: c.dropout_rate,
      });
    },
  });
}

export const shuffleNetV2 = variant('shufflenetv2', 'ShuffleNetV2 1.0x: stem 24 at stride 4, 16 units in stages of 116/232/464 channels, 1x1 conv to 1024; one Slot per unit', SHUFFLENETV2_TABLE);
export const cifarShuffleNetV2 = variant('cifar_shufflenetv2', 'ShuffleNetV2 1.0x for 32x32 inputs: the stem at stride 1', CIFAR_SHUFFLENETV2_TABLE);
export const shuffleNetV2Oneshot = variant('shufflenetv2_oneshot', 'The Single Path One-Shot supernet backbone: stem 16, 20 units in stages of 64/160/320/640 channels, 1x1 conv to 1024; one Slot per unit', SHUFFLENETV2_ONESHOT_TABLE);
export const cifarShuffleNetV2Oneshot = variant('cifar_shufflenetv2_oneshot', 'The SPOS supernet backbone for 32x32 inputs: stem 24 at stride 1, the 640 stage at stride 1', CIFAR_SHUFFLENETV2_ONESHOT_TABLE);
