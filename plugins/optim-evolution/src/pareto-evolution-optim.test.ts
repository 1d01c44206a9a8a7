import type { Assignment } from '@modnas/core';
import { ArchSpace, Rng } from '@modnas/core';
import { componentRng } from '@modnas/kit-optim';
import { RandomSearchOptim } from '@modnas/optim-random';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import type { ParetoEvolutionConfig } from './pareto-evolution-optim.js';
import { ParetoEvolutionOptim, crowdingDistance, dominates, hypervolume2d, nondominatedFronts, paretoEvolutionOptim, paretoEvolutionOptimSchema } from './pareto-evolution-optim.js';

const cfg = (over: Partial<ParetoEvolutionConfig> = {}) => paretoEvolutionOptimSchema.parse(over);

/** 10 params x 4 choices; accuracy rises with the choice, cost rises faster for some params: a real trade-off. */
function problem() {
  const rng = new Rng(11);
  const gain = Array.from({ length: 10 }, () => [0, 1, 2, 3].map((k) => k * (0.5 + rng.next())));
  const cost = Array.from({ length: 10 }, () => [0, 1, 2, 3].map((k) => k * k * (0.2 + rng.next())));
  const space = () => {
    const s = new ArchSpace();
    for (let i = 0; i < 10; i++) s.categorical({ name: `p${i}`, choices: [0, 1, 2, 3] });
    return s;
  };
  const acc = (a: Assignment) => gain.reduce((t, g, i) => t + g[Number(a[`p${i}`])], 0);
  const params = (a: Assignment) => cost.reduce((t, c, i) => t + c[Number(a[`p${i}`])], 0);
  return { space, acc, params };
}

function drive(o: { next(n: number): Assignment[]; step(f: { results: Array<{ arch: Assignment; score: number; metrics: Record<string, number> }> }): unknown }, p: ReturnType<typeof problem>, queries: number): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (let q = 0; q < queries; q++) {
    const [a] = o.next(1);
    pts.push([p.acc(a), -p.params(a)]);
    void o.step({ results: [{ arch: a, score: p.acc(a), metrics: { params: p.params(a) } }] });
  }
  return pts;
}

describe('non-dominated sorting', () => {
  it('fronts, domination, crowding distance and 2-d hypervolume on hand-checked points', () => {
    const pts = [
      [3, 1],
      [1, 3],
      [2, 2],
      [1, 1],
      [2, 0.5],
      [0, 0],
    ];
    expect(dominates([2, 2], [1, 1])).toBe(true);
    expect(dominates([2, 2], [2, 2])).toBe(false);
    expect(dominates([3, 1], [1, 3])).toBe(false);
    expect(nondominatedFronts(pts)).toEqual([[0, 1, 2], [3, 4], [5]]);
    const d = crowdingDistance([
      [0, 4],
      [1, 2],
      [2, 1],
      [4, 0],
    ]);
    expect(d[0]).toBe(Infinity);
    expect(d[3]).toBe(Infinity);
    expect(d[1]).toBeCloseTo(2 / 4 + 3 / 4, 12);
    expect(d[2]).toBeCloseTo(3 / 4 + 2 / 4, 12);
    // the union of [0,3]x[0,1], [0,1]x[0,3], [0,2]x[0,2]: 3 + 2 + 1 + ... = 6
    expect(hypervolume2d(pts, [0, 0])).toBeCloseTo(6, 12);
    expect(hypervolume2d([[1, 1]], [1, 0])).toBe(0); // on the reference: nothing
  });
});

describe('ParetoEvolutionOptim', () => {
  it('P random candidates, then children one param (or a crossover) away from the population; no repeats while avoidable', () => {
    const p = problem();
    const o = new ParetoEvolutionOptim(p.space(), componentRng(0, new Rng(1)), cfg({ population_size: 8, crossover_prob: 0 }));
    drive(o, p, 8);
    const members = o.evaluated().map((m) => m.arch);
    const [child] = o.next(1);
    const diffs = members.map((m) => Object.keys(child).filter((k) => child[k] !== m[k]).length);
    expect(Math.min(...diffs)).toBe(1);
    void o.step({ results: [{ arch: child, score: p.acc(child), metrics: { params: p.params(child) } }] });
    drive(o, p, 60);
    expect(new Set(o.evaluated().map((m) => JSON.stringify(m.arch))).size).toBe(o.evaluated().length);
  });

  it('front() is the non-dominated subset of what was evaluated, with min objectives negated', () => {
    const p = problem();
    const o = new ParetoEvolutionOptim(p.space(), componentRng(0, new Rng(2)), cfg({ population_size: 10 }));
    drive(o, p, 40);
    const front = o.front();
    const all = o.evaluated();
    for (const f of front) for (const a of all) expect(dominates(a.values, f.values)).toBe(false);
    for (const a of all) if (!front.some((f) => JSON.stringify(f.arch) === JSON.stringify(a.arch))) expect(front.some((f) => dominates(f.values, a.values))).toBe(true);
    expect(all[0].values[1]).toBe(-p.params(all[0].arch));
  });

  it('covers more hypervolume than random search (mean over 10 seeds, 150 queries)', () => {
    const p = problem();
    let hvNsga = 0;
    let hvRs = 0;
    for (let seed = 0; seed < 10; seed++) {
      const a = drive(new ParetoEvolutionOptim(p.space(), componentRng(0, new Rng(seed)), cfg({ population_size: 15 })), p, 150);
      const b = drive(new RandomSearchOptim(p.space(), componentRng(0, new Rng(seed))), p, 150);
      const ref: [number, number] = [0, -200];
      hvNsga += hypervolume2d(a, ref) / 10;
      hvRs += hypervolume2d(b, ref) / 10;
    }
    expect(hvNsga).toBeGreaterThan(hvRs * 1.05);
  });

  it('a result without the objective metric is a coded error naming it', () => {
    const p = problem();
    const o = new ParetoEvolutionOptim(p.space(), new Rng(0), cfg());
    const [a] = o.next(1);
    expect(() => o.step({ results: [{ arch: a, score: 1, metrics: { flops: 3 } }] })).toThrow(expect.objectContaining({ code: 'MODNAS_E_OPTIM_OBJECTIVE' }));
    expect(() => paretoEvolutionOptimSchema.parse({ objectives: [{ metric: 'score', goal: 'max' }] })).toThrow();
  });

  it('state() survives JSON; a restored optimizer continues identically; deterministic through the component', async () => {
    const p = problem();
    const s = p.space();
    const a = new ParetoEvolutionOptim(s, componentRng(0, new Rng(4)), cfg({ population_size: 6 }));
    drive(a, p, 23);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = new ParetoEvolutionOptim(s, new Rng(99), cfg({ population_size: 6 }));
    b.restore(saved);
    expect(drive(b, p, 30)).toEqual(drive(a, p, 30));
    expect(b.front()).toEqual(a.front());
    expect(() => new ParetoEvolutionOptim(s, new Rng(0), cfg()).restore({ rng: 1, type: 'ParetoEvolutionOptim' })).toThrow(/no population/);
    const run = async (seed: number) => drive(await paretoEvolutionOptim.create(cfg({ population_size: 5, seed }), makeBuildContext({ space: p.space() }), undefined), p, 20);
    expect(await run(0)).toEqual(await run(0));
    expect(await run(1)).not.toEqual(await run(0));
  });
});
