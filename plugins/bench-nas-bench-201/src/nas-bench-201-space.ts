import { defineComponent, z } from '@modnas/core';
import type { NB201SpaceInfo } from './nb201.js';
import { NB201_DATASETS, NB201_EDGES, NB201_OPS, NB201_SPACE_TOKEN, nb201NetworkKey } from './nb201.js';

export const nasBench201SpaceSchema = z.strictObject({
  dataset: z.enum(NB201_DATASETS).default('cifar10').describe('Dataset setting of the table: cifar10, cifar100 or ImageNet16-120'),
  equivalence: z
    .boolean()
    .default(true)
    .describe('Declare which cells are the same network (dead edges, a node that is only a skip of another, interchangeable nodes): local search and BANANAS then never evaluate one twice'),
});

/** The NAS-Bench-201 cell as arch params: one categorical param per edge ("1<-0" ... "3<-2"), 5 ops each; the cell's DAG declared (4 nodes, 6 edges). */
export const nasBench201Space = defineComponent({
  kind: 'space',
  id: 'NASBench201Space',
  aliases: ['NB201Space'],
  description: 'NAS-Bench-201 cell search space: 6 edges x 5 ops (15,625 architectures)',
  schema: nasBench201SpaceSchema,
  create(c, ctx) {
    for (const edge of NB201_EDGES) ctx.space.categorical({ name: edge, choices: NB201_OPS });
    // the cell's shape, for pictures of its architectures: node 0 is the input, node 3 the output
    ctx.space.declareGraph({
      nodes: 4,
      edges: NB201_EDGES.map((edge) => {
        const [to, from] = edge.split('<-').map(Number);
        return { from, to, param: edge };
      }),
    });
    if (c.equivalence) ctx.space.declareEquivalence(nb201NetworkKey);
    const info: NB201SpaceInfo = { dataset: c.dataset };
    ctx.container.registerInstance(NB201_SPACE_TOKEN, info);
    return { describe: () => `NAS-Bench-201 cell, 6 edges x 5 ops (${NB201_OPS.join(', ')}), dataset ${c.dataset}` };
  },
});
