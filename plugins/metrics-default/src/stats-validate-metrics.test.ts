import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch, StateOptimizer } from '@modnas/core';
import { Sequential, Tokens, defineComponent, definePlugin, getRegistry, tf, z } from '@modnas/core';
import { Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import { makeBuildContext, tinySplit } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from './index.js';

// Counts its calls, so that a recalled value is seen not to be measured again.
let measured = 0;
const counting = defineComponent({
  kind: 'metrics',
  id: 'CountingTestMetrics',
  description: 'test: counts calls',
  schema: z.strictObject({}),
  create: () => ((_m, c) => ({ n: ++measured, h: c.inputShape[0] })),
});

beforeAll(() => {
  getRegistry().register(plugin);
  getRegistry().register(definePlugin({ meta: { name: 'stats-metrics-test', version: '0.0.0' }, components: [counting] }));
});

describe('StatsRecordMetrics', () => {
  it('measures once per distinct key of the head stats, and recalls after', async () => {
    const fn = await makeBuildContext().build('metrics', { type: 'StatsRecordMetrics', metrics: 'CountingTestMetrics', head: ['type', 'in_shape', 'chnOut', 'missing'] });
    const [a, b, c] = [new Conv2d(3, 4, { kernelSize: 3 }), new Conv2d(3, 4, { kernelSize: 3 }), new Conv2d(3, 8, { kernelSize: 3 })];
    measured = 0;
    expect(await fn(a, { inputShape: [8, 8, 3] })).toEqual({ n: 1, h: 8 });
    // the same type, input and chnOut: recalled
    expect(await fn(b, { inputShape: [8, 8, 3] })).toEqual({ n: 1, h: 8 });
    // another input shape, another chnOut: measured
    expect(await fn(a, { inputShape: [4, 4, 3] })).toEqual({ n: 2, h: 4 });
    expect(await fn(c, { inputShape: [8, 8, 3] })).toEqual({ n: 3, h: 8 });
    expect(measured).toBe(3);
    expect([...(fn as unknown as { record: Map<string, unknown> }).record.keys()]).toEqual(['Conv2d#8x8x3#4', 'Conv2d#4x4x3#4', 'Conv2d#8x8x3#8']);
    for (const m of [a, b, c]) m.dispose();
  });
});

describe('StatsModelMetrics', () => {
  it("predicts intercept + coef · the head stats of the module, and names what is missing", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'modnas-stats-model-')), 'lat.json');
    // e.g. fitted latency: 0.1 + 0.002·H·... here linear in in_h, chnOut and stride
    writeFileSync(path, JSON.stringify({ coef: [0.25, 0.5, -1], intercept: 0.1 }));
    const fn = await makeBuildContext().build('metrics', { type: 'StatsModelMetrics', model_path: path, head: ['in_h', 'chnOut', 'stride'], key: 'lat' });
    const conv = new Conv2d(3, 8, { kernelSize: 3, stride: 2 });
    // 0.1 + 0.25·16 + 0.5·8 - 1·2
    expect((await fn(conv, { inputShape: [16, 16, 3] })).lat).toBeCloseTo(6.1, 12);
    const pool = new GlobalAvgPool();
    expect(() => fn(pool, { inputShape: [4, 4, 8] })).toThrow(/GlobalAvgPool has no numeric "chnOut" \(head\[1\]\)/);
    writeFileSync(path, JSON.stringify({ coef: [1], intercept: 0 }));
    await expect(makeBuildContext().build('metrics', { type: 'StatsModelMetrics', model_path: path, head: ['in_h', 'chnOut'] })).rejects.toThrow(/is not \{ "coef": \[2 numbers\]/);
    conv.dispose();
  });
});

describe('ValidateMetrics', () => {
  const net = () => new Sequential([new Conv2d(3, 4, { kernelSize: 3 }), new GlobalAvgPool(), new Linear(4, 4)]);
  /** The run's trainer as far as validation goes: top-1 hits and a loss of 1 - hit rate per batch. */
  const trainer = {
    batchSize: 3,
    evalStep(model: { call(x: tf.Tensor): tf.Tensor; training: boolean }, b: Batch) {
      expect(model.training).toBe(false);
      const hits = tf.tidy(() => tf.sum(tf.equal(tf.argMax(model.call(b.x), -1), b.y)).dataSync()[0]);
      return { loss: 1 - hits / b.y.shape[0], correct: hits, count: b.y.shape[0] };
    },
  } as unknown as StateOptimizer;

  it("is the run's validation accuracy (or loss) of the network given, in eval mode", async () => {
    const ctx = makeBuildContext();
    const valid = tinySplit(8);
    ctx.container.registerInstance(Tokens.StateOptimizer, trainer);
    ctx.container.registerInstance(Tokens.Data, { train: tinySplit(4), valid });
    const m = net();
    // the accuracy, counted here over the whole split at once
    const want = tf.tidy(() => {
      const [b] = [...valid.batches(8)];
      return tf.mean(tf.cast(tf.equal(tf.argMax(m.call(b.x), -1), b.y), 'float32')).dataSync()[0];
    });
    const acc = await ctx.build('metrics', 'ValidateMetrics');
    const before = tf.memory().numTensors;
    expect((await acc(m, { inputShape: [8, 8, 3] })).valid_acc).toBeCloseTo(want, 6);
    expect(tf.memory().numTensors).toBe(before);
    expect(m.training).toBe(true);
    const loss = await ctx.build('metrics', { type: 'ValidateMetrics', field: 'loss', key: 'l' });
    expect((await loss(m, { inputShape: [8, 8, 3] })).l).toBeCloseTo(1 - want, 6);
    // the first batch only (3 examples)
    const one = await ctx.build('metrics', { type: 'ValidateMetrics', max_batches: 1 });
    const first = tf.tidy(() => {
      const [b] = [...valid.batches(3)];
      return tf.sum(tf.equal(tf.argMax(m.call(b.x), -1), b.y)).dataSync()[0] / 3;
    });
    expect((await one(m, { inputShape: [8, 8, 3] })).valid_acc).toBeCloseTo(first, 6);
    m.dispose();
  });

  it('says what it lacks in a run without a trainer', async () => {
    const fn = await makeBuildContext().build('metrics', 'ValidateMetrics');
    const m = net();
    await expect(Promise.resolve().then(() => fn(m, { inputShape: [8, 8, 3] }))).rejects.toThrow(/ValidateMetrics needs the run's trainer/);
    m.dispose();
  });
});
