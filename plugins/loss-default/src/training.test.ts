import type { Batch, ComponentDef, EstimContext, Loss, LossSession, MetricsFn, StateOptimizer } from '@modnas/core';
import { ArchSpace, Module, ModnasError, Rng, tf } from '@modnas/core';
import { startLosses, trainEpoch } from '@modnas/kit-estim';
import { Linear, crossEntropy } from '@modnas/nn';
import { makeBuildContext, makeEstimContext, tinySplit } from '@modnas/testkit';
import { defaultTrainer } from '@modnas/trainer-default';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { MultMetricsLoss, multMetricsLossSchema } from './metrics-loss.js';
import { MixUpLoss, mixUpLossSchema, sampleBeta } from './mixup-loss.js';
import { torchMseLoss } from './target-losses.js';

/** Flatten, then one linear layer: 4x4x2 -> 4 classes. */
class Tiny extends Module {
  readonly fc: Linear;
  constructor() {
    super();
    this.fc = this.addModule('fc', new Linear(4 * 4 * 2, 4));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(tf.reshape(x, [x.shape[0], -1]));
  }
}

const trainer = async (): Promise<StateOptimizer> =>
  await defaultTrainer.create(defaultTrainer.schema.parse({ lr: 0.1, batch_size: 8, momentum: 0, weight_decay: 0, grad_clip: 0, lr_scheduler: 'none' }), makeBuildContext(), undefined);
const build = async (def: ComponentDef, args: Record<string, unknown> = {}): Promise<Loss> => (await def.create(def.schema.parse(args), makeBuildContext(), undefined)) as Loss;
const firstBatch = (split: ReturnType<typeof tinySplit>): Batch => [...split.batches(8)][0];
const weightsOf = (m: Module): number[] => m.parameters().flatMap((p) => Array.from(p.dataSync()));

describe('each loss trains the network alone', () => {
  const taskLosses = plugin.components.filter((c) => !['MixUpLoss', 'MultMetricsLoss', 'MultLogMetricsLoss'].includes(c.id));

  it.each(taskLosses.map((c) => [c.id, c] as const))('%s: the step reports its value and moves the weights by its gradient', async (_id, def) => {
    const split = tinySplit(8, [4, 4, 2], 4, 3);
    const model = new Tiny();
    const ctx = makeEstimContext({ model, space: new ArchSpace(), trainer: await trainer(), train: split });
    const loss = await build(def as ComponentDef);
    const b = firstBatch(split);
    // the loss's own value on the network before the step: what the step reports (the task loss weighs 0)
    const s = loss.start(ctx);
    const want = tf.tidy(() => s.term({ model, logits: model.call(b.x), batch: b }).dataSync()[0]);
    s.end();
    const ce = tf.tidy(() => crossEntropy(model.call(b.x), b.y).dataSync()[0]);
    const end = startLosses(ctx, [loss]);
    const before = weightsOf(model);
    const n0 = tf.memory().numTensors;
    const r = await ctx.trainer.trainStep(model, b);
    expect(tf.memory().numTensors).toBe(n0);
    end();
    expect(r.loss).toBeCloseTo(want, 4);
    if (Math.abs(want - ce) > 1e-3) expect(Math.abs(r.loss - ce)).toBeGreaterThan(1e-4);
    const after = weightsOf(model);
    expect(after.some((w, i) => Math.abs(w - before[i]) > 1e-6)).toBe(true);
    tf.dispose([b.x, b.y]);
  });
});

describe('MixUpLoss', () => {
  it('Beta(alpha, alpha) samples have its mean and variance', () => {
    const rng = new Rng(5);
    const xs = Array.from({ length: 4000 }, () => sampleBeta(rng, 0.3, 0.3));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(xs.every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(mean).toBeCloseTo(0.5, 1);
    // Var Beta(a, a) = 1 / (4 (2a + 1)) = 0.15625 for a = 0.3
    expect(v).toBeGreaterThan(0.14);
    expect(v).toBeLessThan(0.17);
  });

  const setup = async (): Promise<{ ctx: EstimContext; model: Tiny; b: Batch }> => {
    const split = tinySplit(8, [4, 4, 2], 4, 7);
    const model = new Tiny();
    // weights large enough that mixing changes the loss
    model.parameters().forEach((p, i) => p.assign(tf.randomNormal(p.shape, 0, 0.5, 'float32', 20 + i)));
    const ctx = makeEstimContext({ model, space: new ArchSpace(), trainer: await trainer(), train: split, seed: 3 });
    return { ctx, model, b: firstBatch(split) };
  };
  /** λ·crit(f(x̃), y) + (1-λ)·crit(f(x̃), y reversed), x̃ = λx + (1-λ)·x reversed. */
  const mixed = (model: Tiny, b: Batch, lam: number, crit: (logits: tf.Tensor, y: tf.Tensor1D) => tf.Scalar): number =>
    tf.tidy(() => {
      const xr = tf.reverse(b.x, 0);
      const yr = tf.reverse<tf.Tensor1D>(b.y, 0);
      const logits = model.call(tf.add(tf.mul(b.x, lam), tf.mul(xr, 1 - lam)));
      return tf.add(tf.mul(crit(logits, b.y), lam), tf.mul(crit(logits, yr), 1 - lam)).dataSync()[0];
    });

  it("a step's loss is λ·CE(f(x̃), y) + (1-λ)·CE(f(x̃), y_flip) with x̃ the batch mixed with itself reversed, and it trains", async () => {
    const { ctx, model, b } = await setup();
    const loss = (await build(plugin.components.find((c) => c.id === 'MixUpLoss') as ComponentDef, { alpha: 0.4 })) as MixUpLoss;
    const end = startLosses(ctx, [loss]);
    const before = weightsOf(model);
    // the expected value needs λ, which the step draws: run the step, then recompute with the weights it started from
    const w0 = model.parameters().map((p) => tf.clone(p));
    const r = await ctx.trainer.trainStep(model, b);
    end();
    const lam = loss.lastLambda!;
    expect(lam).toBeGreaterThan(0);
    expect(lam).toBeLessThan(1);
    const after = model.parameters().map((p) => tf.clone(p));
    model.parameters().forEach((p, i) => p.assign(w0[i]));
    const want = mixed(model, b, lam, (l, y) => crossEntropy(l, y));
    const plain = tf.tidy(() => crossEntropy(model.call(b.x), b.y).dataSync()[0]);
    expect(r.loss).toBeCloseTo(want, 4);
    expect(Math.abs(r.loss - plain)).toBeGreaterThan(1e-3);
    model.parameters().forEach((p, i) => p.assign(after[i]));
    expect(weightsOf(model).some((w, i) => Math.abs(w - before[i]) > 1e-6)).toBe(true);
    tf.dispose([...w0, ...after, b.x, b.y]);
  });

  it('mixes with another loss as crit_conf (MSELoss on the one-hot), and label smoothing by eta', async () => {
    const { ctx, model, b } = await setup();
    const mse = await build(plugin.components.find((c) => c.id === 'MSELoss') as ComponentDef);
    const loss = new MixUpLoss(mixUpLossSchema.parse({ alpha: 1 }), { kind: 'loss', loss: mse, name: 'MSELoss' });
    const s = loss.start(ctx);
    const got = tf.tidy(() => s.term({ model, logits: model.call(b.x), batch: b }).dataSync()[0]);
    s.end();
    expect(got).toBeCloseTo(mixed(model, b, loss.lastLambda!, (l, y) => torchMseLoss(l, tf.oneHot(tf.cast(y, 'int32'), 4).toFloat())), 5);

    const def = plugin.components.find((c) => c.id === 'MixUpLoss') as ComponentDef;
    const ls = (await build(def, { alpha: 1, crit_conf: { type: 'CrossEntropyLabelSmoothingLoss', args: { eta: 0.2 } } })) as MixUpLoss;
    const s2 = ls.start(ctx);
    const got2 = tf.tidy(() => s2.term({ model, logits: model.call(b.x), batch: b }).dataSync()[0]);
    s2.end();
    expect(got2).toBeCloseTo(mixed(model, b, ls.lastLambda!, (l, y) => crossEntropy(l, y, 0.2)), 5);
    tf.dispose([b.x, b.y]);
  });

  it('a batch whose labels are repeated (k subnets on one batch) mixes each copy with the same partner', async () => {
    const { ctx, model, b } = await setup();
    // a network that runs "two subnets": its outputs twice, concatenated
    const twice = { call: (x: tf.Tensor) => tf.concat([model.call(x), tf.mul(model.call(x), 2)], 0) } as unknown as Tiny;
    const yy = tf.tile<tf.Tensor1D>(b.y, [2]);
    const loss = new MixUpLoss(mixUpLossSchema.parse({ alpha: 1 }));
    const s = loss.start(ctx);
    const got = tf.tidy(() => s.term({ model: twice, logits: twice.call(b.x), batch: { x: b.x, y: yy } }).dataSync()[0]);
    const lam = loss.lastLambda!;
    const want = tf.tidy(() => {
      const xr = tf.reverse(b.x, 0);
      const logits = twice.call(tf.add(tf.mul(b.x, lam), tf.mul(xr, 1 - lam)));
      const yr = tf.tile<tf.Tensor1D>(tf.reverse(b.y, 0), [2]);
      return tf.add(tf.mul(crossEntropy(logits, yy), lam), tf.mul(crossEntropy(logits, yr), 1 - lam)).dataSync()[0];
    });
    expect(got).toBeCloseTo(want, 5);
    tf.dispose([b.x, b.y, yy]);
  });

  it('refs: a crit_conf that is a loss component is validated with the experiment; the cross-entropies are its own', () => {
    const def = plugin.components.find((c) => c.id === 'MixUpLoss') as ComponentDef;
    expect(def.refs!(def.schema.parse({ crit_conf: { type: 'MSELoss', reduction: 'sum' } }))).toEqual([{ kind: 'loss', spec: { type: 'MSELoss', reduction: 'sum' }, path: 'crit_conf' }]);
    expect(def.refs!(def.schema.parse({ crit_conf: 'cross_entropy_loss' }))).toEqual([]);
    expect(def.refs!(def.schema.parse({ crit_conf: 'LS' }))).toEqual([]);
  });

  it('alpha 0 is no mixing: λ = 1, the plain cross-entropy', async () => {
    const { ctx, model, b } = await setup();
    const s = new MixUpLoss(mixUpLossSchema.parse({ alpha: 0 })).start(ctx);
    const got = tf.tidy(() => s.term({ model, logits: model.call(b.x), batch: b }).dataSync()[0]);
    expect(got).toBeCloseTo(tf.tidy(() => crossEntropy(model.call(b.x), b.y).dataSync()[0]), 6);
    tf.dispose([b.x, b.y]);
  });

  it('a crit_conf that adds to the task loss, or a bad eta, is a coded error', async () => {
    const { ctx, b } = await setup();
    const additive: Loss = { start: (): LossSession => ({ term: () => tf.scalar(0), taskWeight: 1, end: () => {} }) };
    expect(() => new MixUpLoss(mixUpLossSchema.parse({}), { kind: 'loss', loss: additive, name: 'KnowledgeDistillLoss' }).start(ctx)).toThrow(
      expect.objectContaining({ code: 'MODNAS_E_LOSS_MIXUP_CRIT' }),
    );
    const def = plugin.components.find((c) => c.id === 'MixUpLoss') as ComponentDef;
    await expect(build(def, { crit_conf: { type: 'LS', args: { eta: 2 } } })).rejects.toMatchObject({ code: 'MODNAS_E_LOSS_MIXUP_CRIT' });
    tf.dispose([b.x, b.y]);
  });
});

describe('MultMetricsLoss and MultLogMetricsLoss', () => {
  const run = async (form: 'MultMetricsLoss' | 'MultLogMetricsLoss', values: number[], args: Record<string, unknown> = {}): Promise<{ losses: number[]; ces: number[] }> => {
    const split = tinySplit(8, [4, 4, 2], 4, 9);
    const model = new Tiny();
    let i = 0;
    const metric: MetricsFn = () => ({ params: values[i++] });
    const ctx = { ...makeEstimContext({ model, space: new ArchSpace(), trainer: await trainer(), train: split }), metrics: [metric] };
    const end = startLosses(ctx, [new MultMetricsLoss(form, multMetricsLossSchema.parse({ metrics: 'params', ...args }))]);
    const losses: number[] = [];
    const ces: number[] = [];
    for (let k = 0; k < values.length; k++) {
      const b = firstBatch(split);
      ces.push(tf.tidy(() => crossEntropy(model.call(b.x), b.y).dataSync()[0]));
      losses.push((await ctx.trainer.trainStep(model, b)).loss);
      tf.dispose([b.x, b.y]);
    }
    end();
    return { losses, ces };
  };

  it('multiplies the task loss by alpha·(m / target)^beta, the target a moving average of the metric', async () => {
    const { losses, ces } = await run('MultMetricsLoss', [100, 200, 50], { alpha: 2 });
    // target: 100 (its first value), then 100 + 0.1·(200 - 100) = 110, then 110 + 0.1·(50 - 110) = 104
    expect(losses[0]).toBeCloseTo(2 * ces[0], 4);
    expect(losses[1]).toBeCloseTo(2 * ces[1] * (200 / 110) ** 0.6, 4);
    expect(losses[2]).toBeCloseTo(2 * ces[2] * (50 / 104) ** 0.6, 4);
  });

  it('the log form: alpha·(log m / log target)^beta, from target_val', async () => {
    const { losses, ces } = await run('MultLogMetricsLoss', [400, 300], { target_val: 200, beta: 1 });
    // target 200 + 0.1·(400 - 200) = 220, then 220 + 0.1·(300 - 220) = 228
    expect(losses[0]).toBeCloseTo(ces[0] * (Math.log(400) / Math.log(220)), 4);
    expect(losses[1]).toBeCloseTo(ces[1] * (Math.log(300) / Math.log(228)), 4);
  });

  it('no metric named, a metric the estimator lacks, or an asynchronous one: coded errors', async () => {
    const model = new Tiny();
    const base = makeEstimContext({ model, space: new ArchSpace(), trainer: await trainer(), train: tinySplit(8, [4, 4, 2], 4, 9) });
    expect(() => new MultMetricsLoss('MultMetricsLoss', multMetricsLossSchema.parse({})).start(base)).toThrow(expect.objectContaining({ code: 'MODNAS_E_LOSS_METRICS_KEY' }));
    const l = new MultMetricsLoss('MultMetricsLoss', multMetricsLossSchema.parse({ metrics: 'flops' }));
    const err = (() => {
      try {
        l.factor({ ...base, metrics: [() => ({ params: 3 })] }, model);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ModnasError);
    expect((err as ModnasError).code).toBe('MODNAS_E_LOSS_METRICS_KEY');
    expect((err as Error).message).toContain('it has: params');
    expect(() => l.factor({ ...base, metrics: [async () => ({ flops: 3 })] }, model)).toThrow(expect.objectContaining({ code: 'MODNAS_E_LOSS_METRICS_ASYNC' }));
  });

  it('trainEpoch runs its prepare: the metric is read once per training step', async () => {
    const split = tinySplit(16, [4, 4, 2], 4, 9);
    const model = new Tiny();
    let calls = 0;
    const ctx = { ...makeEstimContext({ model, space: new ArchSpace(), trainer: await trainer(), train: split }), metrics: [(() => ({ params: 10 + calls++ })) as MetricsFn] };
    const end = startLosses(ctx, [new MultMetricsLoss('MultMetricsLoss', multMetricsLossSchema.parse({ metrics: 'params', mode: 'train' }))]);
    const stats = await trainEpoch(ctx, { epoch: 0, epochs: 1 });
    end();
    expect(stats.steps).toBe(2);
    expect(calls).toBe(2);
  });
});
