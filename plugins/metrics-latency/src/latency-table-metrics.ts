import type { BuildContext, MetricsFn, Module, ResultStore } from '@modnas/core';
import { Tokens, defineComponent, resolveToken, z } from '@modnas/core';
import type { LatencyTable, LatencyTableConfig } from '@modnas/kit-latency';
import { closeRuntimes, currentChoice, latencyTableFields, predictLatency, tableFor } from '@modnas/kit-latency';

export const latencyTableMetricsSchema = z.strictObject({
  key: z.string().min(1).default('latency').describe('Name of the metric (predicted milliseconds)'),
  ...latencyTableFields,
});
export type LatencyTableMetricsConfig = z.output<typeof latencyTableMetricsSchema>;

/**
 * Predicted latency from the target's lookup table: the table is built for the search space on
 * the first call (entries from the cache where measured before) and recorded in the run's store
 * (stream `latency_tables`); every call after costs a sum.
 */
export function latencyTableMetricsFn(config: LatencyTableConfig & { key: string }, ctx?: Pick<BuildContext, 'container' | 'logger'>): MetricsFn {
  const tables = new WeakMap<Module, Promise<LatencyTable>>();
  const fn: MetricsFn = async (model, m) => {
    let table = tables.get(model);
    if (!table) {
      table = tableFor(model, m.inputShape, config, { logger: ctx?.logger }).then((t) => {
        const store = ctx ? resolveToken<ResultStore>(ctx.container, Tokens.Store) : undefined;
        store?.append('latency_tables', { ...t });
        return t;
      });
      tables.set(model, table);
    }
    return { [config.key]: predictLatency(await table, currentChoice(model)) };
  };
  fn.close = closeRuntimes;
  return fn;
}

export const latencyTableMetrics = defineComponent({
  kind: 'metrics',
  id: 'LatencyTableMetrics',
  aliases: ['StatsLUTMetrics'],
  description: 'Predicted latency (ms) on a target from its lookup table: each candidate of each mixed op measured once in context (the whole network with that one op changed), plus the fixed part',
  schema: latencyTableMetricsSchema,
  create(config, ctx) {
    return latencyTableMetricsFn(config, ctx);
  },
});
