import type { Assignment, CategoricalParam, SearchFeedback, SearchOptimizer, TrialResult } from '@modnas/core';
import { ArchSpace, Module, Rng, Sequential, tf } from '@modnas/core';
import { recalibrateBatchNorm } from '@modnas/kit-estim';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Identity, Linear, ReLU } from '@modnas/nn';
import { describeConformance, makeEstimContext, tinySplit } from '@modnas/testkit';
import { DefaultTrainer, defaultTrainerSchema } from '@modnas/trainer-default';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { SubNetEstimator, subNetEstimatorSchema } from './subnet-estimator.js';

/** conv -> BN -> (relu | identity | neg, by a categorical param) -> BN -> pool -> linear. */
class ChoiceNet extends Module {
  readonly stem: Sequential;
  readonly bn2: BatchNorm2d;
  readonly head: Linear;
  readonly seen: string[] = [];
  readonly ops: Record<string, Module> = { relu: new ReLU(), id: new Identity() };
  constructor(readonly choice: CategoricalParam) {
    super();
    this.stem = this.addModule('stem', new Sequential([new Conv2d(3, 4, { kernelSize: 3 }), new BatchNorm2d(4)]));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(4));
    this.head = this.addModule('head', new Linear(4, 4));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const v = String(this.choice.value);
    if (!this.training) this.seen.push(v);
    const h = this.stem.call(x);
    const o = v === 'neg' ? tf.neg(h) : this.ops[v].call(h);
    return this.head.call(new GlobalAvgPool().call(this.bn2.call(o)));
  }
}

/** Proposes a fixed list of candidates, n at a time; records what it was told. */
class ListOptim implements SearchOptimizer {
  i = 0;
  fed: TrialResult[][] = [];
  asked: number[] = [];
  constructor(readonly list: Assignment[]) {}
  hasNext(): boolean {
    return this.i < this.list.length;
  }
  next(n: number): Assignment[] {
    this.asked.push(n);
    const out = this.list.slice(this.i, this.i + n);
    this.i += out.length;
    return out;
  }
  step(fb: SearchFeedback): void {
    this.fed.push(fb.results);
  }
  state(): unknown {
    return {};
  }
  restore(): void {}
}

function setup(list: Assignment[]) {
  const space = new ArchSpace();
  const choice = space.categorical({ name: 'op', choices: ['relu', 'id', 'neg'] });
  const model = new ChoiceNet(choice);
  const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ batch_size: 8, lr: 0.05 }), space);
  const optim = new ListOptim(list);
  const ctx = makeEstimContext({ model, space, trainer, optim, train: tinySplit(32), valid: tinySplit(16, undefined, undefined, 1) });
  const done = (): void => {
    trainer.dispose();
    model.dispose();
    space.dispose();
  };
  return { space, choice, model, trainer, optim, ctx, done };
}

const ops = (...v: string[]): Assignment[] => v.map((op) => ({ op }));

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

describe('SubNetEstimator', () => {
  it('evaluates exactly the proposed candidates, in order, and feeds every result back', async () => {
    const s = setup(ops('id', 'neg', 'relu', 'id', 'neg'));
    const base = tf.memory().numTensors;
    const events: string[] = [];
    s.ctx.events.on('candidate:end', (p) => void events.push(String(p.arch.op)));
    const r = await new SubNetEstimator(subNetEstimatorSchema.parse({ epochs: 0, arch_update_batch: 2, num_bn_batch: 2 })).run(s.ctx);
    const stored = s.ctx.store.read('candidates');
    expect(stored.map((c) => (c.arch as Assignment).op)).toEqual(['id', 'neg', 'relu', 'id', 'neg']);
    expect(events).toEqual(['id', 'neg', 'relu', 'id', 'neg']);
    // validated with the candidate applied (the model saw each value in eval mode, in order)
    expect([...new Set(s.model.seen)]).toEqual(['id', 'neg', 'relu']);
    expect(s.optim.asked).toEqual([2, 2, 2]);
    expect(s.optim.fed.map((f) => f.map((t) => t.arch.op))).toEqual([['id', 'neg'], ['relu', 'id'], ['neg']]);
    const all = s.optim.fed.flat();
    expect(all.every((t) => t.score === t.metrics.acc && typeof t.metrics.loss === 'number')).toBe(true);
    const bestScore = Math.max(...all.map((t) => t.score));
    expect(r.best?.score).toBe(bestScore);
    expect(s.choice.value).toBe(r.best?.arch.op); // left as the best
    expect(r.metrics.candidates).toBe(5);
    expect(tf.memory().numTensors).toBe(base);
    s.done();
  });

  it('stops by num_candidates and by rounds, and feeds pending results at the end', async () => {
    const s = setup(ops('id', 'neg', 'relu', 'id', 'neg', 'relu'));
    await new SubNetEstimator(subNetEstimatorSchema.parse({ num_candidates: 3, arch_update_batch: 2, num_bn_batch: 1 })).run(s.ctx);
    expect(s.optim.asked).toEqual([2, 1]);
    expect(s.ctx.store.read('candidates')).toHaveLength(3);
    s.done();
    const t = setup(ops('id', 'neg', 'relu', 'id', 'neg', 'relu'));
    await new SubNetEstimator(subNetEstimatorSchema.parse({ epochs: 2, arch_update_epoch_start: 5, num_bn_batch: 1 })).run(t.ctx);
    expect(t.optim.fed.map((f) => f.length)).toEqual([2]);
    t.done();
  });

  it('recalibrates batch norm per candidate (and not with num_bn_batch 0); short training leaves the supernet weights as they were', async () => {
    const s = setup(ops('neg', 'id'));
    const bn = s.model.bn2;
    const w0 = s.model.parameters().map((p) => Array.from(p.dataSync()));
    await new SubNetEstimator(subNetEstimatorSchema.parse({ num_bn_batch: 0, train_epochs: 0 })).run(s.ctx);
    expect(Array.from(bn.runningMean.dataSync())).toEqual([0, 0, 0, 0]);
    const trained: number[] = [];
    s.ctx.events.on('step:end', (p) => void trained.push(p.step));
    s.optim.i = 0;
    await new SubNetEstimator(subNetEstimatorSchema.parse({ num_bn_batch: 3, train_epochs: 1 })).run(s.ctx);
    expect(trained).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(Array.from(bn.runningMean.dataSync()).some((v) => v !== 0)).toBe(true);
    expect(s.model.parameters().map((p) => Array.from(p.dataSync()))).toEqual(w0);
    s.done();
  });

  it('early_stop: candidates outside the top 1/η at a rung stop there; the others train every epoch; weights restored', async () => {
    const s = setup(ops('id', 'neg', 'relu', 'id', 'neg', 'relu', 'id'));
    const w0 = s.model.parameters().map((p) => Array.from(p.dataSync()));
    let steps = 0;
    s.ctx.events.on('step:end', () => void steps++);
    await new SubNetEstimator(subNetEstimatorSchema.parse({ train_epochs: 3, num_bn_batch: 2, early_stop: { min_epochs: 1, reduction_factor: 3 } })).run(s.ctx);
    const results = s.optim.fed.flat();
    expect(results).toHaveLength(7);
    const stopped = results.filter((r) => r.metrics.early_stopped === 1);
    const full = results.filter((r) => r.metrics.early_stopped === 0);
    expect(results[0].metrics.early_stopped).toBe(0); // the first is the best of one
    for (const r of stopped) expect(r.metrics.epochs_trained).toBe(1);
    for (const r of full) expect(r.metrics.epochs_trained).toBe(3);
    expect(stopped.length).toBeGreaterThan(0);
    expect(steps).toBe(4 * stopped.length + 12 * full.length); // 32 images, batch 8: 4 steps an epoch
    expect(s.model.parameters().map((p) => Array.from(p.dataSync()))).toEqual(w0);
    s.done();
  });

  it('early_stop without a rung below train_epochs fails with a coded error at estim.<name>.early_stop', async () => {
    const s = setup(ops('id'));
    const run = new SubNetEstimator(subNetEstimatorSchema.parse({ train_epochs: 1, early_stop: {} })).run(s.ctx);
    await expect(run).rejects.toMatchObject({ code: 'MODNAS_E_ESTIM_EARLY_STOP', where: expect.stringMatching(/early_stop$/) });
    s.done();
  });

  it("scores by another metric with score: '-metric'", async () => {
    const s = setup(ops('relu', 'id'));
    s.ctx.metrics.push((m: Module) => ({ cost: String((m as ChoiceNet).choice.value) === 'id' ? 1 : 5 }));
    const r = await new SubNetEstimator(subNetEstimatorSchema.parse({ score: '-cost', num_bn_batch: 1 })).run(s.ctx);
    expect(r.best?.arch).toEqual({ op: 'id' });
    expect(r.best?.score).toBe(-1);
    s.done();
  });
});

describe('recalibrateBatchNorm on BatchNorm2d', () => {
  it('sets running mean and variance to the averages over the batches', () => {
    const model = new Sequential([new BatchNorm2d(3)]);
    const data = tinySplit(24, [4, 4, 3]);
    model.eval();
    const used = recalibrateBatchNorm(model, data, { batches: 3, batchSize: 8, rng: new Rng(0) });
    expect(used).toBe(3);
    const bn = model.at(0) as BatchNorm2d;
    // all 24 examples in 3 equal batches: running mean = mean over the split; running var = mean of unbiased batch variances
    const xs: number[][] = [[], [], []];
    const vars: number[][] = [[], [], []];
    for (const b of data.batches(8, { shuffle: true, rng: new Rng(0) })) {
      const v = b.x.dataSync();
      for (let c = 0; c < 3; c++) {
        const ch = Array.from(v).filter((_, j) => j % 3 === c);
        const m = ch.reduce((a, z) => a + z, 0) / ch.length;
        xs[c].push(...ch);
        vars[c].push(ch.reduce((a, z) => a + (z - m) ** 2, 0) / (ch.length - 1));
      }
      tf.dispose([b.x, b.y]);
    }
    const mean = Array.from(bn.runningMean.dataSync());
    const vr = Array.from(bn.runningVar.dataSync());
    for (let c = 0; c < 3; c++) {
      expect(mean[c]).toBeCloseTo(xs[c].reduce((a, z) => a + z, 0) / xs[c].length, 4);
      expect(vr[c]).toBeCloseTo(vars[c].reduce((a, z) => a + z, 0) / 3, 4);
    }
    expect(model.training).toBe(false);
    model.dispose();
  });
});

describe('SubNetEstimator: divergence is a result, not a score', () => {
  /** The trainer reports a NaN loss whenever the candidate in `bad` is applied. */
  function diverging(s: ReturnType<typeof setup>, bad: readonly string[]): void {
    const step = s.trainer.trainStep.bind(s.trainer);
    s.trainer.trainStep = async (model, batch) => {
      const r = await step(model, batch);
      return bad.includes(String(s.choice.value)) ? { ...r, loss: Number.NaN } : r;
    };
  }

  it('marks a candidate whose training loss is NaN as diverged (no score), never the best, and goes on', async () => {
    const s = setup(ops('neg', 'id', 'relu'));
    diverging(s, ['neg']);
    const warnings: string[] = [];
    const ctx = { ...s.ctx, logger: { ...s.ctx.logger, warn: (m: string) => void warnings.push(m) } };
    const base = tf.memory().numTensors;
    const r = await new SubNetEstimator(subNetEstimatorSchema.parse({ num_bn_batch: 1, train_epochs: 1 })).run(ctx);
    s.trainer.reset(); // momentum slots are the trainer's, not a leak of the diverged candidate
    expect(tf.memory().numTensors).toBe(base);
    const stored = s.ctx.store.read('candidates');
    expect(stored.map((c) => [(c.arch as Assignment).op, c.status, c.score === null])).toEqual([
      ['neg', 'diverged', true],
      ['id', 'done', false],
      ['relu', 'done', false],
    ]);
    expect(r.best?.arch.op).not.toBe('neg');
    expect(r.metrics.diverged).toBe(1);
    expect(s.optim.fed.flat().find((t) => t.arch.op === 'neg')?.status).toBe('diverged');
    expect(warnings.some((w) => /candidate 1 diverged/.test(w))).toBe(true);
    s.done();
  });

  it('fails with MODNAS_E_TRAIN_DIVERGED, naming the learning rate, when every candidate diverges', async () => {
    const s = setup(ops('neg', 'id'));
    diverging(s, ['neg', 'id', 'relu']);
    const run = new SubNetEstimator(subNetEstimatorSchema.parse({ num_bn_batch: 1, train_epochs: 1 })).run(s.ctx);
    await expect(run).rejects.toMatchObject({ code: 'MODNAS_E_TRAIN_DIVERGED' });
    await expect(run).rejects.toThrow(/every one of the 2 candidates diverged[\s\S]*trainer\.lr/);
    s.done();
  });
});
