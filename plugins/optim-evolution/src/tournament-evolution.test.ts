import type { Assignment, SearchOptimizer } from '@modnas/core';
import { ArchSpace, Rng } from '@modnas/core';
import { componentRng, latencyConstraintOf } from '@modnas/kit-optim';
import { RandomSearchOptim } from '@modnas/optim-random';
import { describeConformance, makeBuildContext, bestOf, latencyProblem, toyObjective } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { evolutionOptim } from './evolution-optim.js';
import plugin from './index.js';
import { regularizedEvolutionOptim } from './regularized-evolution-optim.js';
import { TournamentEvolution, evolutionSchema } from './tournament-evolution.js';

const addParam = (o: unknown) => (o as { space: ArchSpace }).space.categorical({ name: 'a', choices: ['x', 'y', 'z'] });
const oneStep = (o: unknown) => {
  addParam(o);
  const opt = o as SearchOptimizer;
  for (let i = 0; i < 3; i++) {
    const [a] = opt.next(1);
    void opt.step({ results: [{ arch: a, score: i, metrics: {} }] });
  }
};
const oneParetoStep = (o: unknown) => {
  addParam(o);
  const opt = o as SearchOptimizer;
  for (let i = 0; i < 3; i++) {
    const [a] = opt.next(1);
    void opt.step({ results: [{ arch: a, score: i, metrics: { params: 3 - i } }] });
  }
};
describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { EvolutionOptim: { population_size: 2, sample_size: 2 }, RegularizedEvolutionOptim: { population_size: 2, sample_size: 2 }, ParetoEvolutionOptim: { population_size: 2 } },
  step: { EvolutionOptim: oneStep, RegularizedEvolutionOptim: oneStep, ParetoEvolutionOptim: oneParetoStep },
});

const toy = toyObjective;

const evo = (s: ArchSpace, seed: number, removal: 'oldest' | 'worst', p = 10, k = 3) => new TournamentEvolution('x', s, componentRng(0, new Rng(seed)), p, k, removal);

describe('TournamentEvolution', () => {
  it('starts with P random candidates, then proposes one-param mutants of population members', () => {
    const { space, f } = toy();
    const s = space();
    const o = evo(s, 1, 'oldest', 5, 2);
    const init = o.next(5);
    void o.step({ results: init.map((a) => ({ arch: a, score: f(a), metrics: {} })) });
    for (let i = 0; i < 20; i++) {
      const [child] = o.next(1);
      const diffs = o.members().map((m) => Object.keys(child).filter((k) => child[k] !== m.arch[k]).length);
      expect(diffs).toContain(1); // its parent
      void o.step({ results: [{ arch: child, score: f(child), metrics: {} }] });
    }
  });

  it('with a tournament much larger than the population the parent is the best member', () => {
    const { space, f } = toy();
    const o = evo(space(), 2, 'oldest', 4, 200);
    const init = o.next(4);
    void o.step({ results: init.map((a) => ({ arch: a, score: f(a), metrics: {} })) });
    const best = o.members().reduce((b, m) => (m.score > b.score ? m : b));
    for (let i = 0; i < 10; i++) {
      const [child] = o.next(1);
      expect(Object.keys(child).filter((k) => child[k] !== best.arch[k])).toHaveLength(1);
    }
  });

  it('regularized: the oldest leaves; naive: the worst leaves', () => {
    const s = new ArchSpace();
    s.categorical({ name: 'a', choices: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    const scores = [5, 1, 9, 3, 7, 2, 8];
    const feed = (o: TournamentEvolution) => scores.forEach((score, i) => void o.step({ results: [{ arch: { a: i }, score, metrics: {} }] }));
    const aging = evo(s, 0, 'oldest', 3);
    feed(aging);
    expect(aging.members().map((m) => m.score)).toEqual([7, 2, 8]);
    const naive = evo(s, 0, 'worst', 3);
    feed(naive);
    expect(naive.members().map((m) => m.score).sort()).toEqual([7, 8, 9]);
  });

  it('state() survives JSON; a restored optimizer continues identically', () => {
    const { space, f } = toy();
    const s = space();
    const a = evo(s, 4, 'oldest');
    bestOf(a, f, 25);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = evo(s, 99, 'oldest');
    b.restore(saved);
    const runOn = (o: TournamentEvolution) => {
      const out: Assignment[] = [];
      for (let i = 0; i < 15; i++) {
        const [x] = o.next(1);
        out.push(x);
        void o.step({ results: [{ arch: x, score: f(x), metrics: {} }] });
      }
      return out;
    };
    expect(runOn(b)).toEqual(runOn(a));
    expect(() => new TournamentEvolution('y', s, new Rng(0), 10, 3, 'oldest').restore(saved)).toThrow(/saved by x/);
    expect(() => evo(s, 0, 'oldest').restore({ rng: 1, type: 'x' })).toThrow(/no population/);
  });

  it('is deterministic for a seed (through the component) and differs between seeds', async () => {
    const { space, f } = toy();
    const run = async (seed: number) => {
      const s = space();
      const o = await regularizedEvolutionOptim.create(regularizedEvolutionOptim.schema.parse({ population_size: 5, sample_size: 2, seed }), makeBuildContext({ space: s }), undefined);
      const out: Assignment[] = [];
      for (let i = 0; i < 12; i++) {
        const [x] = o.next(1);
        out.push(x);
        await o.step({ results: [{ arch: x, score: f(x), metrics: {} }] });
      }
      return out;
    };
    expect(await run(0)).toEqual(await run(0));
    expect(await run(1)).not.toEqual(await run(0));
  });

  it('both evolutions beat random search on the toy objective (mean best of 100 queries over 30 seeds)', async () => {
    const { space, f } = toy();
    const mean = async (make: (s: ArchSpace, seed: number) => SearchOptimizer | Promise<SearchOptimizer>) => {
      let sum = 0;
      for (let seed = 0; seed < 30; seed++) {
        const s = space();
        sum += bestOf(await make(s, seed), f, 100);
      }
      return sum / 30;
    };
    const rs = await mean((s, seed) => new RandomSearchOptim(s, componentRng(0, new Rng(seed))));
    const rea = await mean((s, seed) => regularizedEvolutionOptim.create(regularizedEvolutionOptim.schema.parse({ population_size: 10, sample_size: 3 }), makeBuildContext({ space: s, seed }), undefined));
    const ne = await mean((s, seed) => evolutionOptim.create(evolutionOptim.schema.parse({ population_size: 10, sample_size: 3 }), makeBuildContext({ space: s, seed }), undefined));
    expect(rea).toBeGreaterThan(rs + 0.1);
    expect(ne).toBeGreaterThan(rs + 0.1);
  });
});

describe('TournamentEvolution with latency_max_ms', () => {
  const LIMIT = 12;
  const constrained = latencyConstraintOf(evolutionSchema.parse({ latency_max_ms: LIMIT }));
  const diff = (a: Assignment, b: Assignment) => Object.keys(a).filter((k) => a[k] !== b[k]).length;

  it('the parent is the best feasible member, never a faster-scoring slow one; without the limit it is the slow one', () => {
    const p = latencyProblem();
    // all-0 .. all-3: scores and latencies rise together; only all-0 and all-1 are within 12 ms
    expect([0, 1, 2, 3].map((k) => p.latency(p.all(k)) <= LIMIT)).toEqual([true, true, false, false]);
    const parentOf = (o: TournamentEvolution) => {
      o.next(4);
      void o.step({ results: [0, 1, 2, 3].map((k) => p.result(p.all(k))) });
      const parents = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const [child] = o.next(1);
        parents.add([0, 1, 2, 3].find((k) => diff(child, p.all(k)) === 1)!);
      }
      return [...parents];
    };
    expect(parentOf(new TournamentEvolution('x', p.space(), new Rng(1), 4, 200, 'oldest', constrained))).toEqual([1]);
    expect(parentOf(new TournamentEvolution('x', p.space(), new Rng(1), 4, 200, 'oldest'))).toEqual([3]);
  });

  it('while no member is feasible, the parent is the member least over the limit (not the best scoring)', () => {
    const p = latencyProblem();
    const tight = latencyConstraintOf(evolutionSchema.parse({ latency_max_ms: 3 }));
    const o = new TournamentEvolution('x', p.space(), new Rng(2), 3, 200, 'oldest', tight);
    o.next(3);
    void o.step({ results: [1, 2, 3].map((k) => p.result(p.all(k))) });
    expect(o.members().every((m) => m.violation > 0)).toBe(true);
    for (let i = 0; i < 10; i++) expect(diff(o.next(1)[0], p.all(1))).toBe(1);
  });

  it('a search never takes a parent over the limit while the population holds a feasible member (regularized evolution, 80 queries)', async () => {
    const p = latencyProblem();
    const run = async (latency_max_ms: number | null) => {
      const cfg = regularizedEvolutionOptim.schema.parse({ population_size: 10, sample_size: 200, latency_max_ms });
      const o = (await regularizedEvolutionOptim.create(cfg, makeBuildContext({ space: p.space(), seed: 3 }), undefined)) as TournamentEvolution;
      const slowParents: number[] = [];
      for (let q = 0; q < 80; q++) {
        const members = o.members();
        const [child] = o.next(1);
        if (q >= 10) {
          // S = 200 draws from 10 members: the tournament sees every member, so the parent is the best ranked
          const ranked = members.filter((m) => latency_max_ms === null || m.violation === 0);
          expect(ranked.length).toBeGreaterThan(0);
          const parent = ranked.reduce((b, m) => (m.score > b.score ? m : b));
          expect(diff(child, parent.arch)).toBe(1);
          if (p.latency(parent.arch) > LIMIT) slowParents.push(q);
        }
        void o.step({ results: [p.result(child)] });
      }
      return { slowParents, members: o.members() };
    };
    const bounded = await run(LIMIT);
    expect(bounded.slowParents).toEqual([]);
    expect(bounded.members.some((m) => m.violation === 0)).toBe(true);
    const free = await run(null);
    expect(free.slowParents.length).toBeGreaterThan(0);
  });

  it('naive evolution: the member furthest over the limit leaves first, whatever its score', () => {
    const s = new ArchSpace();
    s.categorical({ name: 'a', choices: [0, 1, 2, 3, 4, 5] });
    const rows: Array<[number, number]> = [
      [5, 10], // score, latency
      [9, 30],
      [1, 10],
      [8, 20],
      [3, 10],
    ];
    const feed = (o: TournamentEvolution) => rows.forEach(([score, latency], i) => void o.step({ results: [{ arch: { a: i }, score, metrics: { latency } }] }));
    const naive = new TournamentEvolution('x', s, new Rng(0), 3, 2, 'worst', latencyConstraintOf({ latency_max_ms: 15, latency_metric: 'latency' }));
    feed(naive);
    expect(naive.members().map((m) => [m.score, m.violation])).toEqual([
      [5, 0],
      [1, 0],
      [3, 0],
    ]);
    const free = new TournamentEvolution('x', s, new Rng(0), 3, 2, 'worst');
    feed(free);
    expect(free.members().map((m) => m.score)).toEqual([5, 9, 8]);
  });

  it('isFeasible, the saved state, and a result without the latency metric (a coded error; fine without a limit)', () => {
    const p = latencyProblem();
    const o = new TournamentEvolution('EvolutionOptim', p.space(), new Rng(0), 4, 2, 'worst', constrained);
    expect(o.isFeasible(p.result(p.all(1)))).toBe(true);
    expect(o.isFeasible(p.result(p.all(3)))).toBe(false);
    void o.step({ results: [0, 1, 2, 3].map((k) => p.result(p.all(k))) });
    const b = new TournamentEvolution('EvolutionOptim', p.space(), new Rng(5), 4, 2, 'worst', constrained);
    b.restore(JSON.parse(JSON.stringify(o.state())));
    expect(b.members()).toEqual(o.members());
    expect(b.members().map((m) => m.violation > 0)).toEqual([false, false, true, true]);
    const bare = { arch: p.all(0), score: 1, metrics: { params: 3 } };
    expect(() => o.step({ results: [bare] })).toThrow(expect.objectContaining({ code: 'MODNAS_E_OPTIM_CONSTRAINT', where: 'optim.latency_max_ms' }));
    expect(() => o.step({ results: [bare] })).toThrow(/EvolutionOptim: optim\.latency_max_ms is 12 ms.*no metric "latency"/s);
    expect(() => new TournamentEvolution('x', p.space(), new Rng(0), 4, 2, 'worst').step({ results: [bare] })).not.toThrow();
  });
});
