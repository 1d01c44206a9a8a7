import type { Assignment } from '@modnas/core';
import { ArchSpace, Rng } from '@modnas/core';
import { componentRng } from '@modnas/kit-optim';
import { RandomSearchOptim } from '@modnas/optim-random';
import { describeConformance, makeBuildContext, bestOf, toyObjective } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { ExponentialMovingAverage, FlatOptimizer, gradLogProb, sampleIndex, softmax } from './policy.js';
import { REINFORCEOptim, reinforceOptim } from './reinforce-optim.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    REINFORCEOptim: (o) => {
      (o as { space: ArchSpace }).space.categorical({ name: 'a', choices: ['x', 'y', 'z'] });
      const opt = o as REINFORCEOptim;
      const archs = opt.next(3);
      opt.step({ results: archs.map((arch, i) => ({ arch, score: i, metrics: {} })) });
    },
  },
});

const make = (s: ArchSpace, seed: number, over: Record<string, unknown> = {}) => new REINFORCEOptim(s, componentRng(0, new Rng(seed)), reinforceOptim.schema.parse(over));

const toy = toyObjective;

describe('policy maths', () => {
  it('gradLogProb matches central finite differences of log softmax', () => {
    const logits = [0.3, -1.2, 0.8, 0.05];
    for (let a = 0; a < 4; a++) {
      const g = gradLogProb(logits, a);
      for (let k = 0; k < 4; k++) {
        const h = 1e-5;
        const up = logits.map((v, i) => (i === k ? v + h : v));
        const dn = logits.map((v, i) => (i === k ? v - h : v));
        const fd = (Math.log(softmax(up)[a]) - Math.log(softmax(dn)[a])) / (2 * h);
        expect(g[k]).toBeCloseTo(fd, 6);
      }
    }
  });

  it('Adam takes PyTorch-Adam steps; SGD takes lr·g', () => {
    const p = [[1, -1]];
    const adam = new FlatOptimizer('adam', 0.1, [2]);
    adam.apply(p, [[0.5, -2]]);
    // first step of Adam moves each coordinate by ≈ lr·sign(g)
    expect(p[0][0]).toBeCloseTo(1 - 0.1, 6);
    expect(p[0][1]).toBeCloseTo(-1 + 0.1, 6);
    adam.apply(p, [[0.5, 1]]);
    // by hand: m = 0.9·m1 + 0.1·g, v = 0.999·v1 + 0.001·g², corrected by 1−β^2
    const m = 0.9 * (0.1 * -2) + 0.1 * 1;
    const v = 0.999 * (0.001 * 4) + 0.001 * 1;
    expect(p[0][1]).toBeCloseTo(-0.9 - (0.1 / (1 - 0.81)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** 2) + 1e-8)), 6);
    const q = [[1, 2]];
    new FlatOptimizer('sgd', 0.5, [2]).apply(q, [[1, -2]]);
    expect(q[0]).toEqual([0.5, 3]);
  });

  it('the EMA baseline is bias-corrected (NAS-Bench-201): first value = first reward', () => {
    const b = new ExponentialMovingAverage(0.9);
    b.update(80);
    expect(b.value).toBeCloseTo(80, 12);
    b.update(90);
    expect(b.value).toBeCloseTo((0.9 * 0.1 * 80 + 0.1 * 90) / (0.9 * 0.1 + 0.1), 12);
  });

  it('sampleIndex inverts the cumulative distribution', () => {
    expect([0, 0.19, 0.2, 0.69, 0.7, 0.999].map((u) => sampleIndex([0.2, 0.5, 0.3], u))).toEqual([0, 0, 1, 1, 2, 2]);
  });
});

describe('REINFORCEOptim', () => {
  it('one update moves the logits by −lr·sign((r−b)·(onehot−π)) with Adam (second sample onwards)', () => {
    const s = new ArchSpace();
    s.categorical({ name: 'a', choices: ['x', 'y', 'z'] });
    const o = make(s, 0, { lr: 0.01 });
    const p0 = o.probabilities().a;
    o.step({ results: [{ arch: { a: 'x' }, score: 50, metrics: {} }] }); // advantage 0: no move
    expect(o.probabilities().a).toEqual(p0);
    o.step({ results: [{ arch: { a: 'y' }, score: 60, metrics: {} }] }); // advantage > 0: towards y
    const p1 = o.probabilities().a;
    expect(p1[1]).toBeGreaterThan(p0[1]);
    expect(p1[0]).toBeLessThan(p0[0]);
    expect(p1[2]).toBeLessThan(p0[2]);
  });

  it('learns the best choice of each param of a separable objective', () => {
    const { space, f } = toy();
    const s = space();
    const o = make(s, 1, { lr: 0.05 });
    bestOf(o, f, 400);
    const probs = o.probabilities();
    // the choice with the largest weight of p7 (no interaction) has become the most likely
    const scores = [0, 1, 2, 3].map((k) => f({ p0: 0, p1: 1, p2: 0, p3: 0, p4: 0, p5: 0, p6: 0, p7: k }));
    const bestK = scores.indexOf(Math.max(...scores));
    expect(probs.p7.indexOf(Math.max(...probs.p7))).toBe(bestK);
    expect(probs.p7[bestK]).toBeGreaterThan(0.4);
  });

  it('beats random search on the toy objective (NAS-Bench-201 settings lr 0.01, EMA 0.9; mean best of 150 queries over 30 seeds)', () => {
    const { space, f } = toy();
    let rs = 0;
    let rl = 0;
    for (let seed = 0; seed < 30; seed++) {
      rs += bestOf(new RandomSearchOptim(space(), componentRng(0, new Rng(seed))), f, 150) / 30;
      rl += bestOf(make(space(), seed), f, 150) / 30;
    }
    expect(rl).toBeGreaterThan(rs);
  });

  it('batch_size averages several results into one update', () => {
    const s = new ArchSpace();
    s.categorical({ name: 'a', choices: ['x', 'y'] });
    const o = make(s, 0, { batch_size: 2 });
    const p0 = o.probabilities().a;
    o.step({ results: [{ arch: { a: 'x' }, score: 1, metrics: {} }] });
    expect(o.probabilities().a).toEqual(p0); // pending
    expect((o.state() as { pending: { count: number } }).pending.count).toBe(1);
    o.step({ results: [{ arch: { a: 'y' }, score: 3, metrics: {} }] });
    // advantages 0 and 3 − EMA(1, 3) > 0: the averaged gradient favours y; Adam's first step is ±lr per logit
    const p1 = o.probabilities().a;
    expect(p1[1]).toBeGreaterThan(p0[1]);
    const logit = (p: number[]) => Math.log(p[1] / p[0]);
    expect(logit(p1) - logit(p0)).toBeCloseTo(2 * 0.01, 6);
    expect((o.state() as { pending: unknown }).pending).toBeNull();
  });

  it('state() survives JSON; a restored optimizer continues identically; deterministic per seed', async () => {
    const { space, f } = toy();
    const s = space();
    const a = make(s, 3);
    bestOf(a, f, 30);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = make(s, 77);
    b.restore(saved);
    const cont = (o: REINFORCEOptim) => {
      const out: Assignment[] = [];
      for (let i = 0; i < 20; i++) {
        const [x] = o.next(1);
        out.push(x);
        o.step({ results: [{ arch: x, score: f(x), metrics: {} }] });
      }
      return out;
    };
    expect(cont(b)).toEqual(cont(a));
    expect(b.probabilities()).toEqual(a.probabilities());
    const viaComponent = async (seed: number) => (await reinforceOptim.create(reinforceOptim.schema.parse({ seed }), makeBuildContext({ space: space() }), undefined)).next(5);
    expect(await viaComponent(0)).toEqual(await viaComponent(0));
    expect(await viaComponent(1)).not.toEqual(await viaComponent(0));
    const other = new ArchSpace();
    other.categorical({ name: 'q', choices: [1, 2, 3, 4] });
    expect(() => make(other, 0).restore(saved)).toThrow(/params/);
  });
});
