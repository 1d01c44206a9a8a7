import type { Module } from '@modnas/core';
import { Sequential, defineComponent, definePlugin, getRegistry, z } from '@modnas/core';
import { Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from './index.js';

// Fixed-value metrics to aggregate: { value } or several keys.
const fixed = defineComponent({
  kind: 'metrics',
  id: 'FixedTestMetrics',
  description: 'test: fixed values',
  schema: z.strictObject({ values: z.record(z.string(), z.number()).describe('what it returns') }),
  create: (c) => (() => ({ ...c.values })),
});

beforeAll(() => {
  getRegistry().register(plugin);
  getRegistry().register(definePlugin({ meta: { name: 'agg-metrics-test', version: '0.0.0' }, components: [fixed] }));
});

const net = (): Module => new Sequential([new Conv2d(3, 4, { kernelSize: 3 }), new GlobalAvgPool(), new Linear(4, 2)]);
async function run(type: string, config: Record<string, unknown>): Promise<Record<string, number>> {
  const ctx = makeBuildContext();
  const fn = await ctx.build('metrics', { type, ...config });
  const m = net();
  try {
    return await fn(m, { inputShape: [8, 8, 3] });
  } finally {
    m.dispose();
  }
}
const v = (x: number) => ({ type: 'FixedTestMetrics', values: { x } });

describe('SumAggMetrics, ProdAggMetrics, MergeAggMetrics', () => {
  it('sum: Σ weight·value/base', async () => {
    // 2·0.9/1 + (-0.5)·30/20 = 1.8 - 0.75
    expect((await run('SumAggMetrics', { metrics_conf: { acc: { ...v(0.9), weight: 2 }, lat: { ...v(30), base: 20, weight: -0.5 } } })).sum_agg).toBeCloseTo(1.05, 12);
    // a real metric among them: the network's 3*3*3*4 (conv, no bias) + 4*2 + 2 = 118 weights
    expect(await run('SumAggMetrics', { key: 's', metrics_conf: { p: { type: 'ParamsMetrics', mode: 'total', base: 100 } } })).toEqual({ s: 1.18 });
  });

  it("prod: Π (value/base)^(alpha where value <= base, else beta), MnasNet's reward", async () => {
    // acc 0.8; latency 40 against a target 50 (below: alpha -0.07), then 80 (above: beta -0.07 / -0.5)
    const conf = (lat: number) => ({ metrics_conf: { acc: v(0.8), lat: { ...v(lat), base: 50, alpha: -0.07, beta: -0.5 } } });
    expect((await run('ProdAggMetrics', conf(40))).prod_agg).toBeCloseTo(0.8 * 0.8 ** -0.07, 12);
    expect((await run('ProdAggMetrics', conf(80))).prod_agg).toBeCloseTo(0.8 * 1.6 ** -0.5, 12);
    expect((await run('ProdAggMetrics', conf(80))).prod_agg).toBeCloseTo(0.632455532033676, 12);
  });

  it('merge: each value under its name; field picks one of several', async () => {
    const several = { type: 'FixedTestMetrics', values: { a: 1, b: 2 } };
    expect(await run('MergeAggMetrics', { metrics_conf: { x: v(3), y: several, z: { ...several, field: 'b' } } })).toEqual({ x: 3, 'y.a': 1, 'y.b': 2, z: 2 });
  });

  it('names the entry whose value is ambiguous or missing', async () => {
    const several = { type: 'FixedTestMetrics', values: { a: 1, b: 2 } };
    await expect(run('SumAggMetrics', { metrics_conf: { s: several } })).rejects.toThrow(/test\.metrics_conf\.s: the metric gave 2 values \(a, b\); which one counts\?/);
    await expect(run('SumAggMetrics', { metrics_conf: { s: { ...several, field: 'c' } } })).rejects.toThrow(/the metric gave no "c" \(it gave a, b\)/);
    await expect(run('ProdAggMetrics', { metrics_conf: {} })).rejects.toThrow(/metrics_conf names no metric/);
  });
});
