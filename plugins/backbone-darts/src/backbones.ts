import type { KindInput } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { DARTSNet } from './model.js';

export const dartsSchema = z.strictObject({
  chn: z.number().int().positive().default(16).describe('Initial channels C: the nodes of the first cells have C channels, doubled at each reduction cell'),
  layers: z.number().int().positive().default(8).describe('Number of cells; the cells at layers/3 and 2*layers/3 (rounded down) are reduction cells'),
  n_nodes: z.number().int().positive().default(4).describe('Intermediate nodes per cell (a cell outputs n_nodes x its channels)'),
  nodes: z.number().int().positive().nullable().default(null).describe("The original's name for n_nodes; used instead of it when given"),
  channel_multiplier: z.number().int().positive().default(3).describe('Stem multiplier: the stem outputs C x this channels'),
  num_classes: z.number().int().positive().nullable().default(null).describe("Classes of the classifier; null: the dataset's, else 10"),
  n_classes: z.number().int().positive().nullable().default(null).describe("The original's name for num_classes (either may be given)"),
  chn_in: z.number().int().positive().nullable().default(null).describe("Input channels; null: the dataset's, else 3"),
});

type DARTSConfig = z.output<typeof dartsSchema>;

function build(c: DARTSConfig, input: KindInput['backbone'], where: string, imagenet: boolean): DARTSNet {
  if (c.num_classes !== null && c.n_classes !== null && c.num_classes !== c.n_classes) {
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', `${where}: num_classes (${c.num_classes}) and n_classes (${c.n_classes}) disagree`, { fix: 'give one of them', where });
  }
  return new DARTSNet({
    chnIn: c.chn_in ?? input?.inputShape?.[2] ?? 3,
    chn: c.chn,
    numClasses: c.num_classes ?? c.n_classes ?? input?.numClasses ?? (imagenet ? 1000 : 10),
    layers: c.layers,
    nNodes: c.nodes ?? c.n_nodes,
    channelMultiplier: c.channel_multiplier,
    imagenet,
  });
}

export const darts = defineComponent({
  kind: 'backbone',
  id: 'DARTS',
  description: 'The DARTS cell network (Liu et al. 2019): stem, normal and reduction cells of Slot edges, pool, classifier',
  schema: dartsSchema,
  create: (c, ctx, input) => build(c, input, ctx.where, false),
});

export const imageNetDarts = defineComponent({
  kind: 'backbone',
  id: 'ImageNet_DARTS',
  description: 'The DARTS cell network with the ImageNet stem (three stride-2 convs, stride 8 before the cells)',
  schema: dartsSchema.extend({
    num_classes: z.number().int().positive().nullable().default(null).describe("Classes of the classifier; null: the dataset's, else 1000"),
  }),
  create: (c, ctx, input) => build(c, input, ctx.where, true),
});
