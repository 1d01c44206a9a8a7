import type { Assignment, SearchOptimizer } from '@modnas/core';
import { ArchSpace, Rng } from '@modnas/core';
import { componentRng } from '@modnas/kit-optim';
import { RandomSearchOptim } from '@modnas/optim-random';
import { describeConformance, makeBuildContext, bestOf, toyObjective } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { evolutionOptim } from './evolution-optim.js';
import plugin from './index.js';
import { regularizedEvolutionOptim } from './regularized-evolution-optim.js';
import { TournamentEvolution } from './tournament-evolution.js';

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
