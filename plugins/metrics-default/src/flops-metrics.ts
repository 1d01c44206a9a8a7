import type { MetricsFn } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { countFlops } from '@modnas/nn';

export const flopsMetricsSchema = z.strictObject({
  key: z.string().min(1).default('flops').describe('Name of the metric in the results'),
});

export function flopsMetricsFn(config: z.output<typeof flopsMetricsSchema>): MetricsFn {
  return (model, ctx) => ({ [config.key]: countFlops(model, ctx.inputShape) });
}

export const flopsMetrics = defineComponent({
  kind: 'metrics',
  id: 'FLOPsMetrics',
  aliases: ['FlopsMetrics'],
  description: 'Multiply-accumulates of one forward pass of one example (the "FLOPs" NAS papers report), counted from the layers that run',
  schema: flopsMetricsSchema,
  create(config) {
    return flopsMetricsFn(config);
  },
});
