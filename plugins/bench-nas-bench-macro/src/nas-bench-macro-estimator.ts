import type { EstimContext, StateEstimator } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { runTabularSearch, tabularSearchShape } from '@modnas/kit-tabular';
import type { MacroFitness } from './macro.js';
import { MACRO_SPACE_TOKEN, MacroBenchmark } from './macro.js';

export const nasBenchMacroEstimatorSchema = z.strictObject({
  max_queries: z.number().int().positive().default(100).describe('Budget: number of queries (the table has no training times, each query costs 1)'),
  fitness: z
    .enum(['random_seed', 'first_seed', 'mean'])
    .default('random_seed')
    .describe('What the search sees: one of the three training runs drawn per query, always the first run, or their mean'),
  batch_size: tabularSearchShape.batch_size,
  record_trials: tabularSearchShape.record_trials,
  stop_on_target: tabularSearchShape.stop_on_target,
});

const benchmarks = new Map<MacroFitness, MacroBenchmark>();

/** Answers the optimizer's candidates from the NAS-Bench-Macro table; reports the mean test accuracy of the fittest. */
export const nasBenchMacroEstimator = defineComponent({
  kind: 'estim',
  id: 'NASBenchMacroEstimator',
  aliases: ['NASBenchMacroEstim'],
  description: 'Searches NAS-Bench-Macro from its table: per-run test accuracy as fitness, a budget of queries, mean test accuracy reported',
  schema: nasBenchMacroEstimatorSchema,
  create(c): StateEstimator {
    return {
      async run(ctx: EstimContext) {
        if (!ctx.container.isRegistered(MACRO_SPACE_TOKEN)) {
          throw new ModnasError('MODNAS_E_MACRO_SPACE', `estim.${ctx.name}: NASBenchMacroEstimator answers from the NAS-Bench-Macro table, but the experiment's space is not NASBenchMacroSpace`, {
            fix: 'set space: { type: NASBenchMacroSpace } (and no model)',
            where: `estim.${ctx.name}`,
          });
        }
        let bench = benchmarks.get(c.fitness);
        if (!bench) benchmarks.set(c.fitness, (bench = new MacroBenchmark(c.fitness)));
        return runTabularSearch(ctx, bench, { budget: c.max_queries, batchSize: c.batch_size, maxQueries: 0, recordTrials: c.record_trials, stopOnTarget: c.stop_on_target });
      },
    };
  },
});
