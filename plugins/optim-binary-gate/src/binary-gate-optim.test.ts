import type { Batch, GradientAccess, StateOptimizer, TensorParam } from '@modnas/core';
import { ArchSpace, Module, Rng, tf } from '@modnas/core';
import { softmaxOf } from '@modnas/kit-mixed-op';
import { BinaryGateOp } from '@modnas/mixed-op-bingate';
import { addMacs, crossEntropy, profiling } from '@modnas/nn';
import { describeConformance } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import type { CostTable } from './binary-gate-optim.js';
import { BinaryGateOptim, binaryGateOptim, binaryGateOptimSchema, expectedCost, latencyCosts, measureCosts } from './binary-gate-optim.js';
import plugin from './index.js';

/** A candidate that scales its input and reports `macs` multiply-accumulates (and owns `params` weights). */
class Scale extends Module {
  constructor(
    readonly factor: number,
    readonly macs = 0,
    params = 0,
  ) {
    super();
    if (params > 0) this.addParam('w', tf.zeros([params]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (profiling()) addMacs(this.macs);
    return tf.mul(x, this.factor);
  }
}

/** logits = op(x): with x the one-hot label plus noise, `good` (×3) is right, `bad` (×−3) wrong, `zero` says nothing. */
class Toy extends Module {
  constructor(readonly op: BinaryGateOp) {
    super();
    this.addModule('op', op);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (profiling()) addMacs(7);
    return this.op.call(x);
  }
}

const NAMES = ['bad', 'good', 'zero'];

function toyOn(alpha: TensorParam, seed: number, costs: number[] = [0, 0, 0]): Toy {
  const mods = [new Scale(-3, costs[0], 3), new Scale(3, costs[1], 5), new Scale(0, costs[2])];
  const op = new BinaryGateOp(
    mods.map((module, i) => ({ name: NAMES[i], spec: NAMES[i], module })),
    alpha,
    { nSamples: 1, evalMode: 'argmax', rng: new Rng(seed) },
  );
  return new Toy(op);
}

function makeBatch(n: number, seed: number): Batch {
  const rng = new Rng(seed);
  const ys = Array.from({ length: n }, () => rng.int(3));
  const xs = ys.flatMap((y) => [0, 1, 2].map((c) => (c === y ? 1 : 0) + 0.2 * rng.normal()));
  return { x: tf.tensor2d(xs, [n, 3]) as unknown as tf.Tensor4D, y: tf.tensor1d(ys, 'int32') };
}

function access(model: Module, space: ArchSpace, val: Batch) {
  const drawn: string[] = [];
  const g: GradientAccess & { drawn: string[] } = {
    model,
    space,
    trainer: { batchSize: 8, currentLr: () => 0.1 } as unknown as StateOptimizer,
    drawn,
    trainBatch: () => {
      drawn.push('train');
      return val;
    },
    validBatch: () => {
      drawn.push('valid');
      return val;
    },
    loss: (b: Batch) => tf.tidy(() => crossEntropy(model.call(b.x), b.y)),
  };
  return g;
}

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    BinaryGateOptim: async (o) => {
      // Over an empty space: the loss is taken, nothing is updated, nothing leaks.
      const space = new ArchSpace();
      const alpha = space.tensor({ shape: [3] });
      const toy = toyOn(alpha, 1);
      const b = makeBatch(4, 1);
      await (o as BinaryGateOptim).step({ results: [], grad: access(toy, space, b) });
      tf.dispose([b.x, b.y]);
      toy.dispose();
      space.dispose();
    },
  },
});

describe('BinaryGateOptim', () => {
  it('moves probability to the better candidate, using validation batches only, and leaves the ops whole', async () => {
    const space = new ArchSpace();
    const alpha = space.tensor({ shape: [3] });
    const toy = toyOn(alpha, 3);
    const val = makeBatch(16, 2);
    const optim = new BinaryGateOptim(space, binaryGateOptimSchema.parse({ lr: 0.1 }));
    const g = access(toy, space, val);
    toy.op.archGrad = false;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 40; i++) await optim.step({ results: [], grad: g });
    expect(tf.memory().numTensors).toBe(before);
    const p = softmaxOf(alpha.toArray());
    expect(p[1]).toBeGreaterThan(0.6);
    expect(p[0]).toBeLessThan(p[2]); // the harmful candidate loses most
    expect(optim.next(1)).toEqual([{ [alpha.name]: 1 }]);
    expect(new Set(g.drawn)).toEqual(new Set(['valid']));
    expect(toy.op.archGrad).toBe(false); // restored
    expect(toy.op.activeOps).toEqual([0, 1, 2]); // reset
    tf.dispose([val.x, val.y]);
    optim.dispose();
    toy.dispose();
    space.dispose();
  });

  for (const renorm of [true, false]) {
    it(`renorm ${renorm}: the two active candidates ${renorm ? 'keep' : 'do not keep'} their total probability`, async () => {
      const space = new ArchSpace();
      const alpha = space.tensor({ shape: [3], init: [0.3, -0.2, 0.1] });
      const toy = toyOn(alpha, 5);
      const val = makeBatch(16, 4);
      const optim = new BinaryGateOptim(space, binaryGateOptimSchema.parse({ lr: 0.1, renorm }));
      const a0 = alpha.toArray();
      await optim.step({ results: [], grad: access(toy, space, val) });
      const a1 = alpha.toArray();
      // With betas (0, 0.999) and no weight decay, the inactive α (zero gradient) does not move.
      const inactive = a0.map((v, i) => Math.abs(a1[i] - v) < 1e-7).indexOf(true);
      expect(inactive).toBeGreaterThanOrEqual(0);
      const active = [0, 1, 2].filter((i) => i !== inactive);
      expect(active.every((i) => Math.abs(a1[i] - a0[i]) > 1e-3)).toBe(true);
      const mass = (a: number[]): number => active.reduce((s, i) => s + softmaxOf(a)[i], 0);
      if (renorm) expect(Math.abs(mass(a1) - mass(a0))).toBeLessThan(1e-6);
      else expect(Math.abs(mass(a1) - mass(a0))).toBeGreaterThan(1e-4);
      tf.dispose([val.x, val.y]);
      optim.dispose();
      toy.dispose();
      space.dispose();
    });
  }

  it('measures candidate costs and the fixed part; the expected cost is differentiable in α', () => {
    const space = new ArchSpace();
    const alpha = space.tensor({ shape: [3], init: [0, 0, 0] });
    const toy = toyOn(alpha, 1, [10, 1000, 0]);
    const flops = measureCosts(toy, [3], 'flops');
    expect(flops.fixed).toBe(7);
    expect(flops.ops.map((o) => o.costs)).toEqual([[10, 1000, 0]]);
    const params = measureCosts(toy, [3], 'params');
    expect(params.ops[0].costs).toEqual([3, 5, 0]);
    expect(params.fixed).toBe(0);
    const e = expectedCost(flops);
    expect(e.dataSync()[0]).toBeCloseTo(7 + 1010 / 3, 3);
    const { grads } = tf.variableGrads(() => expectedCost(flops), [alpha.variable]);
    // d/dα_i Σ p_j c_j = p_i (c_i − E_p[c]) at uniform p.
    const mean = 1010 / 3;
    Array.from(grads[alpha.variable.name].dataSync()).forEach((v, i) => expect(v).toBeCloseTo(([10, 1000, 0][i] - mean) / 3, 2));
    tf.dispose([e, ...Object.values(grads)]);
    toy.dispose();
    space.dispose();
  });

  it('the latency term: costs from a latency table, and the gradient of the loss matches finite differences', async () => {
    const space = new ArchSpace();
    const alpha = space.tensor({ shape: [3], init: [0.3, -0.2, 0.1] });
    const toy = toyOn(alpha, 1);
    // a table as @modnas/kit-latency builds it: one mixed op, ms per candidate, a fixed part
    const table = { version: 1, target: 'tfjs-wasm' as const, runtime: 'test', machine: 'test', batch_size: 1, input: [3], fixed: 0.4, ops: [{ path: 'op', candidates: NAMES, keys: ['a', 'b', 'identity'], ms: [1.5, 0.25, 0] }], entries: {}, references: [] };
    const costs = latencyCosts(toy, table);
    expect(costs.fixed).toBe(0.4);
    expect(costs.ops).toHaveLength(1);
    expect(costs.ops[0].costs).toEqual([1.5, 0.25, 0]);
    expect(() => latencyCosts(toy, { ...table, ops: [] })).toThrow(expect.objectContaining({ code: 'MODNAS_E_OPTIM_COST' }));

    // The latency term alone: a validation loss that does not depend on α (the binary gates' own
    // gradient is a sampled estimate, checked above), so the loss's α-gradient is the term's.
    const ce = 1.7;
    const g: GradientAccess = { ...access(toy, space, makeBatch(2, 3)), loss: () => tf.scalar(ce) };
    const a0 = [0.3, -0.2, 0.1];
    const p = softmaxOf(a0);
    const expected = 0.4 + 1.5 * p[0] + 0.25 * p[1];
    for (const [mode, value] of [
      ['add', ce + (0.7 * expected) / 0.8],
      ['mul', 0.2 * ce * (expected / 0.8) ** 0.3],
    ] as const) {
      const optim = new BinaryGateOptim(space, binaryGateOptimSchema.parse({ cost_mode: mode, cost_metric: 'latency', cost_lambda: 0.7 }));
      Object.assign(optim as unknown as { costs: CostTable; target: number }, { costs, target: 0.8 });
      const lossAt = (a: number[]): number => {
        alpha.assign(a);
        return tf.tidy(() => optim.lossWithCost(g, g.validBatch()).dataSync()[0]);
      };
      expect(lossAt(a0), mode).toBeCloseTo(value, 5);
      alpha.assign(a0);
      const { value: l, grads } = tf.variableGrads(() => optim.lossWithCost(g, g.validBatch()), [alpha.variable]);
      const analytic = Array.from(grads[alpha.variable.name].dataSync());
      tf.dispose([l, ...Object.values(grads)]);
      const h = 1e-2;
      a0.forEach((_, i) => {
        const up = a0.map((v, j) => (j === i ? v + h : v));
        const down = a0.map((v, j) => (j === i ? v - h : v));
        expect(analytic[i], `${mode}: dL/dα_${i}`).toBeCloseTo((lossAt(up) - lossAt(down)) / (2 * h), 3);
      });
      // the slow candidate's α is pushed down, the fast ones' up
      expect(analytic[0]).toBeGreaterThan(0);
      expect(analytic[2]).toBeLessThan(0);
    }
    toy.dispose();
    space.dispose();
  });

  it('cost_metric latency: its options are checked by @modnas/kit-latency when the optimizer is built', async () => {
    const space = new ArchSpace();
    const ctx = { space } as unknown as Parameters<typeof binaryGateOptim.create>[1];
    const ok = await binaryGateOptim.create(binaryGateOptimSchema.parse({ cost_mode: 'mul', cost_metric: 'latency', latency: { target: 'onnxruntime-web' } }), ctx, undefined);
    expect(ok).toBeInstanceOf(BinaryGateOptim);
    await expect(binaryGateOptim.create(binaryGateOptimSchema.parse({ cost_mode: 'mul', cost_metric: 'latency', latency: { target: 'tpu' } }), ctx, undefined)).rejects.toMatchObject({ code: 'MODNAS_E_CONFIG_INVALID', where: 'optim.latency.target' });
    await expect(binaryGateOptim.create(binaryGateOptimSchema.parse({ cost_mode: 'mul', cost_metric: 'latency', latency: { rep: 0 } }), ctx, undefined)).rejects.toMatchObject({ where: 'optim.latency.rep' });
    space.dispose();
  });

  it('with a heavy cost term the cheap candidates win; the loss follows the ProxylessNAS formulas', async () => {
    const space = new ArchSpace();
    const alpha = space.tensor({ shape: [3] });
    const toy = toyOn(alpha, 7, [0, 1000, 0]);
    const val = makeBatch(16, 6);
    const g = access(toy, space, val);
    const optim = new BinaryGateOptim(space, binaryGateOptimSchema.parse({ lr: 0.05, cost_mode: 'add', cost_lambda: 20, cost_target: 500 }));
    for (let i = 0; i < 30; i++) await optim.step({ results: [], grad: g });
    const p = softmaxOf(alpha.toArray());
    expect(p[1]).toBeLessThan(0.2);

    // mul: α_c · CE · (E/target)^β, checked against the numbers.
    alpha.assign([0.2, 0.5, -0.1]);
    const mul = new BinaryGateOptim(space, binaryGateOptimSchema.parse({ cost_mode: 'mul', cost_target: 400, cost_alpha: 0.5, cost_beta: 0.6 }));
    await mul.step({ results: [], grad: g });
    alpha.assign([0.2, 0.5, -0.1]);
    toy.eval();
    const ce = tf.tidy(() => crossEntropy(toy.call(val.x), val.y).dataSync()[0]);
    const pe = softmaxOf([0.2, 0.5, -0.1]);
    const E = 7 + 1000 * pe[1];
    const got = tf.tidy(() => mul.lossWithCost(g, val).dataSync()[0]);
    expect(got).toBeCloseTo(0.5 * ce * (E / 400) ** 0.6, 4);
    expect(mul.state()).toMatchObject({ extra: { target: 400 } });
    tf.dispose([val.x, val.y]);
    [optim, mul].forEach((o) => o.dispose());
    toy.dispose();
    space.dispose();
  });

  it('a restored optimizer continues identically (same sampling)', async () => {
    const space = new ArchSpace();
    const alpha = space.tensor({ shape: [3], init: [0.1, 0.0, -0.1] });
    const val = makeBatch(8, 9);
    const cfg = binaryGateOptimSchema.parse({ lr: 0.05, betas: [0.5, 0.999] });
    const a = new BinaryGateOptim(space, cfg);
    const first = toyOn(alpha, 1);
    for (let i = 0; i < 3; i++) await a.step({ results: [], grad: access(first, space, val) });
    const saved = JSON.parse(JSON.stringify(a.state())) as unknown;
    const mid = alpha.toArray();
    const run = async (o: BinaryGateOptim): Promise<number[]> => {
      const toy = toyOn(alpha, 42); // same sampling stream for every continuation
      for (let i = 0; i < 3; i++) await o.step({ results: [], grad: access(toy, space, val) });
      toy.dispose();
      return alpha.toArray();
    };
    const afterA = await run(a);
    alpha.assign(mid);
    const b = new BinaryGateOptim(space, cfg);
    b.restore(saved);
    expect(await run(b)).toEqual(afterA);
    alpha.assign(mid);
    const c = new BinaryGateOptim(space, cfg);
    expect(Math.max(...(await run(c)).map((v, i) => Math.abs(v - afterA[i])))).toBeGreaterThan(1e-4);
    tf.dispose([val.x, val.y]);
    [a, b, c].forEach((o) => o.dispose());
    first.dispose();
    space.dispose();
  });
});
