// The two components on real targets (the engine, onnxruntime-node): what they report under which
// key, and that the table is built once per model. The targets and the table: @modnas/kit-latency.
import type { MetricsFn } from '@modnas/core';
import { Sequential } from '@modnas/core';
import { closeRuntimes } from '@modnas/kit-latency';
import { Conv2d, GlobalAvgPool, Linear, ReLU6 } from '@modnas/nn';
import { describeConformance } from '@modnas/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import plugin from './index.js';
import { latencyTableMetricsFn, latencyTableMetricsSchema } from './latency-table-metrics.js';
import { targetLatencyMetricsFn, targetLatencyMetricsSchema } from './target-latency-metrics.js';

const INPUT: [number, number, number] = [16, 16, 3];
const net = () => new Sequential([new Conv2d(3, 16, { kernelSize: 3, padding: 1 }), new ReLU6(), new Conv2d(16, 16, { kernelSize: 3, padding: 1, groups: 16 }), new GlobalAvgPool(), new Linear(16, 10)]);
const probe = net();
const once = async (fn: unknown): Promise<void> => {
  await (fn as MetricsFn)(probe, { inputShape: INPUT });
  await (fn as MetricsFn).close?.();
};

afterAll(() => closeRuntimes());

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: { TargetLatencyMetrics: once, LatencyTableMetrics: once },
  configs: { TargetLatencyMetrics: { warmup: 1, rep: 2, min_sample_ms: 0.1 }, LatencyTableMetrics: { warmup: 1, rep: 2, min_sample_ms: 0.1, cache: false, rounds: 1 } },
});

describe('the latency metrics', () => {
  it('TargetLatencyMetrics reports the median and its spread under its key', async () => {
    const fn = targetLatencyMetricsFn(targetLatencyMetricsSchema.parse({ key: 'ort_ms', target: 'onnxruntime-node', rep: 5, warmup: 2 }));
    const out = await fn(net(), { inputShape: INPUT });
    expect(Object.keys(out).sort()).toEqual(['ort_ms', 'ort_ms_iqr']);
    expect(out.ort_ms).toBeGreaterThan(0);
    expect(out.ort_ms_iqr).toBeGreaterThanOrEqual(0);
  });

  it('LatencyTableMetrics builds the table once per model and predicts every call after', async () => {
    const fn = latencyTableMetricsFn(latencyTableMetricsSchema.parse({ target: 'engine', rep: 3, warmup: 1, cache: false, rounds: 1 }));
    const model = net();
    const t0 = performance.now();
    const a = await fn(model, { inputShape: INPUT });
    const first = performance.now() - t0;
    const t1 = performance.now();
    const b = await fn(model, { inputShape: INPUT });
    expect(performance.now() - t1).toBeLessThan(first / 10);
    expect(b.latency).toBe(a.latency);
    expect(a.latency).toBeGreaterThan(0);
  });
});
