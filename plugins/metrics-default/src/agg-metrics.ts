import type { BuildContext, MetricsFn } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import type { metricSpecSchema} from './metric-value.js';
import { buildMetric, closeAll, metricValue } from './metric-value.js';

/** One aggregated metric: the metric's spec, with the aggregation's own keys beside its type. */
const entryShape = {
  type: z.string().min(1).describe('The metric'),
  field: z.string().min(1).optional().describe("Which value of the metric's results counts (absent: its only one)"),
};
const sumEntry = z.looseObject({
  ...entryShape,
  base: z.number().positive().default(1).describe('The value is divided by base'),
  weight: z.number().default(1).describe('Weight of the value in the sum'),
});
const prodEntry = z.looseObject({
  ...entryShape,
  base: z.number().positive().default(1).describe('The value is divided by base'),
  alpha: z.number().default(1).describe('Exponent of value/base where the value is at most base'),
  beta: z.number().default(1).describe('Exponent of value/base where the value exceeds base'),
});
const mergeEntry = z.looseObject(entryShape);

const OWN_KEYS = ['field', 'base', 'weight', 'alpha', 'beta'];
const specOf = (e: Record<string, unknown>): z.output<typeof metricSpecSchema> => Object.fromEntries(Object.entries(e).filter(([k]) => !OWN_KEYS.includes(k))) as { type: string };

export const sumAggMetricsSchema = z.strictObject({
  metrics_conf: z.record(z.string(), sumEntry).describe('The metrics summed, by name: { name: { type, ...its options, base, weight, field } }'),
  key: z.string().min(1).default('sum_agg').describe('Name of the sum in the results'),
});
export const prodAggMetricsSchema = z.strictObject({
  metrics_conf: z.record(z.string(), prodEntry).describe('The metrics multiplied, by name: { name: { type, ...its options, base, alpha, beta, field } }'),
  key: z.string().min(1).default('prod_agg').describe('Name of the product in the results'),
});
export const mergeAggMetricsSchema = z.strictObject({
  metrics_conf: z.record(z.string(), mergeEntry).describe('The metrics merged, by name: { name: { type, ...its options, field } }; each value appears under its name'),
});

type Entry = Record<string, unknown> & { type: string; field?: string };

type Results = Record<string, number>;

/**
 * The metrics of `conf`, built, as one MetricsFn: each is run in turn on the same arguments and
 * `fold` makes the aggregation's results from theirs (an empty metrics_conf is an error).
 */
async function aggregate<E extends Entry>(conf: Record<string, E>, ctx: BuildContext, fold: (results: Results[], names: string[], entries: E[]) => Results): Promise<MetricsFn> {
  const names = Object.keys(conf);
  if (names.length === 0) {
    throw new ModnasError('MODNAS_E_METRICS_EMPTY', `${ctx.where}: metrics_conf names no metric`, { fix: 'name at least one metric: metrics_conf: { acc: { type: ValidateMetrics } }', where: `${ctx.where}.metrics_conf` });
  }
  const entries = names.map((n) => conf[n]);
  const fns = await Promise.all(names.map((n, i) => buildMetric(ctx, specOf(entries[i]), `${ctx.where}.metrics_conf.${n}`)));
  const fn: MetricsFn = async (...args) => {
    const results: Results[] = [];
    for (const f of fns) results.push(await f(...args));
    return fold(results, names, entries);
  };
  return Object.assign(fn, { close: () => closeAll(fns) });
}

/** Each result's value (its `field`, else its only one); a metric that gives nothing counts 0, as the original's. */
const valuesOf = (results: Results[], names: string[], entries: Entry[], where: string): number[] =>
  results.map((r, i) => (Object.keys(r).length === 0 ? 0 : metricValue(r, entries[i].field, `${where}.metrics_conf.${names[i]}`)));

export const sumAggMetrics = defineComponent({
  kind: 'metrics',
  id: 'SumAggMetrics',
  description: 'Weighted sum of other metrics, each divided by its base: Σ weight·value/base',
  schema: sumAggMetricsSchema,
  create: (config, ctx) =>
    aggregate(config.metrics_conf, ctx, (results, names, entries) => ({
      [config.key]: valuesOf(results, names, entries, ctx.where).reduce((s, x, i) => s + (entries[i].weight * x) / entries[i].base, 0),
    })),
});

export const prodAggMetrics = defineComponent({
  kind: 'metrics',
  id: 'ProdAggMetrics',
  description: 'Product of other metrics, each (value/base)^(alpha, or beta above base): the MnasNet-style reward acc·(lat/target)^w',
  schema: prodAggMetricsSchema,
  create: (config, ctx) =>
    aggregate(config.metrics_conf, ctx, (results, names, entries) => ({
      [config.key]: valuesOf(results, names, entries, ctx.where).reduce((p, x, i) => p * (x / entries[i].base) ** (x > entries[i].base ? entries[i].beta : entries[i].alpha), 1),
    })),
});

export const mergeAggMetrics = defineComponent({
  kind: 'metrics',
  id: 'MergeAggMetrics',
  description: 'Several metrics as one: each value under its name',
  schema: mergeAggMetricsSchema,
  create: (config, ctx) =>
    aggregate(config.metrics_conf, ctx, (results, names, entries) => {
      const out: Results = {};
      results.forEach((r, i) => {
        // one value (or the field asked for) under the name; several under name.key
        if (entries[i].field !== undefined || Object.keys(r).length === 1) out[names[i]] = metricValue(r, entries[i].field, `${ctx.where}.metrics_conf.${names[i]}`);
        else for (const [k, v] of Object.entries(r)) out[`${names[i]}.${k}`] = v;
      });
      return out;
    }),
});
