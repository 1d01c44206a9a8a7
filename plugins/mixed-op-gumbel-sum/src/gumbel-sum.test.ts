import { tf } from '@modnas/core';
import { alphaGradients, describeConformance, makeBuildContext, registerTestPrimitives } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import type { GumbelSumOp } from './gumbel-sum.js';
import plugin from './index.js';

// Stand-in candidates until the real primitives are installed: TestLin = tanh(conv1x1(x)), seeded.
registerTestPrimitives();

const PRIMS = [{ type: 'TestLin', seed: 1 }, { type: 'TestLin', seed: 2 }, { type: 'TestLin', seed: 3 }];
const SLOT = { chnIn: 2, chnOut: 3, stride: 1 };

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url), configs: { GumbelSum: { primitives: PRIMS } } });

async function make(extra: Record<string, unknown> = {}, seed = 3): Promise<{ op: GumbelSumOp; dispose: () => void }> {
  const ctx = makeBuildContext({ seed });
  const op = (await ctx.build('mixed-op', { type: 'GumbelSumMixedOp', primitives: PRIMS, ...extra }, SLOT)) as GumbelSumOp;
  return { op, dispose: () => (op.dispose(), ctx.space.dispose()) };
}

const input = (): tf.Tensor4D => tf.tensor4d(Array.from({ length: 2 * 3 * 3 * 2 }, (_, i) => Math.cos(i + 0.5)), [2, 3, 3, 2]);
const softmax = (a: number[]): number[] => {
  const e = a.map((v) => Math.exp(v - Math.max(...a)));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
};
const sum = (a: number[]): number => a.reduce((p, q) => p + q, 0);

describe('GumbelSum', () => {
  it('mixes all candidates with the Gumbel-softmax weights of the forward, which sum to 1', async () => {
    const { op, dispose } = await make({ temperature: 0.8 });
    op.alpha.assign([0.5, -0.3, 0.1]);
    const x = input();
    const outs = op.candidates().map((c) => Array.from(tf.tidy(() => c.call(x)).dataSync()));
    for (let rep = 0; rep < 3; rep++) {
      const got = tf.tidy(() => Array.from(op.call(x).dataSync()));
      const g = op.lastNoise!;
      const w = softmax(op.alpha.toArray().map((a, i) => (a + g[i]) / 0.8));
      expect(op.weights().map((v) => v.toFixed(6))).toEqual(w.map((v) => v.toFixed(6)));
      expect(sum(w)).toBeCloseTo(1, 6);
      got.forEach((v, k) => expect(v).toBeCloseTo(sum(outs.map((o, i) => w[i] * o[k])), 5));
    }
    x.dispose();
    dispose();
  });

  it('approaches one-hot at a low temperature and uniform at the default 1e5', async () => {
    const { op, dispose } = await make();
    expect(op.temperature).toBe(1e5);
    op.alpha.assign([1, 0, -1]);
    const x = input();
    tf.tidy(() => op.call(x));
    op.weights().forEach((w) => expect(w).toBeCloseTo(1 / 3, 4));
    op.setTemperature(1e-3);
    for (let rep = 0; rep < 5; rep++) {
      tf.tidy(() => op.call(x));
      const w = op.weights();
      const g = op.lastNoise!;
      const scores = op.alpha.toArray().map((a, i) => a + g[i]);
      const best = scores.indexOf(Math.max(...scores));
      expect(w[best]).toBeGreaterThan(0.999);
      expect(sum(w)).toBeCloseTo(1, 6);
    }
    expect(() => op.setTemperature(0)).toThrow(/positive/);
    x.dispose();
    dispose();
  });

  it('draws Gumbel(0,1) noise: mean is Euler-Mascheroni and argmax(alpha+g) follows softmax(alpha)', async () => {
    const { op, dispose } = await make({ seed: 11 });
    op.alpha.assign([0.8, 0, -0.5]);
    const a = op.alpha.toArray();
    const n = 20000;
    const counts = [0, 0, 0];
    let mean = 0;
    for (let t = 0; t < n; t++) {
      const g = op.sampleNoise();
      mean += g[0] / n;
      const s = a.map((v, i) => v + g[i]);
      counts[s.indexOf(Math.max(...s))]++;
    }
    expect(mean).toBeCloseTo(0.5772, 1);
    const p = softmax(a);
    counts.forEach((c, i) => expect(Math.abs(c / n - p[i])).toBeLessThan(0.015));
    dispose();
  });

  it('is reproducible for a seed and differs between seeds', async () => {
    const draw = async (seed: number | null, ctxSeed: number): Promise<number[]> => {
      const { op, dispose } = await make(seed === null ? {} : { seed }, ctxSeed);
      const g = op.sampleNoise();
      dispose();
      return g;
    };
    expect(await draw(5, 0)).toEqual(await draw(5, 9));
    expect(await draw(5, 0)).not.toEqual(await draw(6, 0));
    expect(await draw(null, 1)).toEqual(await draw(null, 1));
    expect(await draw(null, 1)).not.toEqual(await draw(null, 2));
  });

  it('with fixed noise, gives alpha the gradient that finite differences measure, without leaks', async () => {
    const { op, dispose } = await make({ temperature: 0.7 });
    op.alpha.assign([0.2, -0.4, 0.7]);
    op.setNoise([0.3, -0.2, 1.1]);
    const x = input();
    const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(op.call(x), 0.2)));
    const { grad: g, fd, leaked } = alphaGradients(op.alpha, loss);
    expect(leaked).toBe(0);
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(1e-3);
    g.forEach((v, i) => expect(v).toBeCloseTo(fd[i], 3));
    expect(() => op.setNoise([1])).toThrow(/1 noise values for 3/);
    x.dispose();
    dispose();
  });

  it('eval_noise: false evaluates softmax(alpha / temperature); the export is argmax alpha', async () => {
    const { op, dispose } = await make({ temperature: 2, eval_noise: false });
    op.alpha.assign([0.1, 0.9, -0.2]);
    op.eval();
    const x = input();
    const outs = op.candidates().map((c) => Array.from(tf.tidy(() => c.call(x)).dataSync()));
    const w = softmax([0.05, 0.45, -0.1]);
    const got = tf.tidy(() => Array.from(op.call(x).dataSync()));
    got.forEach((v, k) => expect(v).toBeCloseTo(sum(outs.map((o, i) => w[i] * o[k])), 5));
    expect(op.lastNoise).toEqual([0, 0, 0]);
    expect(op.toArchDesc()).toEqual({ type: 'TestLin', seed: 2 });
    expect(op.chosenIndex()).toBe(1);
    x.dispose();
    dispose();
  });
});
