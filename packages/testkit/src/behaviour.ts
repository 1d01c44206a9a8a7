/**
 * The per-kind behaviour checks of the conformance suite, as plain async functions that throw
 * (vitest's `expect`) so the suite's own tests can show that a broken component fails them.
 */
import type { AnyComponentDef, ArchSpace, Assignment, Batch, BuildContext, DiscreteParam, EstimContext, EstimResult, GradientAccess, SearchOptimizer, StateEstimator, StateOptimizer, StepResult, TensorParam } from '@modnas/core';
import { Module, Rng, Slot, tf } from '@modnas/core';
import { expect } from 'vitest';
import { makeBuildContext, makeEstimContext, tinySplit } from './fixtures.js';
import { TestLinOp } from './primitives.js';

const softmaxCE = (logits: tf.Tensor, y: tf.Tensor): tf.Scalar =>
  tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y as tf.Tensor1D, logits.shape[1]!), tf.logSoftmax(logits as tf.Tensor2D)), 1))) as tf.Scalar);

// ------------------------------------------------------------------ optimizers

/** A tiny supernet for gradient optimizers: logits = Σ_i softmax(α)_i f_i(x W), three different f_i. */
class ToyArchNet extends Module {
  readonly W: tf.Variable;

  constructor(readonly alpha: TensorParam) {
    super();
    const rng = new Rng(7);
    this.W = this.addParam('W', tf.tensor2d(Array.from({ length: 12 }, () => rng.normal() * 0.5), [4, 3]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const h = tf.matMul(x, this.W);
    const p = tf.softmax(this.alpha.variable);
    const cands = [h, tf.mul(tf.tanh(h), 2), tf.mul(tf.square(h), 0.5)];
    return tf.addN(cands.map((c, i) => tf.mul(c, tf.slice(p, [i], [1]))));
  }
}

/** The toy search problem the optimizer check drives: 4 categorical params of 3 values, one α tensor, a tiny supernet. */
export interface OptimToy {
  ctx: BuildContext;
  alpha: TensorParam;
  net: Module;
  /** The toy objective over the categorical params (higher is better). */
  score(a: Assignment): number;
  /** The metrics of a candidate: `score` and a toy cost `params` (for multi-objective optimizers). */
  metrics(a: Assignment): Record<string, number>;
  /** What a supernet estimator hands a gradient optimizer (fixed batches, an SGD trainer stand-in). */
  access(): GradientAccess;
  dispose(): void;
}

export function makeOptimToy(): OptimToy {
  const ctx = makeBuildContext({ seed: 0 });
  const { space } = ctx;
  for (let i = 0; i < 4; i++) space.categorical({ name: `c${i}`, choices: ['a', 'b', 'c'] });
  const alpha = space.tensor({ name: 'alpha', shape: [3], init: [0.2, -0.1, 0.05] });
  const net = new ToyArchNet(alpha);
  const rng = new Rng(11);
  const batch = (n: number): Batch => ({ x: tf.tensor2d(Array.from({ length: n * 4 }, () => rng.normal()), [n, 4]) as unknown as tf.Tensor4D, y: tf.tensor1d(Array.from({ length: n }, () => rng.int(3)), 'int32') });
  const trn = batch(6);
  const val = batch(4);
  const w = [[0.1, 0.7, 0.3], [0.5, 0.2, 0.9], [0.8, 0.1, 0.4], [0.3, 0.6, 0.2]];
  const trainer = { batchSize: 6, config: { optimizer: 'sgd', momentum: 0, weight_decay: 0 }, currentLr: () => 0.1, momentumBuffer: () => undefined, loss: (m: Module, b: Batch) => softmaxCE(m.call(b.x), b.y) } as unknown as StateOptimizer;
  return {
    ctx,
    alpha,
    net,
    metrics(a) {
      return { score: this.score(a), params: 1000 * Object.values(a).filter((v) => v === 'c').length + 100 * Object.values(a).filter((v) => v === 'b').length };
    },
    score: (a) => w.reduce((acc, wi, i) => acc + wi[['a', 'b', 'c'].indexOf(String(a[`c${i}`]))], 0) + (a.c0 === a.c1 ? 0.25 : 0),
    access: () => ({ model: net, space, trainer, trainBatch: () => trn, validBatch: () => val, loss: (b) => tf.tidy(() => softmaxCE(net.call(b.x), b.y)) }),
    dispose() {
      net.dispose();
      space.dispose();
      tf.dispose([trn.x, trn.y, val.x, val.y]);
    },
  };
}

/** One round as an estimator drives an optimizer: propose, score, step (with results and a gradient access). */
async function round(o: SearchOptimizer, toy: OptimToy): Promise<Assignment[]> {
  const cands = o.hasNext() ? o.next(2) : [];
  for (const a of cands) expect(a, 'next() proposes assignments (plain objects)').toBeTypeOf('object');
  await o.step({ results: cands.map((arch) => ({ arch, score: toy.score(arch), metrics: toy.metrics(arch) })), grad: toy.access() });
  return cands;
}

/** Copy what the runner's checkpoint holds besides the optimizer's state: weights, the assignment, the α values. */
function copyRunState(from: OptimToy, to: OptimToy): void {
  from.net.parameters().forEach((p, i) => to.net.parameters()[i].assign(p));
  to.ctx.space.apply(from.ctx.space.assignment());
  for (const t of from.ctx.space.tensors()) (to.ctx.space.get(t.name) as TensorParam).assign(t.toArray());
}

/**
 * Drive an optimizer through `next`/`step` on the toy problem for `rounds` rounds, save its state
 * (through JSON, as a checkpoint does), restore it into a fresh instance over a copy of the run, and
 * check that both then propose the same candidates and learn the same α for two more rounds.
 */
export async function checkOptimizer(def: AnyComponentDef, config: unknown, rounds = 3): Promise<void> {
  const a = makeOptimToy();
  const b = makeOptimToy();
  try {
    const oa = (await def.create(config, a.ctx, undefined)) as SearchOptimizer;
    for (const m of ['hasNext', 'next', 'step', 'state', 'restore'] as const) expect(typeof oa[m], `${def.id}: the optimizer has no ${m}()`).toBe('function');
    for (let r = 0; r < rounds; r++) await round(oa, a);
    const saved: unknown = JSON.parse(JSON.stringify(oa.state() ?? null));
    const ob = (await def.create(config, b.ctx, undefined)) as SearchOptimizer;
    copyRunState(a, b);
    ob.restore(saved);
    for (let r = 0; r < 2; r++) {
      const pa = oa.hasNext() ? oa.next(2) : [];
      const pb = ob.hasNext() ? ob.next(2) : [];
      expect(pb, `${def.id}: after restore(state()) a fresh optimizer proposes other candidates than the original (round ${r + 1}); restore() must bring back everything next() depends on`).toEqual(pa);
      const results = pa.map((arch) => ({ arch, score: a.score(arch), metrics: a.metrics(arch) }));
      await oa.step({ results, grad: a.access() });
      await ob.step({ results, grad: b.access() });
      expect(b.alpha.toArray().map((v) => v.toFixed(6)), `${def.id}: after restore(state()) the same steps learn other α than the original (round ${r + 1})`).toEqual(a.alpha.toArray().map((v) => v.toFixed(6)));
    }
  } finally {
    a.dispose();
    b.dispose();
  }
}

// ------------------------------------------------------------------ network components

/** Fill every empty Slot of a network with a seeded TestLin op (as a constructor would); returns how many. */
export function fillEmptySlots(m: Module): number {
  const empty = [...m.modules()].map(([, x]) => x).filter((x): x is Slot => x instanceof Slot && !x.filled);
  empty.forEach((s, i) => s.fill(new TestLinOp({ chnIn: s.chnIn, chnOut: s.chnOut, stride: s.stride }, 100 + i)));
  return empty.length;
}

const l2 = (t: tf.Tensor): number => tf.tidy(() => tf.sum(tf.abs(t)).dataSync()[0]);

/**
 * A backbone, its empty Slots filled with TestLin ops, runs forward and backward: the output keeps
 * the batch, every gradient is finite, and the backbone's own weights (outside the Slots) get a
 * nonzero gradient.
 */
export function checkBackbone(m: Module, shape: number[]): void {
  const own = new Set(m.parameters());
  fillEmptySlots(m);
  const vars = m.parameters();
  tf.tidy(() => {
    const x = tf.randomNormal(shape);
    const y = m.call(x);
    expect(y.shape[0], 'the output keeps the batch dimension').toBe(shape[0]);
    if (vars.length === 0) return;
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(m.call(x))), vars);
    for (const g of Object.values(grads)) expect(Number.isFinite(l2(g)), 'a gradient is not finite').toBe(true);
    if (own.size > 0) {
      const reached = vars.filter((v) => own.has(v) && grads[v.name] && l2(grads[v.name]) > 0);
      expect(reached.length, 'no weight of the backbone (outside its Slots) gets a nonzero gradient').toBeGreaterThan(0);
    }
  });
}

/**
 * A mixed op's arch params do something: a differentiable one's α tensors get a nonzero gradient
 * of the output; a discrete one's output changes when its categorical param changes.
 */
export function checkMixedOp(m: Module, space: ArchSpace, shape: number[]): void {
  const alphas = space.tensors();
  const discrete = space.discrete().filter((p) => p.cardinality > 1);
  expect(alphas.length + discrete.length, 'the mixed op registered no arch param (tensor α or categorical) in ctx.space').toBeGreaterThan(0);
  m.train(true);
  tf.tidy(() => {
    const x = tf.randomNormal(shape, 0, 1, 'float32', 3);
    if (alphas.length > 0) {
      const { grads } = tf.variableGrads(() => tf.mean(tf.square(m.call(x))), alphas.map((a) => a.variable));
      const total = alphas.reduce((acc, a) => acc + (grads[a.variable.name] ? l2(grads[a.variable.name]) : 0), 0);
      expect(total, 'the gradient of the output w.r.t. the mixed op\'s α is zero: α does not reach the output').toBeGreaterThan(0);
    } else {
      const p = discrete[0];
      const outs = Array.from({ length: p.cardinality }, (_, i) => {
        p.index = i;
        return Array.from(m.call(x).dataSync());
      });
      expect(outs.some((o) => o.some((v, j) => Math.abs(v - outs[0][j]) > 1e-6)), `changing ${p.name} changes nothing in the output`).toBe(true);
    }
  });
}

// ------------------------------------------------------------------ estimators

/** A plain SGD trainer on softmax cross-entropy: enough to drive an estimator on the tiny space. */
export class TinySgdTrainer implements StateOptimizer {
  readonly batchSize = 8;

  constructor(private readonly lr = 0.1) {}

  setEpoch(): void {}
  currentLr(): number {
    return this.lr;
  }
  loss(model: Module, batch: Batch): tf.Scalar {
    return softmaxCE(model.call(batch.x), batch.y);
  }
  trainStep(model: Module, batch: Batch): StepResult {
    let loss = 0;
    tf.tidy(() => {
      const vars = model.parameters();
      const { value, grads } = tf.variableGrads(() => this.loss(model, batch), vars);
      for (const v of vars) if (grads[v.name]) v.assign(tf.sub(v, tf.mul(grads[v.name], this.lr)));
      loss = value.dataSync()[0];
    });
    return { ...this.evalStep(model, batch), loss };
  }
  evalStep(model: Module, batch: Batch): StepResult {
    let loss = 0;
    let correct = 0;
    tf.tidy(() => {
      const logits = model.call(batch.x);
      loss = softmaxCE(logits, batch.y).dataSync()[0];
      correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batch.y), 'int32')).dataSync()[0];
    });
    return { loss, correct, count: batch.y.shape[0] };
  }
  reset(): void {}
  state(): unknown {
    return {};
  }
  restore(): void {}
  dispose(): void {}
}

/** The tiny searchable network: mean-pooled pixels through a linear layer, scaled by the choice of categorical `op`. */
class TinySearchNet extends Module {
  readonly W: tf.Variable;

  constructor(private readonly space: ArchSpace) {
    super();
    this.W = this.addParam('W', tf.tidy(() => tf.randomNormal([3, 4], 0, 0.5, 'float32', 5)));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const scale = this.space.has('op') ? Number((this.space.get('op') as DiscreteParam).value) : 1;
    return tf.mul(tf.matMul(tf.mean(x, [1, 2]), this.W), scale);
  }
}

/** A tiny network for estimator tests (3-channel images, 4 classes): its output scales with the space's categorical `op` (1 or 2) where there is one. */
export function tinySearchNet(space: ArchSpace): Module {
  return new TinySearchNet(space);
}

/** A seeded random search optimizer over the discrete params (an estimator's `ctx.optim` in the check). */
export function tinyRandomOptim(space: ArchSpace): SearchOptimizer {
  let rng = new Rng(1);
  return {
    hasNext: () => true,
    next: (n) => Array.from({ length: n }, () => space.random(rng)),
    step: () => undefined,
    state: () => rng.getState(),
    restore: (s) => {
      rng = new Rng(0);
      rng.setState(s as number);
    },
  };
}

/** Run an estimator in the given context and check that it returns numeric metrics. */
export async function checkEstimatorRun(estimator: StateEstimator, ectx: EstimContext): Promise<EstimResult> {
  const r = await estimator.run(ectx);
  expect(r, 'run() returned nothing').toBeDefined();
  expect(r.metrics, 'run() returned no metrics object').toBeTypeOf('object');
  for (const [k, v] of Object.entries(r.metrics)) expect(typeof v, `metric ${k} is not a number`).toBe('number');
  return r;
}

/**
 * Run an estimator on the tiny space (a 2-choice param unless `ctx.space` has discrete params already,
 * e.g. from the plugin's own space component; 32 train / 16 valid images) and check it returns metrics.
 */
export async function checkEstimator(estimator: StateEstimator, ctx: BuildContext): Promise<EstimResult> {
  const space = ctx.space;
  if (space.discrete().length === 0) space.categorical({ name: 'op', choices: [1, 2] });
  const model = new TinySearchNet(space);
  try {
    return await checkEstimatorRun(estimator, makeEstimContext({ model, space, trainer: new TinySgdTrainer(), optim: tinyRandomOptim(space), train: tinySplit(32), valid: tinySplit(16, undefined, undefined, 1), container: ctx.container }));
  } finally {
    model.dispose();
  }
}
