import { describe, expect, it } from 'vitest';
import { ABSENT, importance, paramColumns } from './analysis.js';
import type { Trial } from './view.js';
import { Rng } from '@modnas/core';

/** Seeded draws in [0, 1) (core's Rng). */
const rng = (seed: number): (() => number) => {
  const g = new Rng(seed);
  return () => g.next();
};
const gauss = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

const trial = (i: number, arch: Record<string, unknown>, score: number | null): Trial => ({ id: i + 1, estim: 'search', index: i, arch, metrics: {}, status: 'done', score });

/** Random search over 4 choices and a log-uniform lr; only `planted` moves the score (plus noise). */
function synthetic(n: number, seed: number): Trial[] {
  const r = rng(seed);
  const ops = ['conv3', 'conv5', 'skip', 'NIL'];
  const effect: Record<string, number> = { conv3: 0.3, conv5: 0.25, skip: 0.1, NIL: 0 };
  return Array.from({ length: n }, (_, i) => {
    const arch = { planted: ops[Math.floor(r() * 4)], a: ops[Math.floor(r() * 4)], b: ops[Math.floor(r() * 3)], c: Math.floor(r() * 2) * 16 + 16, lr: 10 ** (-4 + 3 * r()) };
    return trial(i, arch, 0.6 + effect[arch.planted] + 0.02 * gauss(r));
  });
}

describe('importance (fANOVA main effects of an additive fit)', () => {
  it('ranks the planted choice first with most of the variance; choices without effect get about 0', () => {
    const imp = importance(synthetic(2000, 1));
    expect(imp.n).toBe(2000);
    expect(imp.params.map((p) => p.param)[0]).toBe('planted');
    const [planted, ...others] = imp.params;
    // the noise (σ = 0.02) is about 2 % of the variance (var of the effects ≈ 0.0145)
    expect(planted.share).toBeGreaterThan(0.95);
    for (const p of others) expect(p.share, p.param).toBeLessThan(0.005);
    expect(imp.rest).toBeCloseTo(1 - imp.params.reduce((s, p) => s + p.share, 0), 12);
    // the level means recover the planted effects
    const means = Object.fromEntries(planted.levels.map((l) => [l.name, l.mean]));
    expect(means.conv3 - means.NIL).toBeCloseTo(0.3, 2);
    expect(means.skip - means.NIL).toBeCloseTo(0.1, 2);
  });

  it('a numeric parameter with no effect, binned in 10, gets about 0 (η² has it at about 9 / (n − 1) by chance)', () => {
    const imp = importance(synthetic(2000, 7));
    const lr = imp.params.find((p) => p.param === 'lr')!;
    expect(lr.kind).toBe('numeric');
    expect(lr.levels).toHaveLength(10);
    // η² of a parameter without effect is about (levels − 1) / (n − 1) = 0.0045 by chance alone; ε² about 0
    expect(lr.eta2).toBeGreaterThan(0.002);
    expect(lr.share).toBeLessThan(0.002);
    expect(lr.share).toBeLessThan(lr.eta2);
    expect(imp.params[0].param).toBe('planted');
  });

  it('a numeric hyperparameter that drives the score ranks first', () => {
    const r = rng(3);
    const trials = Array.from({ length: 1000 }, (_, i) => {
      const lr = 10 ** (-4 + 3 * r());
      return trial(i, { lr, op: ['a', 'b'][i % 2] }, -((Math.log10(lr) + 2.5) ** 2) + 0.05 * gauss(r));
    });
    const imp = importance(trials);
    expect(imp.params[0].param).toBe('lr');
    expect(imp.params[0].share).toBeGreaterThan(0.8);
    expect(imp.params[1].share).toBeLessThan(0.01);
  });

  it('matches the sums of squares worked by hand, and ignores trials without a score', () => {
    // scores 1 3 | 5 7: mean 4, SS_total 20, level means 2 and 6: SS_between 16, SS_within 4
    const imp = importance([trial(0, { p: 'a' }, 1), trial(1, { p: 'a' }, 3), trial(2, { p: 'b' }, 5), trial(3, { p: 'b' }, 7), trial(4, { p: 'c' }, null)]);
    expect(imp.n).toBe(4);
    expect(imp.variance).toBe(5);
    const [p] = imp.params;
    expect(p.eta2).toBeCloseTo(0.8, 12);
    // one parameter: the fit is the level means; share = (SS_b − (k − 1) · SS_w / (n − k)) / SS_t = (16 − 2) / 20
    expect(p.share).toBeCloseTo(0.7, 12);
    expect(p.levels).toEqual([
      { name: 'a', n: 2, mean: 2, std: 1, effect: -2 },
      { name: 'b', n: 2, mean: 6, std: 1, effect: 2 },
    ]);
    expect(imp.spare).toBe(2);
    expect(imp.scored.map((t) => t.id)).toEqual([1, 2, 3, 4]);
    expect(Array.from(imp.columns[0].codes)).toEqual([0, 0, 1, 1]);
  });

  it('a parameter sampled together with the one that matters gets none of its credit (η² gives it half)', () => {
    // an optimizer that keeps `follower` equal to `driver` in 70 % of its samples; only `driver` counts
    const r = rng(5);
    const ops = ['a', 'b', 'c'];
    const trials = Array.from({ length: 3000 }, (_, i) => {
      const driver = Math.floor(r() * 3);
      const follower = r() < 0.7 ? driver : Math.floor(r() * 3);
      return trial(i, { driver: ops[driver], follower: ops[follower] }, driver + 0.3 * gauss(r));
    });
    const imp = importance(trials);
    const [first, second] = imp.params;
    expect(first.param).toBe('driver');
    expect(first.share).toBeGreaterThan(0.85);
    expect(second.eta2).toBeGreaterThan(0.4);
    expect(second.share).toBeLessThan(0.005);
    // its fitted effects are about 0 though its level means differ by a lot
    for (const l of second.levels) expect(Math.abs(l.effect)).toBeLessThan(0.03);
    const mean = (name: string): number => second.levels.find((l) => l.name === name)!.mean;
    expect(mean('c') - mean('a')).toBeGreaterThan(1);
  });

  it('all scores equal: every share 0, nothing divided by zero', () => {
    const imp = importance([trial(0, { p: 'a' }, 1), trial(1, { p: 'b' }, 1)]);
    expect(imp.params[0].share).toBe(0);
    expect(imp.params[0].eta2).toBe(0);
  });

  it('100,000 trials over 5 choices: a few passes per choice (well under a second here)', () => {
    const trials = synthetic(100_000, 11);
    const t0 = performance.now();
    const imp = importance(trials);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(imp.params[0].param).toBe('planted');
  });
});

describe('paramColumns', () => {
  it('levels: numbers ascending, strings as first seen, a missing value as its own level', () => {
    const trials = [trial(0, { ch: 64, op: 'skip' }, 1), trial(1, { ch: 16, op: 'conv' }, 1), trial(2, { ch: 32 }, 1)];
    const [ch, op] = paramColumns(trials);
    expect(ch.levels).toEqual(['16', '32', '64']);
    expect(Array.from(ch.codes)).toEqual([2, 0, 1]);
    expect(op.levels).toEqual(['skip', 'conv', ABSENT]);
    expect(Array.from(op.codes)).toEqual([0, 1, 2]);
  });

  it('declared choices order the parameters and their levels; values not declared come after', () => {
    const trials = [trial(0, { b: 'x', a: 'skip' }, 1), trial(1, { b: 'y', a: 'conv' }, 1), trial(2, { b: 'z', a: 'odd' }, 1)];
    const cols = paramColumns(trials, { declared: [{ name: 'a', choices: ['conv', 'skip', 'NIL'] }, { name: 'gone' }] });
    expect(cols.map((c) => c.name)).toEqual(['a', 'b']);
    expect(cols[0].levels).toEqual(['conv', 'skip', 'odd']);
    expect(Array.from(cols[0].codes)).toEqual([1, 0, 2]);
  });

  it('a numeric parameter with many values: quantile bins, equal values in one bin', () => {
    const trials = Array.from({ length: 40 }, (_, i) => trial(i, { x: i < 10 ? 0 : i }, 1));
    const [x] = paramColumns(trials, { bins: 4 });
    expect(x.kind).toBe('numeric');
    expect(x.levels).toEqual(['[0, 0]', '(0, 19]', '(19, 29]', '(29, 39]']);
    const codes = Array.from(x.codes);
    expect(codes.slice(0, 10).every((c) => c === 0)).toBe(true);
    expect(codes.filter((c) => c === 2)).toHaveLength(10);
  });
});
