import type { Assignment, SearchOptimizer, TrialResult } from '@modnas/core';
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

/** Drive an optimizer one candidate at a time on `f` for up to `queries` queries; its proposals in order. */
export function driveSerially(o: SearchOptimizer, f: (a: Assignment) => number, queries: number): Assignment[] {
  const out: Assignment[] = [];
  for (let q = 0; q < queries && o.hasNext(); q++) {
    const [a] = o.next(1);
    out.push(a);
    void o.step({ results: [{ arch: a, score: f(a), metrics: {} }] });
  }
  return out;
}

/** The best score an optimizer finds on `f` within `budget` single-candidate queries. */
export function bestOf(o: SearchOptimizer, f: (a: Assignment) => number, budget: number): number {
  return Math.max(-Infinity, ...driveSerially(o, f, budget).map(f));
}

/**
 * A toy problem for latency constraints: 6 params x 4 choices, fixed weights; a larger choice scores
 * higher and runs slower, so the fastest candidates score worst. `all(k)` sets every param to k.
 */
export function latencyProblem(): {
  space: () => ArchSpace;
  score: (a: Assignment) => number;
  latency: (a: Assignment) => number;
  result: (a: Assignment) => TrialResult;
  all: (k: number) => Assignment;
} {
  const rng = new Rng(7);
  const gain = Array.from({ length: 6 }, () => 1 + rng.next());
  const cost = Array.from({ length: 6 }, () => 1 + rng.next());
  const space = () => {
    const s = new ArchSpace();
    for (let i = 0; i < 6; i++) s.categorical({ name: `p${i}`, choices: [0, 1, 2, 3] });
    return s;
  };
  const score = (a: Assignment) => gain.reduce((t, g, i) => t + g * Number(a[`p${i}`]), 0);
  const latency = (a: Assignment) => 2 + cost.reduce((t, c, i) => t + c * Number(a[`p${i}`]), 0);
  const result = (a: Assignment): TrialResult => ({ arch: a, score: score(a), metrics: { latency: latency(a) } });
  const all = (k: number): Assignment => Object.fromEntries(gain.map((_, i) => [`p${i}`, k]));
  return { space, score, latency, result, all };
}
