import type { Assignment, SearchOptimizer } from '@modnas/core';
import { ArchSpace, Rng } from '@modnas/core';
import { componentRng } from '@modnas/kit-optim';
import { RandomSearchOptim } from '@modnas/optim-random';
import { bestOf, describeConformance, makeBuildContext, toyObjective, driveSerially, latencyProblem } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import type { LocalSearchConfig } from './local-search-optim.js';
import { LocalSearchOptim, localSearchOptim, localSearchOptimSchema } from './local-search-optim.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { LocalSearchOptim: { num_init: 2 } },
  step: {
    LocalSearchOptim: (o) => {
      (o as { space: ArchSpace }).space.categorical({ name: 'a', choices: ['x', 'y', 'z'] });
      const opt = o as SearchOptimizer;
      for (let i = 0; i < 3; i++) {
        const [a] = opt.next(1);
        void opt.step({ results: [{ arch: a, score: i, metrics: {} }] });
      }
    },
  },
});

const cfg = (over: Partial<LocalSearchConfig> = {}): LocalSearchConfig => localSearchOptimSchema.parse(over);
const ls = (s: ArchSpace, seed: number, over: Partial<LocalSearchConfig> = {}) => new LocalSearchOptim(s, componentRng(0, new Rng(seed)), cfg(over));
const diff = (a: Assignment, b: Assignment) => Object.keys(a).filter((k) => a[k] !== b[k]).length;
const key = (a: Assignment) => JSON.stringify(Object.entries(a).sort());


describe('LocalSearchOptim', () => {
  it('after num_init random draws, stands on the best of them and proposes only its one-edit neighbours until it moves', () => {
    const { space, f } = toyObjective();
    const o = ls(space(), 3, { num_init: 6 });
    const init = driveSerially(o, f, 6);
    const best = init.reduce((b, a) => (f(a) > f(b) ? a : b));
    expect(o.position().current?.arch).toEqual(best);
    let current = best;
    for (let q = 0; q < 40; q++) {
      const [a] = o.next(1);
      expect(diff(a, current)).toBe(1);
      void o.step({ results: [{ arch: a, score: f(a), metrics: {} }] });
      const pos = o.position().current!;
      // first improvement: it moves exactly when the neighbour beats the current architecture
      if (f(a) > f(current)) expect(pos.arch).toEqual(a);
      else expect(pos.arch).toEqual(current);
      current = pos.arch;
      if (o.position().restarts > 0) break;
    }
  });

  it('reaches a local optimum of a separable function, then restarts, and never proposes a point twice', () => {
    // separable: the global optimum is the only local optimum of the one-edit neighbourhood
    const s = new ArchSpace();
    const w = [
      [0, 3, 1],
      [2, 0, 1],
      [1, 1, 5],
      [0, 4, 2],
    ];
    w.forEach((_, i) => s.categorical({ name: `p${i}`, choices: [0, 1, 2] }));
    const f = (a: Assignment) => w.reduce((acc, wi, i) => acc + wi[Number(a[`p${i}`])], 0);
    const o = ls(s, 5, { num_init: 2 });
    const seen = new Set<string>();
    let restartsAtOptimum = -1;
    for (let q = 0; q < 81 && o.hasNext(); q++) {
      const [a] = o.next(1);
      expect(seen.has(key(a))).toBe(false);
      seen.add(key(a));
      void o.step({ results: [{ arch: a, score: f(a), metrics: {} }] });
      if (restartsAtOptimum < 0 && o.position().current && f(o.position().current!.arch) === 3 + 2 + 5 + 4) restartsAtOptimum = o.position().restarts;
    }
    expect(seen.size).toBe(81);
    expect(o.hasNext()).toBe(false);
    expect(restartsAtOptimum).toBe(0);
    expect(o.position().restarts).toBeGreaterThan(0);
  });

  it("never proposes two architectures the space declares the same network, and ends when every network was proposed", () => {
    const s = new ArchSpace();
    for (const n of ['a', 'b', 'c']) s.categorical({ name: n, choices: ['x', 'y', 'z'] });
    // c does not matter while a is x (as a dead edge): 3 x 3 + 6 x 3 = 21 networks of 27 points
    s.declareEquivalence((a) => (a.a === 'x' ? `x ${a.b}` : `${a.a} ${a.b} ${a.c}`));
    const f = (a: Assignment): number => [a.a, a.b, a.c].join('').split('').reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 97, 7);
    const o = ls(s, 4, { num_init: 3 });
    const keys: string[] = [];
    while (o.hasNext()) {
      const batch = o.next(2);
      if (batch.length === 0) break;
      keys.push(...batch.map((a) => s.networkKey(a)));
      void o.step({ results: batch.map((a) => ({ arch: a, score: f(a), metrics: {} })) });
    }
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(21);
    expect(o.hasNext()).toBe(false);
    expect(o.next(1)).toEqual([]);
  });

  it('move: best evaluates the whole neighbourhood before moving to its best', () => {
    const { space, f } = toyObjective();
    const o = ls(space(), 8, { num_init: 1, move: 'best' });
    const [start] = driveSerially(o, f, 1);
    const nbrs = driveSerially(o, f, 24); // 8 params x 3 other values
    for (const a of nbrs) expect(diff(a, start)).toBe(1);
    expect(new Set(nbrs.map(key)).size).toBe(24);
    const best = nbrs.reduce((b, a) => (f(a) > f(b) ? a : b));
    expect(o.position().current?.arch).toEqual(f(best) > f(start) ? best : undefined);
  });

  it('batched: next(n) hands out up to n neighbours, results in any order', () => {
    const { space, f } = toyObjective();
    const o = ls(space(), 2, { num_init: 4 });
    const init = o.next(4);
    void o.step({ results: init.reverse().map((a) => ({ arch: a, score: f(a), metrics: {} })) });
    const cur = o.position().current!.arch;
    const batch = o.next(5);
    expect(batch).toHaveLength(5);
    for (const a of batch) expect(diff(a, cur)).toBe(1);
  });

  it('state() survives JSON; a restored optimizer continues identically', () => {
    const { space, f } = toyObjective();
    const s = space();
    const a = ls(s, 4);
    driveSerially(a, f, 37);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = ls(s, 99);
    b.restore(saved);
    expect(driveSerially(b, f, 60)).toEqual(driveSerially(a, f, 60));
    expect(() => ls(s, 0).restore({ rng: 1, type: 'LocalSearchOptim' })).toThrow(/no search position/);
    expect(() => ls(s, 0).restore({ ...saved, type: 'RandomSearchOptim' })).toThrow(/saved by RandomSearchOptim/);
  });

  it('is deterministic for a seed (through the component) and differs between seeds', async () => {
    const { space, f } = toyObjective();
    const run = async (seed: number) => {
      const o = (await localSearchOptim.create(localSearchOptimSchema.parse({ seed }), makeBuildContext({ space: space() }), undefined)) as LocalSearchOptim;
      return driveSerially(o, f, 30);
    };
    expect(await run(0)).toEqual(await run(0));
    expect(await run(1)).not.toEqual(await run(0));
  });

  it('beats random search on the toy objective (mean best of 100 queries over 30 seeds)', () => {
    const { space, f } = toyObjective();
    let rs = 0;
    let local = 0;
    for (let seed = 0; seed < 30; seed++) {
      rs += bestOf(new RandomSearchOptim(space(), componentRng(0, new Rng(seed))), f, 100) / 30;
      local += bestOf(ls(space(), seed), f, 100) / 30;
    }
    expect(local).toBeGreaterThan(rs + 0.1);
  });
});

describe('LocalSearchOptim with latency_max_ms', () => {
  const LIMIT = 12;

  for (const move of ['first', 'best'] as const) {
    it(`move: ${move} — never stands on or moves to a candidate over the limit; without it the climb ends on a slow one`, () => {
      const p = latencyProblem();
      const run = (latency_max_ms: number | null) => {
        const o = ls(p.space(), 1, { num_init: 4, move, latency_max_ms });
        const stoodOn: Assignment[] = [];
        let slowNeighbours = 0;
        for (let q = 0; q < 300 && o.hasNext(); q++) {
          const before = o.position().current;
          const [a] = o.next(1);
          if (before && diff(a, before.arch) === 1 && p.latency(a) > LIMIT) slowNeighbours++;
          void o.step({ results: [p.result(a)] });
          const cur = o.position().current;
          if (cur) stoodOn.push(cur.arch);
        }
        return { stoodOn, slowNeighbours };
      };
      const bounded = run(LIMIT);
      expect(bounded.slowNeighbours).toBeGreaterThan(0); // it did evaluate slow neighbours ...
      expect(bounded.stoodOn.length).toBeGreaterThan(100);
      expect(bounded.stoodOn.filter((a) => p.latency(a) > LIMIT)).toEqual([]); // ... and never moved to one
      const free = run(null);
      expect(free.stoodOn.some((a) => p.latency(a) > LIMIT)).toBe(true);
    });
  }

  it('a (re)start keeps drawing until a draw is feasible, then starts from the best feasible draw', () => {
    const p = latencyProblem();
    const tight = 5; // only architectures with almost every choice 0
    const o = ls(p.space(), 0, { num_init: 2, latency_max_ms: tight });
    const draws: Assignment[] = [];
    while (!o.position().current && draws.length < 4096) {
      const [a] = o.next(1);
      draws.push(a);
      void o.step({ results: [p.result(a)] });
    }
    expect(draws.length).toBeGreaterThan(2);
    const feasible = draws.filter((a) => p.latency(a) <= tight);
    const best = feasible.reduce((b, a) => (p.result(a).score > p.result(b).score ? a : b));
    expect(o.position().current?.arch).toEqual(best);
    // the free search starts after num_init draws, from the best of them: a slow one here
    const free = ls(p.space(), 0, { num_init: 2 });
    driveSerially(free, (a) => p.result(a).score, 2);
    expect(p.latency(free.position().current!.arch)).toBeGreaterThan(tight);
  });

  it('isFeasible, and a result without the latency metric is a coded error naming optim.latency_max_ms (fine without a limit)', () => {
    const p = latencyProblem();
    const o = ls(p.space(), 0, { latency_max_ms: LIMIT });
    const [a] = o.next(1);
    expect(o.isFeasible({ ...p.result(a), metrics: { latency: LIMIT } })).toBe(true);
    expect(o.isFeasible({ ...p.result(a), metrics: { latency: LIMIT + 0.5 } })).toBe(false);
    expect(() => o.step({ results: [{ arch: a, score: 1, metrics: {} }] })).toThrow(expect.objectContaining({ code: 'MODNAS_E_OPTIM_CONSTRAINT', where: 'optim.latency_max_ms' }));
    expect(() => o.step({ results: [{ arch: a, score: 1, metrics: {} }] })).toThrow(/LocalSearchOptim: optim\.latency_max_ms is 12 ms.*no metric "latency".*latency: \{ type: LatencyMetrics \}/s);
    const free = ls(p.space(), 0);
    const [b] = free.next(1);
    expect(() => free.step({ results: [{ arch: b, score: 1, metrics: {} }] })).not.toThrow();
  });
});
