import { ArchSpace } from '@modnas/core';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { GridSearchOptim, gridSearchOptim } from './grid-search-optim.js';
import plugin from './index.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    GridSearchOptim: (o) => {
      const opt = o as GridSearchOptim;
      (opt as unknown as { space: ArchSpace }).space.categorical({ name: 'a', choices: ['x', 'y'] });
      expect(opt.next(3)).toEqual([{ a: 'x' }, { a: 'y' }]);
    },
  },
});

function space(): ArchSpace {
  const s = new ArchSpace();
  s.categorical({ name: 'a', choices: ['a0', 'a1', 'a2'] });
  s.categorical({ name: 'b', choices: [1, 2] });
  s.numeric({ name: 'lr', low: 0, high: 1 }); // not discrete: left alone
  s.categorical({ name: 'c', choices: ['c0', 'c1', 'c2', 'c3'] });
  return s;
}

describe('GridSearchOptim', () => {
  it('visits every point exactly once, in mixed-radix order (first param fastest), then stops', async () => {
    const s = space();
    const o = await gridSearchOptim.create({}, makeBuildContext({ space: s }), undefined);
    const seen: Array<Record<string, unknown>> = [];
    while (o.hasNext()) seen.push(...o.next(5));
    expect(seen).toHaveLength(24);
    expect(seen.map((a) => Number(s.toIndex(a as never)))).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(seen[0]).toEqual({ a: 'a0', b: 1, c: 'c0' });
    expect(seen[1]).toEqual({ a: 'a1', b: 1, c: 'c0' });
    expect(seen[3]).toEqual({ a: 'a0', b: 2, c: 'c0' });
    expect(seen[23]).toEqual({ a: 'a2', b: 2, c: 'c3' });
    expect(o.next(1)).toEqual([]);
  });

  it('restores its position from a JSON state', () => {
    const s = space();
    const a = new GridSearchOptim(s);
    a.next(7);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = new GridSearchOptim(s);
    b.restore(saved);
    expect(b.position).toBe(7n);
    expect(b.next(20)).toEqual(a.next(20));
    expect(b.hasNext()).toBe(false);
  });
});
