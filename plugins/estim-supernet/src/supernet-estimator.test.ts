import type { Assignment, SearchFeedback, SearchOptimizer, TensorParam } from '@modnas/core';
import { ArchSpace, Module, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import { describeConformance, makeEstimContext, tinySplit } from '@modnas/testkit';
import { DefaultTrainer, defaultTrainerSchema } from '@modnas/trainer-default';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { SuperNetEstimator, archUpdateSteps, superNetEstimatorSchema } from './supernet-estimator.js';

/** conv -> BN -> softmax(alpha)-weighted sum of {relu, identity} -> pool -> linear. */
class TinySuperNet extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly head: Linear;
  constructor(readonly alpha: TensorParam) {
    super();
    this.conv = this.addModule('conv', new Conv2d(3, 4, { kernelSize: 3 }));
    this.bn = this.addModule('bn', new BatchNorm2d(4));
    this.head = this.addModule('head', new Linear(4, 4));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const h = this.bn.call(this.conv.call(x));
    const w = tf.softmax(this.alpha.variable);
    const mixed = tf.add(tf.mul(tf.relu(h), w.gather([0]).reshape([])), tf.mul(h, w.gather([1]).reshape([])));
    return this.head.call(new GlobalAvgPool().call(mixed));
  }
}

/** A gradient optimizer stand-in: plain gradient descent on α with the valid batch; records calls. */
class FakeGradOptim implements SearchOptimizer {
  calls: Array<{ trained: number }> = [];
  batches: tf.Tensor[] = [];
  nexts = 0;
  constructor(
    readonly alpha: TensorParam,
    readonly trained: () => number,
    readonly best: Assignment = {},
  ) {}
  hasNext(): boolean {
    return true;
  }
  next(): Assignment[] {
    this.nexts++;
    return [this.best];
  }
  step(fb: SearchFeedback): void {
    expect(fb.results).toEqual([]);
    const g = fb.grad!;
    this.calls.push({ trained: this.trained() });
    const b = g.validBatch();
    this.batches.push(b.x);
    const { value, grads } = tf.variableGrads(() => g.loss(b), [this.alpha.variable]);
    value.dispose();
    tf.tidy(() => this.alpha.variable.assign(tf.sub(this.alpha.variable, tf.mul(grads[this.alpha.variable.name], 1.0))));
    tf.dispose(grads);
  }
  state(): unknown {
    return {};
  }
  restore(): void {}
}

function setup(trainSize = 32, validSize = 16) {
  const space = new ArchSpace();
  const alpha = space.tensor({ shape: [2], init: [0, 0] });
  const choice = space.categorical({ name: 'c', choices: ['a', 'b'] });
  const model = new TinySuperNet(alpha);
  const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ batch_size: 8, lr: 0.05 }), space);
  let trained = 0;
  const orig = trainer.trainStep.bind(trainer);
  trainer.trainStep = (m, b) => (trained++, orig(m, b));
  const optim = new FakeGradOptim(alpha, () => trained, { c: 'b' });
  const ctx = makeEstimContext({ model, space, trainer, optim, train: tinySplit(trainSize), valid: tinySplit(validSize, undefined, undefined, 1) });
  const done = (): void => {
    trainer.dispose();
    model.dispose();
    space.dispose();
  };
  return { space, alpha, choice, model, trainer, optim, ctx, done, trained: () => trained };
}

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

describe('archUpdateSteps (the original rule)', () => {
  it('-1 spreads one update per valid batch over the epoch, 0 updates at the last step, n every n steps', () => {
    expect(archUpdateSteps(4, 2, -1)).toEqual([1, 3]);
    expect(archUpdateSteps(6, 4, -1)).toEqual([1, 2, 4, 5]); // every 1.5 steps
    expect(archUpdateSteps(3, 6, -1)).toEqual([0, 1, 2]); // at most one per step
    expect(archUpdateSteps(5, 0, -1)).toEqual([0, 1, 2, 3, 4]);
    expect(archUpdateSteps(5, 2, 0)).toEqual([4]);
    expect(archUpdateSteps(5, 2, 2)).toEqual([1, 3]);
    expect(archUpdateSteps(5, 2, 1)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('SuperNetEstimator', () => {
  it('alternates arch updates and weight steps by the interval options, and returns the optimizer best validated', async () => {
    const s = setup();
    const base = tf.memory().numTensors;
    const alpha0 = s.alpha.toArray();
    const cfg = superNetEstimatorSchema.parse({ epochs: 3, arch_update_epoch_start: 1, arch_update_batch: 2 });
    const r = await new SuperNetEstimator(cfg).run(s.ctx);
    // 4 weight steps per epoch (32/8), 2 valid batches -> updates before steps 1 and 3 of epochs 1 and 2, twice each
    expect(s.trained()).toBe(12);
    expect(s.optim.calls.map((c) => c.trained)).toEqual([5, 5, 7, 7, 9, 9, 11, 11]);
    expect(s.optim.batches.every((t) => t.isDisposed)).toBe(true);
    expect(s.alpha.toArray()).not.toEqual(alpha0);
    expect(r.best?.arch).toEqual({ c: 'b' });
    expect(s.choice.value).toBe('b');
    expect(r.best?.score).toBe(r.best?.metrics.acc);
    expect(typeof r.best?.metrics.loss).toBe('number');
    expect(r.metrics.arch_updates).toBe(4);
    expect(s.ctx.store.read('metrics')).toHaveLength(3);
    expect(s.ctx.store.read('candidates')).toHaveLength(1);
    s.trainer.reset();
    expect(tf.memory().numTensors).toBe(base);
    s.done();
  });

  it('honours arch_update_epoch_intv and arch_update_intv', async () => {
    const s = setup(40, 16); // 5 steps per epoch
    await new SuperNetEstimator(superNetEstimatorSchema.parse({ epochs: 5, arch_update_epoch_intv: 2, arch_update_intv: 0 })).run(s.ctx);
    // epochs 0, 2, 4 update once, at their last step (before weight steps 5, 15, 25)
    expect(s.optim.calls.map((c) => c.trained)).toEqual([4, 14, 24]);
    s.done();
    const t = setup(40, 16);
    await new SuperNetEstimator(superNetEstimatorSchema.parse({ epochs: 1, arch_update_intv: 2 })).run(t.ctx);
    expect(t.optim.calls.map((c) => c.trained)).toEqual([1, 3]);
    t.done();
  });

  it('emits arch:update events, samples subnets when asked, and without an optimizer trains weights only', async () => {
    const s = setup();
    const updates: number[] = [];
    s.ctx.events.on('arch:update', (p) => void updates.push(p.step));
    await new SuperNetEstimator(superNetEstimatorSchema.parse({ epochs: 1, sample_subnet: true })).run(s.ctx);
    expect(updates).toEqual([1, 2]);
    expect(s.optim.nexts).toBe(4 + 1); // once per weight step, once for the best
    s.done();
    const t = setup();
    const r = await new SuperNetEstimator(superNetEstimatorSchema.parse({ epochs: 1 })).run({ ...t.ctx, optim: undefined });
    expect(t.trained()).toBe(4);
    expect(r.best).toBeUndefined();
    expect(typeof r.metrics.acc).toBe('number');
    t.done();
  });
});
