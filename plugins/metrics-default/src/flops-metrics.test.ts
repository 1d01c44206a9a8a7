import type { Module } from '@modnas/core';
import { Sequential } from '@modnas/core';
import { Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import { describe, expect, it } from 'vitest';
import { flopsMetricsFn, flopsMetricsSchema } from './flops-metrics.js';

const net = (): Module => new Sequential([new Conv2d(3, 4, { kernelSize: 3 }), new GlobalAvgPool(), new Linear(4, 2)]);

describe('FLOPsMetrics', () => {
  it('counts the multiply-accumulates of one example', async () => {
    const m = net();
    const fn = flopsMetricsFn(flopsMetricsSchema.parse({}));
    // 3x3 conv 3->4 on 8x8 (same padding) + linear 4->2
    expect(await fn(m, { inputShape: [8, 8, 3] })).toEqual({ flops: 8 * 8 * 9 * 3 * 4 + 4 * 2 });
    expect(await fn(m, { inputShape: [4, 4, 3] })).toEqual({ flops: 4 * 4 * 9 * 3 * 4 + 4 * 2 });
    m.dispose();
  });
});

