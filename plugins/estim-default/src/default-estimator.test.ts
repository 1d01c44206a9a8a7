import type { Batch, Loss, Module } from '@modnas/core';
import { ArchSpace, Sequential, defineComponent, definePlugin, getRegistry, tf, z } from '@modnas/core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear, ReLU } from '@modnas/nn';
import { describeConformance, makeBuildContext, makeEstimContext, tinySplit } from '@modnas/testkit';
import { DefaultTrainer, defaultTrainerSchema } from '@modnas/trainer-default';
import { describe, expect, it } from 'vitest';
import { DefaultEstimator, defaultEstimatorSchema } from './default-estimator.js';
import plugin from './index.js';

function tinyNet(): Module {
  return new Sequential([new Conv2d(3, 4, { kernelSize: 3 }), new BatchNorm2d(4), new ReLU(), new GlobalAvgPool(), new Linear(4, 4)]);
}

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

describe('DefaultEstimator', () => {
  it('trains the weights for the epochs, validating and reporting each epoch, and leaks nothing', async () => {
    const model = tinyNet();
    const space = new ArchSpace();
    const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ lr: 0.1, batch_size: 8, lr_scheduler: 'cosine', lr_min: 0 }), space);
    const base = tf.memory().numTensors;
    const ctx = makeEstimContext({ model, space, trainer, train: tinySplit(48), valid: tinySplit(16, undefined, undefined, 1) });
    const phases: Array<[string, number]> = [];
    ctx.progress.start = (phase, total) => (phases.push([phase, total]), { tick() {}, done() {} });
    let steps = 0;
    const epochs: number[] = [];
    ctx.events.on('step:end', () => void steps++);
    ctx.events.on('epoch:end', (p) => void epochs.push(p.epoch));
    const w0 = Array.from(model.parameters()[0].dataSync());
    const r = await new DefaultEstimator(defaultEstimatorSchema.parse({ epochs: 4 })).run(ctx);
    expect(epochs).toEqual([0, 1, 2, 3]);
    expect(steps).toBe(4 * 6);
    expect(phases).toEqual([0, 1, 2, 3].map((e) => [`search epoch ${e + 1}/4`, 6]));
    const rows = ctx.store.read('metrics');
    expect(rows).toHaveLength(4);
    expect(rows.every((m) => typeof m.acc === 'number' && typeof m.train_loss === 'number')).toBe(true);
    // cosine to 0 over 4 epochs: the LR of the last epoch is lr * (1 + cos(3π/4)) / 2
    expect(rows[3].lr as number).toBeCloseTo((0.1 * (1 + Math.cos((3 * Math.PI) / 4))) / 2, 6);
    expect(rows[3].train_loss as number).toBeLessThan(rows[0].train_loss as number);
    expect(r.metrics.acc).toBe(rows[3].acc);
    expect(r.best).toBeUndefined();
    expect(Array.from(model.parameters()[0].dataSync())).not.toEqual(w0);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(base);
    model.dispose();
  });

  it('validates only at the end with valid_intv 0 and stops cleanly when aborted', async () => {
    const model = tinyNet();
    const space = new ArchSpace();
    const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ batch_size: 8 }), space);
    const ac = new AbortController();
    const ctx = { ...makeEstimContext({ model, space, trainer }), signal: ac.signal };
    let steps = 0;
    ctx.events.on('step:end', () => {
      if (++steps === 5) ac.abort();
    });
    const r = await new DefaultEstimator(defaultEstimatorSchema.parse({ epochs: 10, valid_intv: 0 })).run(ctx);
    expect(steps).toBe(5);
    const rows = ctx.store.read('metrics');
    expect(rows.map((m) => m.epoch)).toEqual([0, 1]);
    expect(rows[0].acc).toBeUndefined(); // epoch 0 not validated
    expect(typeof rows[1].acc).toBe('number'); // the aborted epoch is
    expect(typeof r.metrics.acc).toBe('number');
    trainer.dispose();
    model.dispose();
  });

  it('adds the experiment metrics to its final metrics', async () => {
    const model = tinyNet();
    const space = new ArchSpace();
    const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ batch_size: 8 }), space);
    const ctx = { ...makeEstimContext({ model, space, trainer }), metrics: [(m: Module, c: { inputShape: number[] }) => ({ params: m.numParams(), h: c.inputShape[0] })] };
    const r = await new DefaultEstimator(defaultEstimatorSchema.parse({ epochs: 1 })).run(ctx);
    expect(r.metrics.params).toBe(model.numParams());
    expect(r.metrics.h).toBe(8);
    trainer.dispose();
    model.dispose();
  });
});

describe("DefaultEstimator's criterion (the original's: loss components it trains with)", () => {
  /** A loss that replaces the task loss by the mean squared logit, and counts its sessions. */
  const sessions = { started: 0, ended: 0 };
  const squaredLogits = defineComponent({
    kind: 'loss',
    id: 'TestSquaredLogits',
    description: 'mean squared logit, instead of the task loss',
    schema: z.strictObject({}),
    create: (): Loss => ({
      start() {
        sessions.started++;
        return { taskWeight: 0, mode: 'all', term: ({ logits }) => tf.mean<tf.Scalar>(tf.square(logits)), end: () => void sessions.ended++ };
      },
    }),
  });

  it('builds the named losses and trains with them for the run only', async () => {
    getRegistry().register(definePlugin({ meta: { name: '@modnas/test-losses', version: '0.0.0' }, components: [squaredLogits] }));
    expect(defaultEstimatorSchema.safeParse({ criterion: 'TestSquaredLogits' }).success).toBe(true);
    const estim = (await plugin.components[0].create(defaultEstimatorSchema.parse({ epochs: 2, criterion: [{ type: 'TestSquaredLogits' }] }), makeBuildContext({ where: 'estim.train' }), undefined)) as DefaultEstimator;
    expect(estim.losses).toHaveLength(1);
    const model = tinyNet();
    const space = new ArchSpace();
    const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ lr: 0.1, batch_size: 8 }), space);
    const ctx = makeEstimContext({ model, space, trainer, train: tinySplit(48), valid: tinySplit(16, undefined, undefined, 1) });
    const probe = tinySplit(16, undefined, undefined, 2);
    const first = (): Batch => probe.batches(16)[Symbol.iterator]().next().value as Batch;
    const sq = (): number => tf.tidy(() => tf.mean(tf.square(model.call(first().x))).dataSync()[0]);
    const before = sq();
    await estim.run(ctx);
    expect(sessions).toEqual({ started: 1, ended: 1 });
    // trained on the squared logits alone: they shrink, and the reported training loss is that loss
    expect(sq()).toBeLessThan(before / 4);
    const rows = ctx.store.read('metrics');
    expect(rows[1].train_loss as number).toBeLessThan(rows[0].train_loss as number);
    expect(rows[1].train_loss as number).toBeLessThan(before);
    // the run over, the trainer trains on the task loss again
    const r = await trainer.trainStep(model, first());
    expect(r.loss).toBeGreaterThan(1);
    trainer.dispose();
    model.dispose();
  });

  it('an unknown loss name is a coded error naming the key', async () => {
    await expect(plugin.components[0].create(defaultEstimatorSchema.parse({ criterion: 'NoSuchLoss' }), makeBuildContext({ where: 'estim.train' }), undefined)).rejects.toMatchObject({ where: expect.stringContaining('estim.train.criterion') });
  });
});
