import type { MetricsFn, Module } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { buildMetric, metricSpecSchema } from './metric-value.js';

/**
 * What a module's record key is made of: `type` (its class), `in_shape` (its input, HxWxC), and its
 * own settings of plain values (chnIn, chnOut, stride, kernelSize ...).
 */
export function moduleStats(m: Module, inputShape: readonly number[]): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') own[k] = v;
  return { ...own, type: m.constructor.name, in_shape: inputShape.join('x') };
}

export const statsRecordMetricsSchema = z.strictObject({
  metrics: metricSpecSchema.describe('The metric measured once per distinct key, e.g. LatencyMetrics'),
  head: z
    .array(z.string().min(1))
    .min(1)
    .describe("Stats that make a module's key: type, in_shape, or a setting of the module (chnIn, chnOut, stride, kernelSize ...); absent ones are skipped"),
  save_path: z.string().min(1).optional().describe('Append each new "key: value" line to this file (Node only)'),
});

/**
 * A metric measured once per distinct module (by the stats in `head`) and recalled after (the
 * original's StatsRecordMetrics): under ModuleTraversalMetrics, a latency table built as it goes.
 */
export const statsRecordMetrics = defineComponent({
  kind: 'metrics',
  id: 'StatsRecordMetrics',
  description: 'A metric measured once per distinct module configuration (type, input shape, settings named in head) and recalled after',
  schema: statsRecordMetricsSchema,
  async create(config, ctx) {
    const inner = await buildMetric(ctx, config.metrics, `${ctx.where}.metrics`);
    const record = new Map<string, Record<string, number>>();
    const fn: MetricsFn = async (model, c) => {
      const stats = moduleStats(model, c.inputShape);
      const key = config.head
        .filter((h) => stats[h] !== undefined && stats[h] !== null)
        .map((h) => String(stats[h]))
        .join('#');
      const known = record.get(key);
      if (known) return { ...known };
      const r = await inner(model, c);
      record.set(key, { ...r });
      ctx.logger.info(`StatsRecord: ${key}: ${JSON.stringify(r)}`);
      if (config.save_path) {
        const { appendFile } = await import('node:fs/promises');
        await appendFile(config.save_path, `${key}: ${JSON.stringify(r)}\n`);
      }
      return r;
    };
    return Object.assign(fn, { close: () => inner.close?.(), record });
  },
});

export const statsModelMetricsSchema = z.strictObject({
  model_path: z
    .string()
    .min(1)
    .describe('A JSON file of a linear predictor, { "coef": [...], "intercept": n } (e.g. scikit-learn LinearRegression\'s coef_ and intercept_)'),
  head: z.array(z.string().min(1)).min(1).describe("The features, in the predictor's order: stats of the module (in_shape's H, W, C as in_h, in_w, in_c; chnIn, chnOut, stride, ...)"),
  key: z.string().min(1).default('stats_model').describe('Name of the prediction in the results'),
});

interface LinearModel {
  coef: number[];
  intercept: number;
}

/** The numeric stats of a module: its plain numeric settings and its input's in_h, in_w, in_c. */
function numericStats(m: Module, inputShape: readonly number[]): Record<string, unknown> {
  const [h, w, c] = inputShape.length === 3 ? inputShape : [undefined, undefined, inputShape[inputShape.length - 1]];
  return { ...moduleStats(m, inputShape), in_h: h, in_w: w, in_c: c };
}

/**
 * A metric predicted from a module's stats by a model fitted elsewhere (the original's
 * StatsModelMetrics, which unpickled a scikit-learn predictor: here a linear one, read from JSON).
 */
export const statsModelMetrics = defineComponent({
  kind: 'metrics',
  id: 'StatsModelMetrics',
  description: "A metric predicted from a module's stats (input shape, channels, stride ...) by a linear model read from a JSON file",
  schema: statsModelMetricsSchema,
  async create(config, ctx) {
    const { readFile } = await import('node:fs/promises');
    let model: LinearModel;
    try {
      model = JSON.parse(await readFile(config.model_path, 'utf8')) as LinearModel;
    } catch (e) {
      throw new ModnasError('MODNAS_E_METRICS_MODEL', `${ctx.where}: cannot read the predictor ${config.model_path}: ${(e as Error).message}`, {
        fix: 'write it as JSON: { "coef": [one number per head entry], "intercept": number }',
        where: `${ctx.where}.model_path`,
        cause: e,
      });
    }
    if (!Array.isArray(model.coef) || model.coef.length !== config.head.length || typeof model.intercept !== 'number' || model.coef.some((c) => typeof c !== 'number')) {
      throw new ModnasError('MODNAS_E_METRICS_MODEL', `${ctx.where}: ${config.model_path} is not { "coef": [${config.head.length} numbers], "intercept": number } for head ${JSON.stringify(config.head)}`, {
        fix: 'give one coefficient per head entry, in its order',
        where: `${ctx.where}.model_path`,
      });
    }
    const fn: MetricsFn = (m, c) => {
      const stats = numericStats(m, c.inputShape);
      let y = model.intercept;
      config.head.forEach((h, i) => {
        const v = stats[h];
        if (typeof v !== 'number' && typeof v !== 'boolean') {
          throw new ModnasError('MODNAS_E_METRICS_FEATURE', `${ctx.where}: ${m.constructor.name} has no numeric ${JSON.stringify(h)} (head[${i}])`, {
            fix: `use stats it has: ${Object.keys(stats)
              .filter((k) => typeof stats[k] === 'number')
              .join(', ')}`,
            where: `${ctx.where}.head.${i}`,
          });
        }
        y += model.coef[i] * Number(v);
      });
      return { [config.key]: y };
    };
    return fn;
  },
});
