import type { Batch } from '@modnas/core';
import { ArchSpace, Module, Sequential, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear, ReLU, crossEntropy } from '@modnas/nn';
import { describeConformance, makeBuildContext, tinySplit } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { DefaultTrainer, clipByGlobalNorm, defaultTrainer, defaultTrainerSchema } from './default-trainer.js';
import plugin from './index.js';

function tinyNet(classes = 4, chn = 3): Module {
  return new Sequential([new Conv2d(chn, 4, { kernelSize: 3 }), new BatchNorm2d(4), new ReLU(), new GlobalAvgPool(), new Linear(4, classes)]);
}

/** One weight w; logits = [w*x, -w*x] for scalar inputs x of shape [N,1,1,1]. */
class OneWeight extends Module {
  readonly w: tf.Variable;
  constructor(w0: number) {
    super();
    this.w = this.addParam('w', tf.scalar(w0));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const z = tf.mul(tf.reshape(x, [-1, 1]), this.w);
    return tf.concat([z, tf.neg(z)], 1);
  }
}

/** dL/dw of mean CE over examples (label 0) for the OneWeight model, by hand: d/dw log(1+e^{-2wx}). */
function handGrad(w: number, xs: number[]): number {
  return xs.reduce((acc, x) => acc + (-2 * x) / (1 + Math.exp(2 * w * x)), 0) / xs.length;
}

function batchOf(xs: number[], label = 0): Batch {
  return { x: tf.tensor4d(xs, [xs.length, 1, 1, 1]), y: tf.tensor1d(xs.map(() => label), 'int32') };
}

const trainerWith = (cfg: Record<string, unknown>, space?: ArchSpace): DefaultTrainer => new DefaultTrainer(defaultTrainerSchema.parse(cfg), space);
const plain = { lr_scheduler: 'none', grad_clip: 0, weight_decay: 0, momentum: 0 };

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    DefaultTrainer: async (t) => {
      const trainer = t as DefaultTrainer;
      const model = tinyNet();
      for (const b of tinySplit(8).batches(4)) {
        await trainer.trainStep(model, b);
        await trainer.evalStep(model, b);
        tf.dispose([b.x, b.y]);
      }
      trainer.reset();
      model.dispose();
    },
  },
});

describe('DefaultTrainer', () => {
  it('exposes the keys the seed-format mapper emits', () => {
    const c = defaultTrainerSchema.parse({
      optimizer: 'adam', lr: 0.1, momentum: 0.5, weight_decay: 1e-4, nesterov: true, lr_scheduler: 'step', lr_min: 0, step_size: 3, gamma: 0.5, batch_size: 16, grad_clip: 1,
    });
    expect(c.batch_size).toBe(16);
    expect(defaultTrainerSchema.parse({}).batch_size).toBe(64);
  });

  it('SGD with momentum and L2 weight decay matches a hand-computed update, step by step', async () => {
    const lr = 0.1, mom = 0.9, wd = 0.01;
    const xs = [0.5, -1, 2];
    const model = new OneWeight(0.3);
    const t = trainerWith({ ...plain, lr, momentum: mom, weight_decay: wd });
    let w = 0.3;
    let buf: number | undefined;
    for (let k = 0; k < 4; k++) {
      const d = handGrad(w, xs) + wd * w;
      buf = buf === undefined ? d : mom * buf + d;
      w -= lr * buf;
      const b = batchOf(xs);
      await t.trainStep(model, b);
      tf.dispose([b.x, b.y]);
      expect(model.w.dataSync()[0]).toBeCloseTo(w, 6);
    }
    t.dispose();
    model.dispose();
  });

  it('Nesterov, decoupled decay and Adam match their formulas', async () => {
    const xs = [1, -0.5];
    // nesterov: d' = d + mom * buf
    {
      const model = new OneWeight(-0.2);
      const t = trainerWith({ ...plain, lr: 0.2, momentum: 0.8, nesterov: true });
      let w = -0.2;
      let buf: number | undefined;
      for (let k = 0; k < 3; k++) {
        const d = handGrad(w, xs);
        buf = buf === undefined ? d : 0.8 * buf + d;
        w -= 0.2 * (d + 0.8 * buf);
        const b = batchOf(xs);
        await t.trainStep(model, b);
        tf.dispose([b.x, b.y]);
      }
      expect(model.w.dataSync()[0]).toBeCloseTo(w, 6);
      t.dispose();
      model.dispose();
    }
    // decoupled: w <- w(1 - lr wd) - lr g
    {
      const model = new OneWeight(0.7);
      const t = trainerWith({ ...plain, lr: 0.1, weight_decay: 0.5, decoupled_weight_decay: true });
      const g = handGrad(0.7, xs);
      const b = batchOf(xs);
      await t.trainStep(model, b);
      tf.dispose([b.x, b.y]);
      expect(model.w.dataSync()[0]).toBeCloseTo(0.7 * (1 - 0.05) - 0.1 * g, 6);
      t.dispose();
      model.dispose();
    }
    // adam with L2
    {
      const model = new OneWeight(0.4);
      const t = trainerWith({ ...plain, optimizer: 'adam', lr: 0.01, weight_decay: 0.1, betas: [0.9, 0.99], eps: 1e-8 });
      let w = 0.4, m = 0, v = 0;
      for (let k = 1; k <= 3; k++) {
        const d = handGrad(w, xs) + 0.1 * w;
        m = 0.9 * m + 0.1 * d;
        v = 0.99 * v + 0.01 * d * d;
        w -= (0.01 * (m / (1 - 0.9 ** k))) / (Math.sqrt(v / (1 - 0.99 ** k)) + 1e-8);
        const b = batchOf(xs);
        await t.trainStep(model, b);
        tf.dispose([b.x, b.y]);
      }
      expect(model.w.dataSync()[0]).toBeCloseTo(w, 5);
      t.dispose();
      model.dispose();
    }
  });

  it('refuses the schedules that torch refuses, naming the key', () => {
    const code = (cfg: Record<string, unknown>): string | undefined => {
      try {
        trainerWith(cfg).dispose();
        return undefined;
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
    };
    // OneCycleLR cycles momentum or beta1: Adagrad has neither; CyclicLR cycles only `momentum`
    expect(code({ optimizer: 'adagrad', lr_scheduler: 'onecycle' })).toMatch(/MODNAS_E_TRAINER_SCHEDULE: .*onecycle cycles the momentum, and optimizer adagrad/);
    expect(code({ optimizer: 'adagrad', lr_scheduler: 'onecycle', cycle_momentum: false })).toBeUndefined();
    expect(code({ optimizer: 'adam', lr_scheduler: 'onecycle' })).toBeUndefined();
    expect(code({ optimizer: 'adam', lr_scheduler: 'cyclic' })).toMatch(/cyclic cycles the momentum, and optimizer adam has betas/);
    expect(code({ lr_scheduler: 'sequential', schedulers: [{ lr_scheduler: 'step' }, { lr_scheduler: 'exponential' }], milestones: [] })).toMatch(/2 schedulers and 0 milestones/);
    expect(code({ lr_scheduler: 'sequential', schedulers: [{ lr_scheduler: 'step' }, { lr_scheduler: 'exponential' }], milestones: [3] })).toBeUndefined();
    // a cosine's torch step is not a factor of the LR: its chain is not the product of the members
    expect(code({ lr_scheduler: 'chained', schedulers: [{ lr_scheduler: 'exponential' }, { lr_scheduler: 'cosine' }] })).toMatch(/schedulers\[1\] cosine cannot be chained/);
    expect(() => defaultTrainerSchema.parse({ lr_scheduler: 'chained', schedulers: [{ lr_scheduler: 'sequential' }] })).toThrow();
  });

  it('LR schedules: cosine, step, none and warmup', async () => {
    const cos = trainerWith({ lr: 0.1, lr_min: 0.01, lr_scheduler: 'cosine' });
    const want = (e: number, T: number): number => 0.01 + (0.09 * (1 + Math.cos((Math.PI * e) / T))) / 2;
    for (const e of [0, 1, 2, 5, 9]) {
      cos.setEpoch(e, 10);
      expect(cos.currentLr()).toBeCloseTo(want(e, 10), 10);
    }
    cos.setEpoch(10, 10);
    expect(cos.currentLr()).toBeCloseTo(0.01, 10);
    const tmax = trainerWith({ lr: 0.1, lr_min: 0, t_max: 4 });
    tmax.setEpoch(2, 100);
    expect(tmax.currentLr()).toBeCloseTo(0.05, 10);
    const step = trainerWith({ lr: 0.1, lr_scheduler: 'step', step_size: 3, gamma: 0.5 });
    expect([0, 2, 3, 5, 6, 9].map((e) => (step.setEpoch(e, 10), step.currentLr()))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]);
    const none = trainerWith({ lr: 0.3, lr_scheduler: 'none' });
    none.setEpoch(7, 10);
    expect(none.currentLr()).toBe(0.3);
    // warmup: lr*(s+1)/W for the first W steps after a reset
    const warm = trainerWith({ ...plain, lr: 0.4, warmup_steps: 4 });
    const model = new OneWeight(0.1);
    const seen: number[] = [];
    for (let k = 0; k < 6; k++) {
      seen.push(warm.currentLr());
      const b = batchOf([1]);
      await warm.trainStep(model, b);
      tf.dispose([b.x, b.y]);
    }
    expect(seen.map((v) => +v.toFixed(10))).toEqual([0.1, 0.2, 0.3, 0.4, 0.4, 0.4]);
    warm.reset();
    expect(warm.currentLr()).toBeCloseTo(0.1, 10);
    warm.dispose();
    model.dispose();
  });

  it('label smoothing gives the smoothed cross-entropy', async () => {
    const logits = [[2, 0, -1], [0.5, 0.5, 3]];
    const labels = [0, 2];
    const eps = 0.2;
    let want = 0;
    for (let i = 0; i < 2; i++) {
      const lse = Math.log(logits[i].reduce((a, z) => a + Math.exp(z), 0));
      const logp = logits[i].map((z) => z - lse);
      want += -logp.reduce((a, lp, j) => a + ((j === labels[i] ? 1 - eps : 0) + eps / 3) * lp, 0);
    }
    want /= 2;
    class Fixed extends Module {
      forward(): tf.Tensor {
        return tf.tensor2d(logits);
      }
    }
    const t = trainerWith({ label_smoothing: eps });
    const b: Batch = { x: tf.zeros([2, 1, 1, 1]), y: tf.tensor1d(labels, 'int32') };
    const r = await t.evalStep(new Fixed(), b);
    expect(r.loss).toBeCloseTo(want, 5);
    expect(r.correct).toBe(2);
    tf.dispose([b.x, b.y]);
  });

  it('clips the global gradient norm', async () => {
    const out = tf.tidy(() => clipByGlobalNorm([tf.tensor1d([3, 0]), tf.tensor1d([0, 4])], 1).map((g) => Array.from(g.dataSync())));
    expect(out[0][0]).toBeCloseTo(0.6, 5);
    expect(out[1][1]).toBeCloseTo(0.8, 5);
    const kept = tf.tidy(() => Array.from(clipByGlobalNorm([tf.tensor1d([0.3, 0.4])], 1)[0].dataSync()));
    expect(kept[0]).toBeCloseTo(0.3, 6);
    // through trainStep: |g| > clip, so the step is lr * clip * sign(g)
    const model = new OneWeight(0);
    const t = trainerWith({ ...plain, lr: 1, grad_clip: 0.01 });
    const b = batchOf([5, 5]);
    const g = handGrad(0, [5, 5]);
    await t.trainStep(model, b);
    tf.dispose([b.x, b.y]);
    expect(model.w.dataSync()[0]).toBeCloseTo(-0.01 * Math.sign(g), 5);
    t.dispose();
    model.dispose();
  });

  it('decreases the loss on a tiny learnable problem', async () => {
    const model = tinyNet();
    const t = trainerWith({ lr: 0.1, batch_size: 16, lr_scheduler: 'none' });
    const data = tinySplit(64);
    const lossOf = async (): Promise<number> => {
      model.eval();
      let l = 0, n = 0;
      for (const b of data.batches(64)) {
        const r = await t.evalStep(model, b);
        l += r.loss * r.count;
        n += r.count;
        tf.dispose([b.x, b.y]);
      }
      model.train();
      return l / n;
    };
    const before = await lossOf();
    for (let e = 0; e < 15; e++) {
      for (const b of data.batches(16, { shuffle: true })) {
        await t.trainStep(model, b);
        tf.dispose([b.x, b.y]);
      }
    }
    expect(await lossOf()).toBeLessThan(before * 0.8);
    t.dispose();
    model.dispose();
  });

  it('leaks no tensors over many steps and frees its slots on dispose', async () => {
    const model = tinyNet();
    const base = tf.memory().numTensors;
    const t = trainerWith({ optimizer: 'adam', batch_size: 8 });
    const data = tinySplit(16);
    const step = async (): Promise<void> => {
      for (const b of data.batches(8)) {
        await t.trainStep(model, b);
        await t.evalStep(model, b);
        t.loss(model, b).dispose();
        tf.dispose([b.x, b.y]);
      }
    };
    await step();
    const after1 = tf.memory().numTensors;
    expect(after1 - base).toBe(2 * model.parameters().length); // Adam m and v per weight
    for (let k = 0; k < 20; k++) await step();
    expect(tf.memory().numTensors).toBe(after1);
    t.dispose();
    expect(tf.memory().numTensors).toBe(base);
    model.dispose();
  });

  it('leaks no tensors with any optimizer: its slot buffers, kept across steps, freed on dispose', async () => {
    const buffersPerWeight: Record<string, number> = { sgd: 1, adam: 2, adamw: 3, rmsprop: 3, adagrad: 1, adadelta: 2, adamax: 2, nadam: 2, radam: 2, asgd: 0, rprop: 2 };
    const extra: Record<string, Record<string, unknown>> = { adamw: { amsgrad: true }, rmsprop: { centered: true, momentum: 0.5 } };
    const model = tinyNet();
    const data = tinySplit(8);
    const weights = model.parameters().filter((v) => v.trainable).length;
    for (const optimizer of Object.keys(buffersPerWeight)) {
      const base = tf.memory().numTensors;
      const t = trainerWith({ optimizer, batch_size: 8, ...extra[optimizer] });
      const step = async (): Promise<void> => {
        for (const b of data.batches(8)) {
          await t.trainStep(model, b);
          tf.dispose([b.x, b.y]);
        }
      };
      await step();
      expect(tf.memory().numTensors - base, optimizer).toBe(buffersPerWeight[optimizer] * weights);
      await step();
      await step();
      expect(tf.memory().numTensors - base, optimizer).toBe(buffersPerWeight[optimizer] * weights);
      t.dispose();
      expect(tf.memory().numTensors, optimizer).toBe(base);
    }
    model.dispose();
  });

  it('restores a checkpoint written before slot buffers had names (m, v)', async () => {
    const a = new OneWeight(0.1);
    const t = trainerWith({ ...plain, momentum: 0.9 });
    const b = batchOf([1, 2]);
    await t.trainStep(a, b); // creates the slot; its state names the weight
    const name = (t.state() as { slots: Array<{ name: string }> }).slots[0].name;
    const old = { epoch: 0, totalEpochs: 1, stepsSinceReset: 1, slots: [{ name, shape: [], t: 1, m: [0.5] }] };
    t.restore(old);
    const w = a.w.dataSync()[0];
    const g = handGrad(w, [1, 2]);
    await t.trainStep(a, b);
    expect(a.w.dataSync()[0]).toBeCloseTo(w - 0.025 * (0.9 * 0.5 + g), 6);
    tf.dispose([b.x, b.y]);
    t.dispose();
    a.dispose();
  });

  it('leaves arch params and weights without a gradient alone', async () => {
    const space = new ArchSpace();
    const alpha = space.tensor({ shape: [2], init: [0.5, -0.5] });
    class WithAlpha extends Module {
      readonly used: Linear;
      readonly unused: Linear;
      constructor() {
        super();
        this.used = this.addModule('used', new Linear(1, 2));
        this.unused = this.addModule('unused', new Linear(1, 2));
      }
      forward(x: tf.Tensor): tf.Tensor {
        return tf.add(this.used.call(tf.reshape(x, [-1, 1])), alpha.variable);
      }
    }
    const m = new WithAlpha();
    const before = Array.from(m.unused.weight.dataSync());
    const t = trainerWith({ lr: 0.5, weight_decay: 0.1 }, space);
    const b = batchOf([1, 2]);
    const w0 = Array.from(m.used.weight.dataSync());
    await t.trainStep(m, b);
    tf.dispose([b.x, b.y]);
    expect(Array.from(alpha.variable.dataSync())).toEqual([0.5, -0.5]);
    expect(Array.from(m.unused.weight.dataSync())).toEqual(before);
    expect(Array.from(m.used.weight.dataSync())).not.toEqual(w0);
    t.dispose();
    m.dispose();
    space.dispose();
  });

  it('adds registered loss terms by mode, and removes them', async () => {
    const model = new OneWeight(0.2);
    const t = trainerWith({ ...plain });
    const b = batchOf([1, -1]);
    const task = t.loss(model, b);
    const taskV = task.dataSync()[0];
    task.dispose();
    const off = t.addLossTerm(() => tf.scalar(1.5), { mode: 'arch', name: 'lat' });
    const withTerm = t.loss(model, b);
    expect(withTerm.dataSync()[0]).toBeCloseTo(taskV + 1.5, 6);
    withTerm.dispose();
    model.eval();
    expect((await t.evalStep(model, b)).loss).toBeCloseTo(taskV, 6); // 'arch' only: not in validation
    const offAll = t.addLossTerm(({ model: m }) => tf.mul(tf.square((m as OneWeight).w), 2), { mode: 'all' });
    expect((await t.evalStep(model, b)).loss).toBeCloseTo(taskV + 2 * 0.04, 5);
    // the term's gradient reaches the weights: d/dw (CE + 2 w^2) = g + 4w
    const g = handGrad(0.2, [1, -1]);
    await t.trainStep(model, b);
    expect(model.w.dataSync()[0]).toBeCloseTo(0.2 - 0.025 * (g + 0.8), 5);
    off();
    offAll();
    const back = t.loss(model, b);
    expect(back.dataSync()[0]).toBeCloseTo(crossEntropyOf(model, b), 6);
    back.dispose();
    tf.dispose([b.x, b.y]);
    t.dispose();
    model.dispose();
  });

  it('saves and restores its optimizer state', async () => {
    const xs = [1, 2];
    const a = new OneWeight(0.1);
    const t1 = trainerWith({ ...plain, momentum: 0.9 });
    for (let k = 0; k < 2; k++) {
      const b = batchOf(xs);
      await t1.trainStep(a, b);
      tf.dispose([b.x, b.y]);
    }
    const saved = JSON.parse(JSON.stringify(t1.state()));
    // a second trainer continuing from the state must take the same step as the first
    const t2 = trainerWith({ ...plain, momentum: 0.9 });
    t2.restore(saved);
    const w = a.w.dataSync()[0];
    const b = batchOf(xs);
    await t1.trainStep(a, b);
    const w1 = a.w.dataSync()[0];
    a.w.assign(tf.scalar(w));
    await t2.trainStep(a, b);
    expect(a.w.dataSync()[0]).toBeCloseTo(w1, 7);
    expect(t2.momentumBuffer(a.w)).toBeDefined();
    tf.dispose([b.x, b.y]);
    t1.dispose();
    t2.dispose();
    a.dispose();
  });

  it('is created by its component with the arch space of the context', async () => {
    const ctx = makeBuildContext();
    const t = await defaultTrainer.create(defaultTrainer.schema.parse({ batch_size: 8 }), ctx, undefined);
    expect(t.batchSize).toBe(8);
    t.dispose();
  });
});

function crossEntropyOf(model: Module, b: Batch): number {
  return tf.tidy(() => crossEntropy(model.call(b.x), b.y).dataSync()[0]);
}
