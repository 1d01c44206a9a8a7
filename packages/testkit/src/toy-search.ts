import type { Assignment, SearchOptimizer } from '@modnas/core';
import { ArchSpace, Rng } from '@modnas/core';

/** A toy search problem for optimizer tests: 8 params x 4 choices, a separable score plus one interaction, fixed weights. */
export function toyObjective(): { space: () => ArchSpace; f: (a: Assignment) => number } {
  const rng = new Rng(123);
  const w = Array.from({ length: 8 }, () => Array.from({ length: 4 }, () => rng.next()));
  return {
    space: () => {
      const s = new ArchSpace();
      for (let i = 0; i < 8; i++) s.categorical({ name: `p${i}`, choices: [0, 1, 2, 3] });
      return s;
    },
    f: (a) => w.reduce((acc, wi, i) => acc + wi[Number(a[`p${i}`])], 0) + (a.p0 === a.p1 ? 0.5 : 0),
  };
}

/** The best score an optimizer finds on `f` within `budget` single-candidate queries. */
export function bestOf(o: SearchOptimizer, f: (a: Assignment) => number, budget: number): number {
  let best = -Infinity;
  for (let q = 0; q < budget && o.hasNext(); q++) {
    const [a] = o.next(1);
    const score = f(a);
    best = Math.max(best, score);
    void o.step({ results: [{ arch: a, score, metrics: {} }] });
  }
  return best;
}
