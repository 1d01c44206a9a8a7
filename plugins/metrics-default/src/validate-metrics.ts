import type { BuildContext, MetricsFn, Module } from '@modnas/core';
import { ModnasError, Tokens, defineComponent, resolveToken, z } from '@modnas/core';
import { evaluate } from '@modnas/kit-estim';

export const validateMetricsSchema = z.strictObject({
  field: z
    .enum(['acc', 'loss'])
    .default('acc')
    .describe("What of the validation counts: 'acc' (top-1 accuracy, the original's default first field) or 'loss' (mean loss per example)"),
  key: z.string().min(1).optional().describe("Name of the metric in the results; absent = 'valid_' + field"),
  max_batches: z.number().int().positive().optional().describe('Validate on at most this many batches (absent = the whole validation split)'),
});

/**
 * The network's validation result as a metric (the original's ValidateMetrics, which asks the
 * running estimator for a validation epoch): every batch of the run's validation split through the
 * run's trainer, the network in eval mode.
 */
export function validateMetricsFn(config: z.output<typeof validateMetricsSchema>, ctx: Pick<BuildContext, 'container' | 'where'>): MetricsFn {
  const key = config.key ?? `valid_${config.field}`;
  return async (model: Module) => {
    const trainer = resolveToken(ctx.container, Tokens.StateOptimizer);
    const data = resolveToken(ctx.container, Tokens.Data);
    if (!trainer || !data) {
      throw new ModnasError('MODNAS_E_METRICS_NO_TRAINER', `${ctx.where}: ValidateMetrics needs the run's ${trainer ? 'data' : 'trainer'}, and the run has none`, {
        fix: 'use ValidateMetrics in a run with a model, a trainer and a dataset',
        where: ctx.where,
      });
    }
    const r = await evaluate(model, trainer, data.valid, { maxBatches: config.max_batches });
    return { [key]: config.field === 'acc' ? r.acc : r.loss };
  };
}

export const validateMetrics = defineComponent({
  kind: 'metrics',
  id: 'ValidateMetrics',
  description: "The network's validation accuracy (or loss) on the run's validation split, through the run's trainer",
  schema: validateMetricsSchema,
  create(config, ctx) {
    return validateMetricsFn(config, ctx);
  },
});
