import type { MetricsFn } from '@modnas/core';
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

/** Each named metric's value on the model; a metric that gives nothing counts 0, as the original's. */
async function valuesOf(names: string[], fns: MetricsFn[], entries: Entry[], where: string, ...args: Parameters<MetricsFn>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < fns.length; i++) {
    const r = await fns[i](...args);
    out.push(Object.keys(r).length === 0 ? 0 : metricValue(r, entries[i].field, `${where}.metrics_conf.${names[i]}`));
  }
  return out;
}

function noMetrics(where: string): never {
  throw new ModnasError('MODNAS_E_METRICS_EMPTY', `${where}: metrics_conf names no metric`, { fix: 'name at least one metric: metrics_conf: { acc: { type: ValidateMetrics } }', where: `${where}.metrics_conf` });
}

export const sumAggMetrics = defineComponent({
  kind: 'metrics',
  id: 'SumAggMetrics',
  description: 'Weighted sum of other metrics, each divided by its base: Σ weight·value/base',
  schema: sumAggMetricsSchema,
  async create(config, ctx) {
    const names = Object.keys(config.metrics_conf);
    if (names.length === 0) noMetrics(ctx.where);
    const entries = names.map((n) => config.metrics_conf[n] as Entry);
    const fns = await Promise.all(names.map((n, i) => buildMetric(ctx, specOf(entries[i]), `${ctx.where}.metrics_conf.${n}`)));
    const fn: MetricsFn = async (...args) => {
      const v = await valuesOf(names, fns, entries, ctx.where, ...args);
      return { [config.key]: v.reduce((s, x, i) => s + (config.metrics_conf[names[i]].weight * x) / config.metrics_conf[names[i]].base, 0) };
    };
    return Object.assign(fn, { close: () => closeAll(fns) });
  },
});

export const prodAggMetrics = defineComponent({
  kind: 'metrics',
  id: 'ProdAggMetrics',
  description: 'Product of other metrics, each (value/base)^(alpha, or beta above base): the MnasNet-style reward acc·(lat/target)^w',
  schema: prodAggMetricsSchema,
  async create(config, ctx) {
    const names = Object.keys(config.metrics_conf);
    if (names.length === 0) noMetrics(ctx.where);
    const entries = names.map((n) => config.metrics_conf[n] as Entry);
    const fns = await Promise.all(names.map((n, i) => buildMetric(ctx, specOf(entries[i]), `${ctx.where}.metrics_conf.${n}`)));
    const fn: MetricsFn = async (...args) => {
      const v = await valuesOf(names, fns, entries, ctx.where, ...args);
      return {
        [config.key]: v.reduce((p, x, i) => {
          const e = config.metrics_conf[names[i]];
          return p * (x / e.base) ** (x > e.base ? e.beta : e.alpha);
        }, 1),
      };
    };
    return Object.assign(fn, { close: () => closeAll(fns) });
  },
});

export const mergeAggMetrics = defineComponent({
  kind: 'metrics',
  id: 'MergeAggMetrics',
  description: 'Several metrics as one: each value under its name',
  schema: mergeAggMetricsSchema,
  async create(config, ctx) {
    const names = Object.keys(config.metrics_conf);
    if (names.length === 0) noMetrics(ctx.where);
    const entries = names.map((n) => config.metrics_conf[n] as Entry);
    const fns = await Promise.all(names.map((n, i) => buildMetric(ctx, specOf(entries[i]), `${ctx.where}.metrics_conf.${n}`)));
    const fn: MetricsFn = async (...args) => {
      const out: Record<string, number> = {};
      for (let i = 0; i < fns.length; i++) {
        const r = await fns[i](...args);
        // one value (or the field asked for) under the name; several under name.key
        if (entries[i].field !== undefined || Object.keys(r).length === 1) out[names[i]] = metricValue(r, entries[i].field, `${ctx.where}.metrics_conf.${names[i]}`);
        else for (const [k, v] of Object.entries(r)) out[`${names[i]}.${k}`] = v;
      }
      return out;
    };
    return Object.assign(fn, { close: () => closeAll(fns) });
  },
});
