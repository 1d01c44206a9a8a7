import { Module, tf } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { latencyMetricsFn, latencyMetricsSchema, median } from './latency-metrics.js';

describe('LatencyMetrics', () => {
  it('runs warmup + rep passes in eval mode and reports the median in ms', async () => {
    class Slow extends Module {
      calls = 0;
      modes: boolean[] = [];
      forward(x: tf.Tensor): tf.Tensor {
        this.calls++;
        this.modes.push(this.training);
        const t0 = performance.now();
        while (performance.now() - t0 < 2) {
          // busy: every pass takes at least 2 ms
        }
        return tf.mean(x, [1, 2, 3]);
      }
    }
    const m = new Slow();
    const fn = latencyMetricsFn(latencyMetricsSchema.parse({ warmup: 3, rep: 5 }));
    const base = tf.memory().numTensors;
    const r = (await fn(m, { inputShape: [2, 2, 1] })) as { latency: number };
    expect(tf.memory().numTensors).toBe(base);
    expect(m.calls).toBe(8);
    expect(m.modes.every((t) => !t)).toBe(true);
    expect(m.training).toBe(true);
    expect(r.latency).toBeGreaterThanOrEqual(2);
    expect(r.latency).toBeLessThan(1000);
  });

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
