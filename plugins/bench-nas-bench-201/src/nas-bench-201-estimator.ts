import type { EstimContext, StateEstimator } from '@modnas/core';
import { ModnasError, defineComponent, resolveToken, z } from '@modnas/core';
import { runTabularSearch, tabularSearchShape } from '@modnas/kit-tabular';
import { NB201_DEFAULT_BUDGET, NB201_SPACE_TOKEN, nb201Benchmark } from './nb201.js';

export const nasBench201EstimatorSchema = z.strictObject({
  time_budget: z
    .number()
    .positive()
    .nullable()
    .default(null)
    .describe("Simulated seconds of search; null: the dataset's published budget (cifar10 12000, cifar100 40000, ImageNet16-120 120000)"),
  ...tabularSearchShape,
});

/**
 * Answers the optimizer's candidates from the NAS-Bench-201 table with the official protocol:
 * fitness = 12-epoch validation accuracy, each query charged its simulated training time, the
 * search stops at the time budget, and the result is the 200-epoch test accuracy of the
 * candidate of highest fitness.
 */
export const nasBench201Estimator = defineComponent({
  kind: 'estim',
  id: 'NASBench201Estimator',
  aliases: ['NASBench201Estim', 'NB201Estimator'],
  description: 'Searches NAS-Bench-201 from its table: 12-epoch validation fitness, simulated-time budget, 200-epoch test accuracy reported',
  schema: nasBench201EstimatorSchema,
  create(c): StateEstimator {
    return {
      async run(ctx: EstimContext) {
        const info = resolveToken(ctx.container, NB201_SPACE_TOKEN);
        if (!info) {
          throw new ModnasError('MODNAS_E_NB201_SPACE', `estim.${ctx.name}: NASBench201Estimator answers from the NAS-Bench-201 table, but the experiment's space is not NASBench201Space`, {
            fix: 'set space: { type: NASBench201Space, dataset: cifar10 } (and no model)',
            where: `estim.${ctx.name}`,
          });
        }
        const bench = nb201Benchmark(info.dataset);
        return runTabularSearch(ctx, bench, {
          budget: c.time_budget ?? NB201_DEFAULT_BUDGET[info.dataset],
          batchSize: c.batch_size,
          maxQueries: c.max_queries,
          recordTrials: c.record_trials,
          stopOnTarget: c.stop_on_target,
        });
      },
    };
  },
});
