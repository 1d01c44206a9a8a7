import type { MetricsFn, Module } from '@modnas/core';
import { defineComponent, tf, z } from '@modnas/core';

export const latencyMetricsSchema = z.strictObject({
  key: z.string().min(1).default('latency').describe('Name of the metric in the results (milliseconds)'),
  warmup: z.number().int().min(0).default(10).describe('Untimed forward passes first (the original LocalProfilerMetrics: 10)'),
  rep: z.number().int().positive().default(50).describe('Timed forward passes (the original: 50)'),
  batch_size: z.number().int().positive().default(1).describe('Examples per forward pass'),
  statistic: z.enum(['median', 'mean']).default('median').describe('How the timed passes combine: median (robust to a busy machine) or mean (the original)'),
});
export type LatencyMetricsConfig = z.output<typeof latencyMetricsSchema>;

/** Milliseconds of each of `rep` forward passes (after `warmup`), in eval mode on the current backend, read back to the host. */
export function timeForward(model: Module, inputShape: [number, number, number], c: Pick<LatencyMetricsConfig, 'warmup' | 'rep' | 'batch_size'>): number[] {
  const wasTraining = model.training;
  model.eval();
  const x = tf.randomNormal([c.batch_size, ...inputShape]);
  const times: number[] = [];
  try {
    for (let i = 0; i < c.warmup + c.rep; i++) {
      const t0 = performance.now();
      // dataSync waits for the result, so asynchronous backends are timed to completion.
      tf.tidy(() => model.call(x).dataSync());
      if (i >= c.warmup) times.push(performance.now() - t0);
    }
  } finally {
    x.dispose();
    model.train(wasTraining);
  }
  return times;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function latencyMetricsFn(config: LatencyMetricsConfig): MetricsFn {
  return (model, ctx) => {
    const t = timeForward(model, ctx.inputShape, config);
    return { [config.key]: config.statistic === 'median' ? median(t) : t.reduce((a, b) => a + b, 0) / t.length };
  };
}

export const latencyMetrics = defineComponent({
  kind: 'metrics',
  id: 'LatencyMetrics',
  aliases: ['LocalProfilerMetrics'],
  description: 'Measured latency (ms) of a forward pass on the current tensor backend: warmup passes, then the median (or mean) of rep timed passes',
  schema: latencyMetricsSchema,
  create(config) {
    return latencyMetricsFn(config);
  },
});
