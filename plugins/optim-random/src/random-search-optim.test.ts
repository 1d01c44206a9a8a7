import { ArchSpace, Rng } from '@modnas/core';
import { componentRng } from '@modnas/kit-optim';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { RandomSearchOptim, randomSearchOptim } from './random-search-optim.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    RandomSearchOptim: (o) => {
      const opt = o as RandomSearchOptim;
      (opt as unknown as { space: ArchSpace }).space.categorical({ name: 'a', choices: ['x', 'y'] });
      const arch = opt.next(2);
      void opt.step({ results: arch.map((a) => ({ arch: a, score: 1, metrics: {} })) });
    },
  },
});

function space(cards: number[]): ArchSpace {
  const s = new ArchSpace();
  cards.forEach((c, i) => s.categorical({ name: `p${i}`, choices: Array.from({ length: c }, (_, k) => `v${k}`) }));
  return s;
}

describe('RandomSearchOptim', () => {
  it('proposes every point of a small space exactly once, then has no next', () => {
    const s = space([3, 4, 2]);
    const o = new RandomSearchOptim(s, new Rng(1));
    const seen = new Set<string>();
    let n = 0;
    while (o.hasNext()) {
      for (const a of o.next(5)) {
        seen.add(s.toIndex(a).toString());
        n++;
      }
    }
    expect(n).toBe(24);
    expect(seen.size).toBe(24);
    expect(o.next(3)).toEqual([]);
  });

  it('draws each choice uniformly (marginals of 2000 draws within 4 std of 1/5)', () => {
    const s = space([5, 5, 5, 5, 5, 5, 5, 5]);
    const o = new RandomSearchOptim(s, new Rng(7));
    const counts = Array.from({ length: 8 }, () => new Array<number>(5).fill(0));
    for (const a of o.next(2000)) Object.values(a).forEach((v, i) => counts[i][Number(String(v).slice(1))]++);
    const sd = Math.sqrt(2000 * 0.2 * 0.8);
    for (const row of counts) for (const c of row) expect(Math.abs(c - 400)).toBeLessThan(4 * sd);
  });

  it('is deterministic for a seed and differs between seeds (through the component)', async () => {
    const run = async (experimentSeed: number, seed: number) => {
      const s = space([5, 5, 5, 5, 5, 5]);
      const o = await randomSearchOptim.create(randomSearchOptim.schema.parse({ seed }), makeBuildContext({ space: s, seed: experimentSeed }), undefined);
      return o.next(10);
    };
    expect(await run(0, 0)).toEqual(await run(0, 0));
    expect(await run(0, 1)).not.toEqual(await run(0, 0));
    expect(await run(1, 0)).not.toEqual(await run(0, 0));
  });

  it('state() survives JSON and restore() continues the same stream without repeats', () => {
    const s = space([3, 4, 2]);
    const a = new RandomSearchOptim(s, componentRng(0, new Rng(3)));
    const first = a.next(10);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const rest = a.next(14);
    const b = new RandomSearchOptim(s, new Rng(99));
    b.restore(saved);
    expect(b.next(14)).toEqual(rest);
    expect(new Set([...first, ...rest].map((x) => s.toIndex(x))).size).toBe(24);
    expect(b.hasNext()).toBe(false);
    expect(() => b.restore({ rng: 1, type: 'RandomSearchOptim' })).toThrow(/visited/);
  });
});
