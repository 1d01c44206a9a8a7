import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ArraySplit } from './data.js';
import { createGradientAccess, evaluate, formatMetrics, inputShapeOf, isBetterTrial, recalibrateBatchNorm, reportCandidate, reportEpoch, restoreState, scoreOf, snapshotState, stepsPerEpoch, supportsLossTerms, trainEpoch } from './estim-base.js';
import { EventBus, silentLogger, Module, ArchSpace, Rng, Slot, tf } from '@modnas/core';
import { TensorMixedOp } from '@modnas/kit-mixed-op';
import type { Batch, EstimContext, StateOptimizer, StepResult, ResultStore, TensorParam, TrialResult } from '@modnas/core';

/** Per-channel mean, with running statistics as a batch-norm layer keeps them (biased variance skipped). */
class MeanTracker extends Module {
  momentum = 0.1;
  readonly runningMean: tf.Variable;
  constructor(readonly channels: number) {
    super();
    this.runningMean = this.addBuffer('running_mean', tf.zeros([channels]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    if (this.training) {
      const m = tf.mean(x, [0, 1, 2]);
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - this.momentum), tf.mul(m, this.momentum)));
    }
    return tf.mean(x, [1, 2]);
  }
  resetRunningStats(): void {
    this.runningMean.assign(tf.zeros([this.channels]));
  }
}

class Net extends Module {
  readonly w: tf.Variable;
  readonly bn: MeanTracker;
  constructor() {
    super();
    this.bn = this.addModule('bn', new MeanTracker(2));
    this.w = this.addParam('w', tf.tensor2d([[1, 0], [0, 1]]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.matMul(this.bn.call(x), this.w);
  }
}

/** A trainer that records calls; "loss" is the batch mean of x, "correct" counts label 0. */
class FakeTrainer implements StateOptimizer {
  batchSize = 4;
  epochs: Array<[number, number]> = [];
  trained = 0;
  modes: boolean[] = [];
  setEpoch(e: number, t: number): void {
    this.epochs.push([e, t]);
  }
  currentLr(): number {
    return 0.1;
  }
  private stat(model: Module, b: Batch): StepResult {
    this.modes.push(model.training);
    const loss = tf.tidy(() => tf.mean(b.x).dataSync()[0]);
    const y = b.y.dataSync();
    return { loss, correct: Array.from(y).filter((v) => v === 0).length, count: y.length };
  }
  trainStep(model: Module, b: Batch): StepResult {
    this.trained++;
    return this.stat(model, b);
  }
  evalStep(model: Module, b: Batch): StepResult {
    return this.stat(model, b);
  }
  loss(model: Module, b: Batch): tf.Scalar {
    return tf.tidy<tf.Scalar>(() => tf.mean(model.call(b.x)));
  }
  reset(): void {}
  state(): unknown {
    return {};
  }
  restore(): void {}
  dispose(): void {}
}

/** n examples of 2x2x2; channel 0 holds i, channel 1 holds 2i; labels i % 2. */
function split(n: number): ArraySplit {
  const images = new Float32Array(n * 8);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let j = 0; j < 4; j++) {
      images[i * 8 + 2 * j] = i;
      images[i * 8 + 2 * j + 1] = 2 * i;
    }
  }
  return new ArraySplit(images, labels, [2, 2, 2]);
}

/** Records in memory, as a test's store. */
class MemoryStore implements ResultStore {
  private readonly rows = new Map<string, Array<Record<string, unknown>>>();
  append(stream: string, record: Record<string, unknown>): void {
    this.rows.set(stream, [...(this.rows.get(stream) ?? []), record]);
  }
  read(stream: string): Array<Record<string, unknown>> {
    return [...(this.rows.get(stream) ?? [])];
  }
}

function makeCtx(model: Module, trainer: StateOptimizer, n = 10): EstimContext & { store: MemoryStore } {
  return {
    name: 'test',
    model,
    space: new ArchSpace(),
    trainer,
    data: { train: split(n), valid: split(6) },
    metrics: [],
    events: new EventBus(),
    logger: silentLogger,
    progress: { start: () => ({ tick() {}, done() {} }) },
    rng: new Rng(0),
    store: new MemoryStore(),
    container: rootContainer.createChildContainer(),
  };
}

describe('estimator plumbing', () => {
  it('stepsPerEpoch and scoreOf', () => {
    expect(stepsPerEpoch(split(10), 4)).toBe(3);
    expect(stepsPerEpoch(split(10), 4, true)).toBe(2);
    expect(stepsPerEpoch(split(0), 4)).toBe(0);
    expect(scoreOf({ acc: 0.5, latency: 3 }, 'acc')).toBe(0.5);
    expect(scoreOf({ acc: 0.5, latency: 3 }, '-latency')).toBe(-3);
    expect(scoreOf({}, 'acc')).toBe(-Infinity);
    expect(formatMetrics({ a: 1, b: 0.123456 })).toBe('a=1 b=0.1235');
    expect(supportsLossTerms({ addLossTerm() {} })).toBe(true);
    expect(supportsLossTerms(new FakeTrainer())).toBe(false);
  });

  it('trainEpoch runs one pass, sets the LR epoch, emits step events, ticks progress and averages', async () => {
    const net = new Net();
    const t = new FakeTrainer();
    const ctx = makeCtx(net, t, 10);
    const ticks: number[] = [];
    ctx.progress.start = (_p, total) => ({ tick: () => void ticks.push(total), done() {} });
    const steps: number[] = [];
    ctx.events.on('step:end', (p) => void steps.push(p.step));
    const before: number[] = [];
    net.eval();
    const tensors = tf.memory().numTensors;
    const r = await trainEpoch(ctx, { epoch: 2, epochs: 5, beforeStep: (s) => void before.push(s) });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(t.epochs).toEqual([[2, 5]]);
    expect(r.steps).toBe(3);
    expect(r.count).toBe(10);
    expect(steps).toEqual([1, 2, 3]);
    expect(before).toEqual([0, 1, 2]);
    expect(ticks).toEqual([3, 3, 3]);
    expect(t.modes.every((m) => m)).toBe(true); // trains in train mode
    // mean over examples of mean(x) = mean_i 1.5 i = 1.5 * 4.5
    expect(r.loss).toBeCloseTo(6.75, 5);
    expect(r.acc).toBeCloseTo(0.5, 10);
    net.dispose();
  });

  it('trainEpoch stops cleanly between steps when the signal aborts', async () => {
    const net = new Net();
    const t = new FakeTrainer();
    const ac = new AbortController();
    const ctx = { ...makeCtx(net, t, 40), signal: ac.signal };
    const tensors = tf.memory().numTensors;
    const r = await trainEpoch(ctx, { epoch: 0, epochs: 1, beforeStep: (s) => void (s === 3 && ac.abort()) });
    expect(r.aborted).toBe(true);
    expect(t.trained).toBe(3);
    expect(tf.memory().numTensors).toBe(tensors);
    net.dispose();
  });

  it('evaluate runs in eval mode, restores the mode and weights examples', async () => {
    const net = new Net();
    const t = new FakeTrainer();
    const r = await evaluate(net, t, split(6), { batchSize: 4 });
    expect(t.modes).toEqual([false, false]);
    expect(net.training).toBe(true);
    expect(r.count).toBe(6);
    expect(r.loss).toBeCloseTo(1.5 * 2.5, 5);
    expect(r.acc).toBeCloseTo(0.5, 10);
    expect((await evaluate(net, t, split(6), { batchSize: 2, maxBatches: 1 })).count).toBe(2);
    net.dispose();
  });

  it('recalibrateBatchNorm recomputes running statistics as the exact mean over the batches, weights untouched', () => {
    const net = new Net();
    net.eval();
    const w0 = Array.from(net.w.dataSync());
    const data = split(8);
    const used = recalibrateBatchNorm(net, data, { batches: 100, batchSize: 2, rng: new Rng(1) });
    expect(used).toBe(4);
    const mean = Array.from(net.bn.runningMean.dataSync());
    expect(mean[0]).toBeCloseTo(3.5, 5); // mean of 0..7
    expect(mean[1]).toBeCloseTo(7, 5);
    expect(net.bn.momentum).toBe(0.1);
    expect(net.training).toBe(false);
    expect(Array.from(net.w.dataSync())).toEqual(w0);
    // 'ema' keeps the layer's momentum: from 0 after reset, 0.1 of one batch
    recalibrateBatchNorm(net, split(2), { batches: 1, batchSize: 2, average: 'ema' });
    expect(net.bn.runningMean.dataSync()[0]).toBeCloseTo(0.05, 5);
    // reset: false continues from the current statistics
    recalibrateBatchNorm(net, split(2), { batches: 1, batchSize: 2, average: 'ema', reset: false });
    expect(net.bn.runningMean.dataSync()[0]).toBeCloseTo(0.05 * 0.9 + 0.05, 5);
    net.dispose();
  });

  it('snapshotState / restoreState put weights and buffers back and free the copy', () => {
    const net = new Net();
    const base = tf.memory().numTensors;
    const snap = snapshotState(net);
    tf.tidy(() => {
      net.w.assign(tf.zeros([2, 2]));
      net.bn.runningMean.assign(tf.ones([2]));
    });
    restoreState(net, snap);
    expect(Array.from(net.w.dataSync())).toEqual([1, 0, 0, 1]);
    expect(Array.from(net.bn.runningMean.dataSync())).toEqual([0, 0]);
    expect(tf.memory().numTensors).toBe(base);
    net.dispose();
  });

  it('createGradientAccess hands out batches and frees them on release', () => {
    const net = new Net();
    const ctx = makeCtx(net, new FakeTrainer(), 10);
    const base = tf.memory().numTensors;
    const g = createGradientAccess(ctx);
    const a = g.trainBatch();
    const b = g.validBatch();
    expect(a.x.shape).toEqual([4, 2, 2, 2]);
    const l = g.loss(b);
    expect(l.shape).toEqual([]);
    l.dispose();
    g.release();
    expect(a.x.isDisposed && b.y.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(base);
    // endless: more batches than one pass
    for (let k = 0; k < 7; k++) g.trainBatch();
    g.release();
    expect(tf.memory().numTensors).toBe(base);
    net.dispose();
  });

  it('reports epochs and candidates to the store and the events', async () => {
    const ctx = makeCtx(new Net(), new FakeTrainer());
    const seen: string[] = [];
    ctx.events.on('epoch:end', (p) => void seen.push(`epoch ${p.epoch} ${p.metrics.acc}`));
    ctx.events.on('candidate:end', (p) => void seen.push(`cand ${p.score}`));
    await reportEpoch(ctx, 0, 2, { acc: 0.5 });
    await reportCandidate(ctx, { arch: { a: 'x' }, score: 0.7, metrics: { acc: 0.7 } }, 3);
    expect(seen).toEqual(['epoch 0 0.5', 'cand 0.7']);
    expect(ctx.store.read('metrics')[0]).toMatchObject({ estim: 'test', epoch: 0, epochs: 2, acc: 0.5 });
    expect(ctx.store.read('candidates')[0]).toMatchObject({ estim: 'test', index: 3, arch: { a: 'x' }, score: 0.7 });
    expect(inputShapeOf(ctx)).toEqual([2, 2, 2]);
    ctx.model.dispose();
  });
});

/** A real tensor mixed op (kit-mixed-op's base) over two identity candidates. */
class TwoWay extends TensorMixedOp {
  forward(x: tf.Tensor): tf.Tensor {
    return this.weightedSum(this.candidates().map((m) => m.call(x)), tf.softmax(this.alpha.value));
  }
}
class Id extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.clone(x);
  }
}
class SlotNet extends Module {
  constructor(alpha: TensorParam) {
    super();
    const a = this.addModule('a', new Slot({ chnIn: 2, chnOut: 4, stride: 2 }));
    a.fill(new TwoWay([{ name: 'Id', spec: 'Id', module: new Id() }, { name: 'Id_1', spec: 'Id', module: new Id() }], alpha));
    this.addModule('b', new Slot({ chnIn: 4 })).fill(new Id());
  }
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

describe('what the dashboard reads: Slots and softmax(α) per epoch', () => {
  it("reportEpoch writes the Slots once and softmax(α) of every tensor mixed op after each epoch", async () => {
    const space = new ArchSpace();
    const alpha = space.tensor({ shape: [2], init: [0, Math.log(3)] });
    const ctx = { ...makeCtx(new SlotNet(alpha), new FakeTrainer()), space };
    await reportEpoch(ctx, 0, 2, { acc: 0.5 });
    alpha.assign([Math.log(4), 0]);
    await reportEpoch(ctx, 1, 2, { acc: 0.6 });
    expect(ctx.store.read('slots')).toEqual([
      expect.objectContaining({ estim: 'test', slots: [{ path: 'a', chnIn: 2, chnOut: 4, stride: 2, param: alpha.name, candidates: ['Id', 'Id_1'] }, { path: 'b', chnIn: 4, chnOut: 4, stride: 1 }] }),
    ]);
    const recs = ctx.store.read('alpha') as Array<{ epoch: number; ops: Array<{ param: string; candidates: string[]; probs: number[] }> }>;
    expect(recs.map((r) => r.epoch)).toEqual([0, 1]);
    expect(recs[0].ops).toEqual([{ param: alpha.name, candidates: ['Id', 'Id_1'], probs: [0.25, 0.75] }]);
    expect(recs[1].ops[0].probs).toEqual([0.8, 0.2]);
    ctx.model.dispose();
    space.dispose();
  });

  it('writes no alpha for a model without tensor mixed ops', async () => {
    const ctx = makeCtx(new Net(), new FakeTrainer());
    await reportEpoch(ctx, 0, 1, { acc: 0.5 });
    expect(ctx.store.read('alpha')).toEqual([]);
    expect(ctx.store.read('slots')).toEqual([]);
    ctx.model.dispose();
  });
});

describe('isBetterTrial', () => {
  const t = (score: number, latency: number): TrialResult => ({ arch: {}, score, metrics: { latency } });
  const underFive = (r: TrialResult) => r.metrics.latency <= 5;

  it('ranks by score, and never takes a diverged or NaN-scored trial', () => {
    expect(isBetterTrial(t(0.9, 9), t(0.8, 1))).toBe(true);
    expect(isBetterTrial(t(0.7, 1), t(0.8, 9))).toBe(false);
    expect(isBetterTrial(t(Number.NaN, 1), undefined)).toBe(false);
    expect(isBetterTrial({ ...t(0.99, 1), status: 'diverged' }, t(0.1, 1))).toBe(false);
  });

  it("puts a feasible trial before any infeasible one under the optimizer's constraint", () => {
    expect(isBetterTrial(t(0.9, 9), t(0.8, 1), underFive)).toBe(false);
    expect(isBetterTrial(t(0.7, 1), t(0.8, 9), underFive)).toBe(true);
    expect(isBetterTrial(t(0.85, 2), t(0.8, 1), underFive)).toBe(true);
    // while none is feasible, the score decides
    expect(isBetterTrial(t(0.9, 9), t(0.8, 8), underFive)).toBe(true);
  });
});
