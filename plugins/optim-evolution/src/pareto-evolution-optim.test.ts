import type { Assignment, TrialResult } from '@modnas/core';
import { ArchSpace, Rng } from '@modnas/core';
import { componentRng } from '@modnas/kit-optim';
import { RandomSearchOptim } from '@modnas/optim-random';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import type { ParetoEvolutionConfig } from './pareto-evolution-optim.js';
import { ParetoEvolutionOptim, constrainedDominates, crowdingDistance, dominates, hypervolume2d, nondominatedFronts, paretoEvolutionOptim, paretoEvolutionOptimSchema } from './pareto-evolution-optim.js';

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

/** Hand-checked points (two objectives, higher is better): fronts [[0, 1, 2], [3, 4], [5]]. */
const HAND_POINTS = [
  [3, 1],
  [1, 3],
  [2, 2],
  [1, 1],
  [2, 0.5],
  [0, 0],
];

describe('non-dominated sorting', () => {

  it('fronts, domination, crowding distance and 2-d hypervolume on hand-checked points', () => {
    const pts = HAND_POINTS;
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

describe('ParetoEvolutionOptim with latency_max_ms', () => {
  const LIMIT = 10;
  /** The problem above with a latency that grows with params: the fastest candidates score worst. */
  const withLatency = (p: ReturnType<typeof problem>) => (a: Assignment): TrialResult => ({ arch: a, score: p.acc(a), metrics: { params: p.params(a), latency: 1 + p.params(a) / 2 } });

  it('constrained domination: feasible before infeasible, infeasible by how far over the limit, feasible by plain domination', () => {
    expect(constrainedDominates([0, 0], 0, [9, 9], 0.5)).toBe(true);
    expect(constrainedDominates([9, 9], 0.5, [0, 0], 0)).toBe(false);
    expect(constrainedDominates([0, 0], 1, [9, 9], 2)).toBe(true);
    expect(constrainedDominates([9, 9], 2, [0, 0], 2)).toBe(false);
    expect(constrainedDominates([2, 2], 0, [1, 1], 0)).toBe(true);
    expect(constrainedDominates([3, 1], 0, [1, 3], 0)).toBe(false);
    const pts = HAND_POINTS;
    // [1, 3] would be on the first front; 2 ms over the limit it ranks after every feasible point
    expect(nondominatedFronts(pts, [0, 2, 0, 0, 5, 2])).toEqual([[0, 2], [3], [1, 5], [4]]);
    expect(nondominatedFronts(pts, [0, 0, 0, 0, 0, 0])).toEqual(nondominatedFronts(pts));
  });

  it('selection keeps the feasible results over slow ones that dominate them on every objective', () => {
    const p = problem();
    const o = new ParetoEvolutionOptim(p.space(), new Rng(0), cfg({ population_size: 3, latency_max_ms: LIMIT }));
    const archs = o.next(6);
    // the three slow ones dominate the three fast ones on both objectives
    const rows: Array<[number, number, number]> = [
      [1, 1, 6], // score, params, latency
      [2, 2, 8],
      [3, 3, 10],
      [9, 0, 20],
      [8, 0.5, 30],
      [7, 0.2, 40],
    ];
    void o.step({ results: rows.map(([score, params, latency], i) => ({ arch: archs[i], score, metrics: { params, latency } })) });
    const population = (o.state() as { population: Array<{ arch: Assignment; rank: number }> }).population;
    expect(population.map((m) => archs.findIndex((a) => JSON.stringify(a) === JSON.stringify(m.arch))).sort()).toEqual([0, 1, 2]);
    expect(o.front().map((m) => m.values)).toEqual([
      [1, -1],
      [2, -2],
      [3, -3],
    ]);
    expect(o.evaluated().map((m) => m.violation)).toEqual([0, 0, 0, 10, 20, 30]);
  });

  it('latency as an objective ({ metric: latency, goal: min }): the constrained front holds only feasible candidates, the free one slow ones', () => {
    const p = problem();
    const result = withLatency(p);
    const run = (latency_max_ms: number | null) => {
      const o = new ParetoEvolutionOptim(p.space(), componentRng(0, new Rng(6)), cfg({ population_size: 10, latency_max_ms, objectives: [{ metric: 'score', goal: 'max' }, { metric: 'latency', goal: 'min' }] }));
      for (let q = 0; q < 100; q++) {
        const [a] = o.next(1);
        void o.step({ results: [result(a)] });
      }
      return o;
    };
    const bounded = run(LIMIT);
    const all = bounded.evaluated();
    expect(all[0].values).toEqual([p.acc(all[0].arch), -(1 + p.params(all[0].arch) / 2)]);
    expect(all.some((m) => m.violation > 0)).toBe(true); // the random generation has slow ones ...
    const front = bounded.front();
    expect(front.length).toBeGreaterThan(1);
    for (const m of front) expect(-m.values[1]).toBeLessThanOrEqual(LIMIT); // ... the front none
    for (const m of front) expect(m.violation).toBe(0);
    // the front is non-dominated among the feasible candidates
    for (const f of front) for (const a of all) if (a.violation === 0) expect(dominates(a.values, f.values)).toBe(false);
    const free = run(null).front();
    expect(free.some((m) => -m.values[1] > LIMIT)).toBe(true);
  });

  it('isFeasible, the saved state, and a result without the latency metric (a coded error naming optim.latency_max_ms)', () => {
    const p = problem();
    const result = withLatency(p);
    const a = new ParetoEvolutionOptim(p.space(), componentRng(0, new Rng(4)), cfg({ population_size: 4, latency_max_ms: LIMIT }));
    const slow = a.next(1)[0];
    for (const k of Object.keys(slow)) slow[k] = 3;
    expect(a.isFeasible(result(slow))).toBe(false);
    for (let q = 0; q < 13; q++) {
      const [x] = a.next(1);
      void a.step({ results: [result(x)] });
    }
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = new ParetoEvolutionOptim(p.space(), new Rng(99), cfg({ population_size: 4, latency_max_ms: LIMIT }));
    b.restore(saved);
    expect(b.evaluated()).toEqual(a.evaluated());
    const [x] = a.next(1);
    expect(() => a.step({ results: [{ arch: x, score: 1, metrics: { params: 3 } }] })).toThrow(expect.objectContaining({ code: 'MODNAS_E_OPTIM_CONSTRAINT', where: 'optim.latency_max_ms' }));
    expect(() => new ParetoEvolutionOptim(p.space(), new Rng(0), cfg()).step({ results: [{ arch: x, score: 1, metrics: { params: 3 } }] })).not.toThrow();
  });
});
