import { Rng, tf } from '@modnas/core';
import { TensorMixedOp, isMixedOp } from '@modnas/kit-mixed-op';
import { describeConformance, makeBuildContext, registerTestPrimitives, testLinForwards } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { BinaryGateOp, drawWithoutReplacement } from './bin-gate.js';
import plugin from './index.js';

// Stand-in candidates until the real primitives are installed: TestLin = tanh(conv1x1(x)), seeded.
registerTestPrimitives();

const PRIMS = [{ type: 'TestLin', seed: 1 }, { type: 'TestLin', seed: 2 }, { type: 'TestLin', seed: 3 }];
const SLOT = { chnIn: 2, chnOut: 3, stride: 1 };

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { BinGate: { primitives: PRIMS }, BinGateUniform: { primitives: PRIMS } },
});

async function make(type: string, alpha: number[], extra: Record<string, unknown> = {}): Promise<{ op: BinaryGateOp; dispose: () => void }> {
  const ctx = makeBuildContext({ seed: 7 });
  const op = (await ctx.build('mixed-op', { type, primitives: PRIMS, ...extra }, SLOT)) as BinaryGateOp;
  op.alpha.assign(alpha);
  return { op, dispose: () => (op.dispose(), ctx.space.dispose()) };
}

const input = (): tf.Tensor4D => tf.tensor4d(Array.from({ length: 2 * 2 * 2 * 2 }, (_, i) => Math.sin(1.3 * i + 0.2)), [2, 2, 2, 2]);
const softmax = (a: readonly number[]): number[] => {
  const e = a.map((v) => Math.exp(v - Math.max(...a)));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
};
const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);
const outputsOf = (op: BinaryGateOp, x: tf.Tensor): number[][] => op.candidates().map((c) => Array.from(tf.tidy(() => c.call(x)).dataSync()));
const alphaGrad = (op: BinaryGateOp, loss: () => tf.Scalar): number[] =>
  tf.tidy(() => Array.from(tf.variableGrads(loss, [op.alpha.variable]).grads[op.alpha.variable.name].dataSync()));

/** Central differences of f(α) at α0. */
function finiteDiff(f: (a: number[]) => number, a0: readonly number[], h = 1e-3): number[] {
  return a0.map((_, i) => (f(a0.map((v, j) => (j === i ? v + h : v))) - f(a0.map((v, j) => (j === i ? v - h : v)))) / (2 * h));
}

describe('BinGate', () => {
  it('is a tensor mixed op found by its alias, with a t_<n> param', async () => {
    const ctx = makeBuildContext();
    const op = await ctx.build('mixed-op', { type: 'BinaryGateMixedOp', primitives: PRIMS }, SLOT);
    expect(op).toBeInstanceOf(BinaryGateOp);
    expect(op).toBeInstanceOf(TensorMixedOp);
    expect(isMixedOp(op)).toBe(true);
    expect((op as BinaryGateOp).alpha.name).toBe('t_0');
    expect((op as BinaryGateOp).activeOps).toEqual([0, 1, 2]);
    op.dispose();
    ctx.space.dispose();
  });

  it('evaluates the argmax-alpha candidate (eval_mode argmax), and exports it', async () => {
    const { op, dispose } = await make('BinGate', [0.1, 2, -1]);
    const x = input();
    const outs = outputsOf(op, x);
    op.eval();
    for (let rep = 0; rep < 5; rep++) {
      expect(tf.tidy(() => Array.from(op.call(x).dataSync()))).toEqual(outs[1]);
      expect(op.sampledIndex).toBe(1);
    }
    expect(op.toArchDesc()).toEqual({ type: 'TestLin', seed: 2 });
    op.alpha.assign([0.1, 2, 3]);
    expect(tf.tidy(() => Array.from(op.call(x).dataSync()))).toEqual(outs[2]);
    x.dispose();
    dispose();
  });

  it('in training outputs exactly one sampled candidate, sampled with frequencies softmax(alpha)', async () => {
    const alpha = [1, 0, -0.5];
    const { op, dispose } = await make('BinGate', alpha);
    const x = input();
    const outs = outputsOf(op, x);
    const counts = [0, 0, 0];
    const n = 3000;
    const before = tf.memory().numTensors;
    for (let t = 0; t < n; t++) {
      const y = tf.tidy(() => op.call(x));
      const s = op.sampledIndex!;
      counts[s]++;
      if (t < 20) expect(Array.from(y.dataSync())).toEqual(outs[s]);
      y.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    const p = softmax(alpha);
    counts.forEach((c, i) => expect(Math.abs(c / n - p[i])).toBeLessThan(0.03));
    x.dispose();
    dispose();
  });

  it('gives alpha dL/dalpha_i = sum_j dL/dg_j p_j (delta_ij - p_i): with a linear loss, the exact gradient of the expected loss', async () => {
    const { op, dispose } = await make('BinGate', [0.4, -0.3, 0.1]);
    const x = input();
    const outs = outputsOf(op, x);
    const c = outs[0].map((_, k) => Math.cos(k));
    const ct = tf.tensor(c, [2, 2, 2, 3]);
    const loss = (): tf.Scalar => tf.sum(tf.mul(op.call(x), ct));
    const Lj = outs.map((o) => dot(o, c));
    const expected = (a: number[]): number => dot(softmax(a), Lj);
    const fd = finiteDiff(expected, op.alpha.toArray());
    const seen = new Set<number>();
    const before = tf.memory().numTensors;
    for (let rep = 0; rep < 6; rep++) {
      const g = alphaGrad(op, loss);
      seen.add(op.sampledIndex!);
      g.forEach((v, i) => expect(v).toBeCloseTo(fd[i], 3));
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(seen.size).toBeGreaterThan(1);
    expect(Math.max(...fd.map(Math.abs))).toBeGreaterThan(1e-2);
    tf.dispose([x, ct]);
    dispose();
  });

  it('two-path mode: sampleOps(2) restricts sampling and the gradient to two candidates (expected loss over both paths)', async () => {
    const { op, dispose } = await make('BinGate', [0.4, -0.3, 0.1]);
    const x = input();
    const outs = outputsOf(op, x);
    const c = outs[0].map((_, k) => Math.sin(2 * k + 1));
    const ct = tf.tensor(c, [2, 2, 2, 3]);
    const loss = (): tf.Scalar => tf.sum(tf.mul(op.call(x), ct));
    const Lj = outs.map((o) => dot(o, c));
    for (let rep = 0; rep < 4; rep++) {
      const active = op.sampleOps(2);
      expect(new Set(active).size).toBe(2);
      const off = [0, 1, 2].find((i) => !active.includes(i))!;
      const expected = (a: number[]): number => dot(softmax(active.map((i) => a[i])), active.map((i) => Lj[i]));
      const fd = finiteDiff(expected, op.alpha.toArray());
      const g = alphaGrad(op, loss);
      expect(active).toContain(op.sampledIndex);
      expect(g[off]).toBe(0);
      g.forEach((v, i) => expect(v).toBeCloseTo(fd[i], 3));
      op.resetOps();
    }
    expect(op.activeOps).toEqual([0, 1, 2]);
    tf.dispose([x, ct]);
    dispose();
  });

  it('with a nonlinear loss, dL/dg_j is the output gradient at the sampled path dotted with o_j', async () => {
    const { op, dispose } = await make('BinGate', [0.2, 0.5, -0.4]);
    const x = input();
    const outs = outputsOf(op, x);
    const t = 0.25;
    const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(op.call(x), t)));
    const p = softmax(op.alpha.toArray());
    for (let rep = 0; rep < 4; rep++) {
      const g = alphaGrad(op, loss);
      const s = op.sampledIndex!;
      const dLdy = outs[s].map((v) => (2 * (v - t)) / outs[s].length);
      const dg = outs.map((o) => dot(dLdy, o));
      const mean = dot(p, dg);
      g.forEach((v, i) => expect(v).toBeCloseTo(p[i] * (dg[i] - mean), 5));
    }
    x.dispose();
    dispose();
  });

  it('weight-only gradients skip the gate: the other candidates run only when alpha gradients are asked for', async () => {
    const { op, dispose } = await make('BinGate', [0, 0, 0]);
    const x = input();
    const loss = (): tf.Scalar => tf.mean(tf.square(op.call(x)));
    testLinForwards.reset();
    const wnames = tf.tidy(() => Object.keys(tf.variableGrads(loss, op.parameters()).grads));
    expect(testLinForwards.count).toBe(1);
    expect(wnames).toEqual([op.candidates()[op.sampledIndex!].parameters()[0].name]);
    testLinForwards.reset();
    tf.tidy(() => tf.variableGrads(loss, [...op.parameters(), op.alpha.variable]));
    expect(testLinForwards.count).toBe(3);
    op.sampleOps(2);
    testLinForwards.reset();
    alphaGrad(op, loss);
    expect(testLinForwards.count).toBe(2);
    x.dispose();
    dispose();
  });

  it('with archGrad off samples n_samples distinct paths, sums them, and gives alpha no gradient', async () => {
    const { op, dispose } = await make('BinGate', [0, 0.1, 0.2], { n_samples: 2 });
    op.archGrad = false;
    const x = input();
    const outs = outputsOf(op, x);
    for (let rep = 0; rep < 4; rep++) {
      const y = tf.tidy(() => Array.from(op.call(x).dataSync()));
      const [a, b] = op.sampledPaths;
      expect(a).not.toBe(b);
      expect(op.sampledIndex).toBeUndefined();
      y.forEach((v, k) => expect(v).toBeCloseTo(outs[a][k] + outs[b][k], 5));
    }
    expect(() => tf.tidy(() => tf.variableGrads(() => tf.sum(op.call(x)), [op.alpha.variable]))).toThrow();
    x.dispose();
    dispose();
  });

  it('eval_mode sample draws paths in evaluation too (the original)', async () => {
    const { op, dispose } = await make('BinGate', [0, 0, 0], { eval_mode: 'sample' });
    op.eval();
    const x = input();
    const seen = new Set<number>();
    for (let rep = 0; rep < 30; rep++) {
      tf.tidy(() => op.call(x));
      seen.add(op.sampledIndex!);
    }
    expect(seen.size).toBe(3);
    x.dispose();
    dispose();
  });

  it('sampleOps draws without replacement from softmax(alpha): inclusion frequencies match', async () => {
    const alpha = [1.2, 0, -0.7];
    const { op, dispose } = await make('BinGate', alpha);
    const p = softmax(alpha);
    const incl = p.map((pi, i) => pi + p.reduce((s, pj, j) => (j === i ? s : s + (pj * pi) / (1 - pj)), 0));
    const counts = [0, 0, 0];
    const n = 4000;
    for (let t = 0; t < n; t++) for (const i of op.sampleOps(2)) counts[i]++;
    counts.forEach((c, i) => expect(Math.abs(c / n - incl[i])).toBeLessThan(0.03));
    dispose();
  });

  it('drawWithoutReplacement skips zero weights and stops when nothing is left', () => {
    const rng = new Rng(1);
    for (let t = 0; t < 50; t++) expect(drawWithoutReplacement(rng, [0, 1, 0, 2], 3).sort()).toEqual([1, 3]);
  });
});

describe('BinGateUniform', () => {
  it('samples paths and active candidates uniformly whatever alpha, with the same alpha gradient', async () => {
    const { op, dispose } = await make('BinaryGateUniformMixedOp', [3, 0, -2]);
    expect(op.constructor.name).toBe('BinaryGateUniformOp');
    const x = input();
    const outs = outputsOf(op, x);
    const counts = [0, 0, 0];
    const n = 3000;
    for (let t = 0; t < n; t++) {
      const y = tf.tidy(() => op.call(x));
      counts[op.sampledIndex!]++;
      if (t < 10) expect(Array.from(y.dataSync())).toEqual(outs[op.sampledIndex!]);
      y.dispose();
    }
    counts.forEach((c) => expect(Math.abs(c / n - 1 / 3)).toBeLessThan(0.03));
    const incl = [0, 0, 0];
    for (let t = 0; t < n; t++) for (const i of op.sampleOps(2)) incl[i]++;
    incl.forEach((c) => expect(Math.abs(c / n - 2 / 3)).toBeLessThan(0.03));
    op.resetOps();
    const c = outs[0].map((_, k) => Math.cos(3 * k));
    const ct = tf.tensor(c, [2, 2, 2, 3]);
    const Lj = outs.map((o) => dot(o, c));
    const fd = finiteDiff((a) => dot(softmax(a), Lj), op.alpha.toArray());
    const g = alphaGrad(op, () => tf.sum(tf.mul(op.call(x), ct)));
    g.forEach((v, i) => expect(v).toBeCloseTo(fd[i], 3));
    op.eval();
    expect(tf.tidy(() => Array.from(op.call(x).dataSync()))).toEqual(outs[0]);
    tf.dispose([x, ct]);
    dispose();
  });
});
