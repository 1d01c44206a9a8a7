// The view helpers the Pareto scatter stands on: the front for any two objectives in either
// direction (against a brute force), in n log n, and which way each metric is better.
import { describe, expect, it } from 'vitest';
import type { Direction } from './view.js';
import { metricDirection, paretoFront } from './view.js';
import { Rng } from '@modnas/core';

type Pt = { cost: number; score: number };

/** The front by definition: the points no other point dominates (one of each group of equal points). */
function bruteFront(pts: Pt[], dir: { cost: Direction; score: Direction }): string[] {
  const better = (a: number, b: number, d: Direction): boolean => (d === 'min' ? a < b : a > b);
  const atLeast = (a: number, b: number, d: Direction): boolean => a === b || better(a, b, d);
  const dominated = (p: Pt): boolean => pts.some((q) => atLeast(q.cost, p.cost, dir.cost) && atLeast(q.score, p.score, dir.score) && (better(q.cost, p.cost, dir.cost) || better(q.score, p.score, dir.score)));
  return [...new Set(pts.filter((p) => !dominated(p)).map((p) => `${p.cost}:${p.score}`))].sort();
}
const key = (pts: Pt[], idx: number[]): string[] => idx.map((i) => `${pts[i].cost}:${pts[i].score}`).sort();

/** Seeded draws in [0, 1) (core's Rng). */
const rng = (seed: number): (() => number) => {
  const g = new Rng(seed);
  return () => g.next();
};

describe('paretoFront', () => {
  const hand: Pt[] = [
    { cost: 1, score: 0.5 },
    { cost: 2, score: 0.7 },
    { cost: 2, score: 0.6 },
    { cost: 3, score: 0.65 },
    { cost: 4, score: 0.9 },
    { cost: 0.5, score: 0.4 },
  ];

  it('by default the least cost for the highest score, as before', () => {
    expect(paretoFront(hand).sort()).toEqual([0, 1, 4, 5]);
    expect(paretoFront(hand, { cost: 'min', score: 'max' }).sort()).toEqual([0, 1, 4, 5]);
  });

  it('either objective turned around (two costs both minimised, two gains both maximised)', () => {
    // both minimised: the cheapest point, then nothing beats it on the second cost
    expect(paretoFront(hand, { score: 'min' }).sort()).toEqual([5]);
    // both maximised: the dearest point has the highest score too
    expect(paretoFront(hand, { cost: 'max' }).sort()).toEqual([4]);
    // cost maximised, score minimised: the mirror of the default
    expect(key(hand, paretoFront(hand, { cost: 'max', score: 'min' }))).toEqual(bruteFront(hand, { cost: 'max', score: 'min' }));
    expect(paretoFront([])).toEqual([]);
  });

  it('equals the brute-force front on random points, ties included, in all four directions', () => {
    const next = rng(7);
    for (let round = 0; round < 40; round++) {
      // coarse values, so equal costs, equal scores and equal points all happen
      const pts = Array.from({ length: 5 + Math.floor(next() * 60) }, () => ({ cost: Math.floor(next() * 12), score: Math.floor(next() * 12) / 10 }));
      for (const cost of ['min', 'max'] as const) {
        for (const score of ['min', 'max'] as const) {
          const front = paretoFront(pts, { cost, score });
          expect(key(pts, front), `round ${round} ${cost}/${score}`).toEqual(bruteFront(pts, { cost, score }));
          expect(new Set(front).size).toBe(front.length);
        }
      }
    }
  });

  it('100,000 points in a blink: a sort and a scan (a pairwise check would take minutes)', () => {
    const next = rng(11);
    const pts = Array.from({ length: 100_000 }, () => ({ cost: next() * 1e9, score: next() }));
    const t0 = performance.now();
    const front = paretoFront(pts, { score: 'max' });
    const ms = performance.now() - t0;
    // (generous for a loaded machine: the 5e9 pairs of a pairwise check take well over ten seconds)
    expect(ms).toBeLessThan(5000);
    // a front is a staircase: costs rise as scores rise
    const sorted = front.map((i) => pts[i]).sort((a, b) => a.cost - b.cost);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].score).toBeGreaterThan(sorted[i - 1].score);
    expect(front.length).toBeGreaterThan(3);
  });
});

describe('metricDirection', () => {
  it('costs, their spreads, losses and errors are minimised; the score and accuracies maximised', () => {
    for (const k of ['flops', 'FLOPs', 'params', 'latency', 'latency_wasm', 'latency_wasm_iqr', 'loss', 'val_loss', 'error', 'top1_err']) expect(metricDirection(k), k).toBe('min');
    for (const k of ['score', 'acc', 'val_acc', 'top1', 'reward']) expect(metricDirection(k), k).toBe('max');
  });
});
