import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsFn } from '@modnas/core';
import { Module, Sequential, getRegistry, tf } from '@modnas/core';
import { Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import { describeConformance } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { activeParams, paramsMetricsFn, paramsMetricsSchema } from './params-metrics.js';

const net = (): Module => new Sequential([new Conv2d(3, 4, { kernelSize: 3 }), new GlobalAvgPool(), new Linear(4, 2)]);
const runOnce = async (fn: unknown): Promise<void> => {
  const m = net();
  await (fn as MetricsFn)(m, { inputShape: [8, 8, 3] });
  m.dispose();
};

// StatsModelMetrics' predictor: 2 + 0.5 * input channels
const linearModel = join(mkdtempSync(join(tmpdir(), 'modnas-stats-model-')), 'model.json');
writeFileSync(linearModel, JSON.stringify({ coef: [0.5], intercept: 2 }));
// the aggregating metrics build their parts by id
getRegistry().register(plugin);
const params = { type: 'ParamsMetrics', mode: 'total' };
describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    ParamsMetrics: runOnce, FLOPsMetrics: runOnce, LatencyMetrics: runOnce, SumAggMetrics: runOnce, ProdAggMetrics: runOnce, MergeAggMetrics: runOnce,
    StatsRecordMetrics: runOnce, StatsModelMetrics: runOnce, ModuleTraversalMetrics: runOnce, MixedOpTraversalMetrics: runOnce,
  },
  configs: {
    LatencyMetrics: { warmup: 1, rep: 2 },
    SumAggMetrics: { metrics_conf: { p: params } },
    ProdAggMetrics: { metrics_conf: { p: params } },
    MergeAggMetrics: { metrics_conf: { p: params } },
    StatsRecordMetrics: { metrics: params, head: ['type'] },
    StatsModelMetrics: { model_path: linearModel, head: ['in_c'] },
    ModuleTraversalMetrics: { metrics: params },
    MixedOpTraversalMetrics: { metrics: params },
  },
});

/** Two branches; only the one `pick` names runs. */
class Branchy extends Module {
  pick: 'a' | 'b' = 'a';
  readonly a: Linear;
  readonly b: Linear;
  constructor() {
    super();
    this.a = this.addModule('a', new Linear(3, 2));
    this.b = this.addModule('b', new Linear(3, 5));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return (this.pick === 'a' ? this.a : this.b).call(tf.mean(x, [1, 2]));
  }
}

describe('ParamsMetrics', () => {
  it("counts every weight ('total') or those the current path uses ('active')", async () => {
    const m = net();
    const want = 3 * 3 * 3 * 4 + 4 * 2 + 2;
    const total = paramsMetricsFn(paramsMetricsSchema.parse({ mode: 'total' }));
    expect(await total(m, { inputShape: [8, 8, 3] })).toEqual({ params: want });
    const active = paramsMetricsFn(paramsMetricsSchema.parse({ key: 'p' }));
    expect(await active(m, { inputShape: [8, 8, 3] })).toEqual({ p: want });
    const b = new Branchy();
    const base = tf.memory().numTensors;
    expect(activeParams(b, [2, 2, 3])).toBe(3 * 2 + 2);
    b.pick = 'b';
    expect(activeParams(b, [2, 2, 3])).toBe(3 * 5 + 5);
    expect(tf.memory().numTensors).toBe(base);
    expect(b.training).toBe(true);
    m.dispose();
    b.dispose();
  });
});

