import type { Batch, GradientAccess, StateOptimizer, TensorParam } from '@modnas/core';
import { ArchSpace, Module, tf } from '@modnas/core';
import { crossEntropy } from '@modnas/nn';
import { describeConformance } from '@modnas/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DARTSOptim, dartsOptimSchema } from './darts-optim.js';
import plugin from './index.js';

/**
 * A tiny supernet: h = x W, logits = Σ_i softmax(α)_i f_i(h) with three different candidate
 * functions. `toyLogits` is the same function written out, for the independent reference.
 */
function toyLogits(W: tf.Tensor, alpha: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const h = tf.matMul(x, W);
  const p = tf.softmax(alpha);
  const cands = [h, tf.mul(tf.tanh(h), 2), tf.mul(tf.square(h), 0.5)];
  return tf.addN(cands.map((c, i) => tf.mul(c, tf.slice(p, [i], [1]))));
}

class ToyNet extends Module {
  readonly W: tf.Variable;
  readonly calls: tf.Variable;

  constructor(
    readonly alpha: TensorParam,
    Winit: number[],
  ) {
    super();
    this.W = this.addParam('W', tf.tensor2d(Winit, [4, 3]));
    // A buffer that training-mode forwards change, as batch-norm statistics do.
    this.calls = this.addBuffer('calls', tf.scalar(0));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.training) tf.tidy(() => this.calls.assign(tf.add(this.calls, 1)));
    return toyLogits(this.W, this.alpha.variable, x);
  }
}

const W_INIT = [0.3, -0.2, 0.5, 0.1, 0.4, -0.6, -0.3, 0.2, 0.7, 0.5, -0.1, 0.2];
const BUF = [0.05, -0.02, 0.01, 0.03, -0.04, 0.02, 0.0, 0.01, -0.03, 0.02, 0.04, -0.01];

function batchOf(xs: number[], ys: number[]): Batch {
  return { x: tf.tensor2d(xs, [ys.length, 4]) as unknown as tf.Tensor4D, y: tf.tensor1d(ys, 'int32') };
}

interface Toy {
  space: ArchSpace;
  alpha: TensorParam;
  net: ToyNet;
  trn: Batch;
  val: Batch;
  buf: tf.Tensor;
  access(xi: number, extras?: { momentum?: number; weight_decay?: number }): GradientAccess & { drawn: { train: number; valid: number } };
  dispose(): void;
}

function makeToy(alphaInit = [0.2, -0.1, 0.05]): Toy {
  const space = new ArchSpace();
  const alpha = space.tensor({ shape: [3], init: alphaInit });
  const net = new ToyNet(alpha, W_INIT);
  const trn = batchOf([0.5, -1, 0.3, 0.8, -0.4, 0.9, 1.1, -0.2, 0.7, 0.1, -0.6, 0.4, -0.9, 0.3, 0.2, -0.5, 0.6, -0.7, 0.4, 1.2], [0, 2, 1, 0, 2]);
  const val = batchOf([-0.3, 0.8, 0.5, -0.2, 0.9, 0.4, -1.0, 0.6, 0.2, -0.5, 0.3, 0.7], [1, 2, 0]);
  const buf = tf.tensor2d(BUF, [4, 3]);
  return {
    space,
    alpha,
    net,
    trn,
    val,
    buf,
    access(xi, extras = {}) {
      const drawn = { train: 0, valid: 0 };
      const trainer = {
        batchSize: 5,
        config: { optimizer: 'sgd', momentum: extras.momentum ?? 0, weight_decay: extras.weight_decay ?? 0 },
        currentLr: () => xi,
        momentumBuffer: (w: tf.Variable) => (w === net.W ? buf : undefined),
      } as unknown as StateOptimizer;
      return {
        model: net,
        space,
        trainer,
        drawn,
        trainBatch: () => (drawn.train++, trn),
        validBatch: () => (drawn.valid++, val),
        loss: (b: Batch) => tf.tidy(() => crossEntropy(net.call(b.x), b.y)),
      };
    },
    dispose() {
      net.dispose();
      space.dispose();
      for (const t of [trn.x, trn.y, val.x, val.y, buf]) t.dispose();
    },
  };
}

/** L_val(w'(α), α) with w' = w − ξ(μ·buf + ∇w L_train(w, α) + λw): the bilevel objective DARTS differentiates. */
function unrolledValLoss(toy: Toy, alpha: number[], xi: number, mu: number, wd: number): number {
  return tf.tidy(() => {
    const a = tf.tensor1d(alpha);
    const W0 = tf.tensor2d(W_INIT, [4, 3]);
    const lossTrn = (W: tf.Tensor): tf.Scalar => crossEntropy(toyLogits(W, a, toy.trn.x), toy.trn.y);
    const gw = tf.grad(lossTrn)(W0);
    const W1 = tf.sub(W0, tf.mul(tf.add(tf.add(gw, tf.mul(W0, wd)), tf.mul(toy.buf, mu)), xi));
    return crossEntropy(toyLogits(W1, a, toy.val.x), toy.val.y).dataSync()[0];
  });
}

function centralDiff(f: (a: number[]) => number, a: number[], h: number): number[] {
  return a.map((_, j) => {
    const up = [...a];
    const dn = [...a];
    up[j] += h;
    dn[j] -= h;
    return (f(up) - f(dn)) / (2 * h);
  });
}

const arr = (t: tf.Tensor | undefined): number[] => Array.from(t!.dataSync());
const maxAbsDiff = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    DARTSOptim: async (optim) => {
      // An optimizer over an empty space still runs its weight step and restores the weights.
      const toy = makeToy();
      const o = optim as DARTSOptim;
      await o.step({ results: [], grad: toy.access(0.1, { momentum: 0.9, weight_decay: 3e-4 }) });
      toy.dispose();
    },
  },
});

describe('DARTSOptim', () => {
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy();
  });
  afterEach(() => toy.dispose());

  it('second-order α gradient matches finite differences of L_val through the unrolled weights', async () => {
    const xi = 0.5;
    const mu = 0.9;
    const wd = 0.01;
    const optim = new DARTSOptim(toy.space, dartsOptimSchema.parse({}));
    const g = toy.access(xi, { momentum: mu, weight_decay: wd });
    expect(optim.weightStepArgs(g.trainer)).toEqual({ momentum: mu, weightDecay: wd });
    const hg = await optim.hypergradient(g);
    const mine = arr(hg[0]);
    hg.forEach((t) => t?.dispose());
    const a0 = toy.alpha.toArray();
    const fd = centralDiff((a) => unrolledValLoss(toy, a, xi, mu, wd), a0, 1e-2);
    const scale = Math.max(...fd.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-2);
    // Agreement to ~1e-5 here (float32); 2e-4 is 0.3% of the gradient's scale.
    const tol = 2e-4;
    expect(maxAbsDiff(mine, fd)).toBeLessThan(tol);

    // The second-order term matters on this problem: first-order DARTS is far from the true gradient.
    const first = new DARTSOptim(toy.space, dartsOptimSchema.parse({ unrolled: false }));
    const fo = await first.hypergradient(g);
    expect(maxAbsDiff(arr(fo[0]), fd)).toBeGreaterThan(50 * tol);
    fo.forEach((t) => t?.dispose());
    optim.dispose();
    first.dispose();
  });

  it('puts the weights and buffers back exactly and leaks no tensors', async () => {
    const optim = new DARTSOptim(toy.space, dartsOptimSchema.parse({}));
    const g = toy.access(0.3, { momentum: 0.9, weight_decay: 3e-4 });
    const w = arr(toy.net.W);
    const calls = arr(toy.net.calls);
    const before = tf.memory().numTensors;
    await optim.step({ results: [], grad: g });
    await optim.step({ results: [], grad: g });
    expect(tf.memory().numTensors).toBe(before);
    expect(arr(toy.net.W)).toEqual(w);
    expect(arr(toy.net.calls)).toEqual(calls);
    expect(g.drawn).toEqual({ train: 2, valid: 2 });
    optim.dispose();
  });

  it('first-order mode is the plain α gradient of the validation loss', async () => {
    const optim = new DARTSOptim(toy.space, dartsOptimSchema.parse({ unrolled: false }));
    const g = toy.access(0.5);
    const hg = await optim.hypergradient(g);
    const ref = tf.tidy(() => tf.grad((a: tf.Tensor) => crossEntropy(toyLogits(tf.tensor2d(W_INIT, [4, 3]), a, toy.val.x), toy.val.y))(tf.tensor1d(toy.alpha.toArray())));
    expect(maxAbsDiff(arr(hg[0]), arr(ref))).toBeLessThan(1e-6);
    expect(g.drawn.valid).toBe(1);
    hg.forEach((t) => t?.dispose());
    ref.dispose();
    optim.dispose();
  });

  it('step() is one Adam step (lr, betas, weight decay) along the hypergradient', async () => {
    const cfg = dartsOptimSchema.parse({ lr: 0.1, betas: [0.5, 0.999], weight_decay: 0.01 });
    const optim = new DARTSOptim(toy.space, cfg);
    const g = toy.access(0.5);
    const a0 = toy.alpha.toArray();
    const hg = await optim.hypergradient(g);
    const grad = arr(hg[0]);
    hg.forEach((t) => t?.dispose());
    await optim.step({ results: [], grad: g });
    // First Adam step: m̂ = g', v̂ = g'², so Δ = −lr · g'/(|g'| + eps) with g' = g + λα.
    const expected = a0.map((a, i) => {
      const gg = grad[i] + 0.01 * a;
      return a - (0.1 * gg) / (Math.abs(gg) + 1e-8);
    });
    expect(maxAbsDiff(toy.alpha.toArray(), expected)).toBeLessThan(1e-5);
    optim.dispose();
  });

  it('next() is the argmax of α; a restored optimizer continues identically', async () => {
    const cfg = dartsOptimSchema.parse({ lr: 0.05 });
    const a = new DARTSOptim(toy.space, cfg);
    toy.alpha.assign([0.1, 0.9, -0.3]);
    expect(a.next(3)).toEqual([{ [toy.alpha.name]: 1 }]);
    const g = toy.access(0.2, { momentum: 0.9 });
    for (let i = 0; i < 3; i++) await a.step({ results: [], grad: g });
    const saved = JSON.parse(JSON.stringify(a.state())) as unknown;
    const alphaSaved = toy.alpha.toArray();

    // Continue A for 2 steps.
    for (let i = 0; i < 2; i++) await a.step({ results: [], grad: g });
    const afterA = toy.alpha.toArray();

    // B: a fresh optimizer on the same params, restored from the saved state.
    toy.alpha.assign(alphaSaved);
    const b = new DARTSOptim(toy.space, cfg);
    b.restore(saved);
    for (let i = 0; i < 2; i++) await b.step({ results: [], grad: g });
    expect(toy.alpha.toArray()).toEqual(afterA);

    // C: without the state the trajectory differs (so the check above can fail).
    toy.alpha.assign(alphaSaved);
    const c = new DARTSOptim(toy.space, cfg);
    for (let i = 0; i < 2; i++) await c.step({ results: [], grad: g });
    expect(maxAbsDiff(toy.alpha.toArray(), afterA)).toBeGreaterThan(1e-4);

    expect(() => c.restore({ type: 'BinaryGateOptim', adam: saved })).toThrow(/BinaryGateOptim/);
    [a, b, c].forEach((o) => o.dispose());
  });

  it('says which estimator to use when it gets no gradient access', async () => {
    const optim = new DARTSOptim(toy.space, dartsOptimSchema.parse({}));
    await expect(optim.step({ results: [] })).rejects.toThrow(/SuperNetEstimator/);
    optim.dispose();
  });
});
