import type { Assignment, EstimContext, SearchOptimizer } from '@modnas/core';
import { ArchSpace, EventBus, Rng, silentLogger, silentProgress } from '@modnas/core';
import { MemoryExperimentStore } from '@modnas/services';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import type { TabularBenchmark } from './search.js';
import { runTabularSearch } from './search.js';

/** Row r: fitness r % 7, cost r + 1, reported acc 100 − r; rows 0..19. The best reported row is 0. */
const bench: TabularBenchmark = {
  name: 'toy',
  unit: 's',
  rowOf: (a) => Number(a.r),
  query: (row) => ({ fitness: row % 7, cost: row + 1 }),
  report: (row) => ({ acc: 100 - row }),
  label: (row) => `#${row}`,
  target: { metric: 'acc', row: 0, value: 100 },
};

function optim(rows: number[]): SearchOptimizer & { steps: number[][] } {
  let i = 0;
  const steps: number[][] = [];
  return {
    steps,
    hasNext: () => i < rows.length,
    next: (n: number): Assignment[] => rows.slice(i, (i += n)).map((r) => ({ r })),
    step: ({ results }) => void steps.push(results.map((x) => Number(x.arch.r))),
    state: () => ({}),
    restore: () => undefined,
  };
}

function ctx(o?: SearchOptimizer): EstimContext & { store: MemoryExperimentStore; events: EventBus } {
  return {
    name: 'search',
    model: {} as never,
    space: new ArchSpace(),
    trainer: {} as never,
    optim: o,
    data: { train: {} as never, valid: {} as never },
    metrics: [],
    events: new EventBus(),
    logger: silentLogger,
    progress: silentProgress,
    rng: new Rng(0),
    store: new MemoryExperimentStore(),
    container: makeBuildContext().container,
  };
}

const opts = { budget: Infinity, batchSize: 1, maxQueries: 0, recordTrials: true };

describe('runTabularSearch', () => {
  it('charges costs, stops before exceeding the budget, and reports the fittest (first of equals)', async () => {
    const o = optim([3, 5, 6, 13, 2, 9]);
    const c = ctx(o);
    const seen: number[] = [];
    c.events.on('candidate:end', (p) => void seen.push(p.score));
    // costs 4, 6, 7, 14 -> 31; the next (cost 3) would make 34 > 33
    const r = await runTabularSearch(c, bench, { ...opts, budget: 33 });
    expect(r.metrics).toMatchObject({ queries: 4, sim_cost: 31, budget: 33, fitness: 6, acc: 94, regret: 6, first_hit: 0 });
    expect(r.best).toEqual({ arch: { r: 6 }, score: 6, metrics: { acc: 94 } });
    expect(o.steps).toEqual([[3], [5], [6], [13]]);
    expect(seen).toEqual([3, 5, 6, 6]);
    expect(c.store.read('trials').map((t) => t.sim_cost)).toEqual([4, 10, 17, 31]);
  });

  it('a batch that does not fit entirely gives the optimizer the part that did', async () => {
    const o = optim([1, 2, 3, 4, 5, 6]);
    const r = await runTabularSearch(ctx(o), bench, { ...opts, budget: 10, batchSize: 4 });
    expect(r.metrics.queries).toBe(3); // 2 + 3 + 4 = 9; 5 more would exceed 10
    expect(o.steps).toEqual([[1, 2, 3]]);
  });

  it('max_queries, an exhausted optimizer and stop_on_target end the search', async () => {
    expect((await runTabularSearch(ctx(optim([1, 2, 3, 4, 5])), bench, { ...opts, maxQueries: 2, batchSize: 3 })).metrics.queries).toBe(2);
    expect((await runTabularSearch(ctx(optim([1, 2])), bench, opts)).metrics.queries).toBe(2);
    const hit = await runTabularSearch(ctx(optim([4, 8, 0, 9, 10])), bench, { ...opts, stopOnTarget: true });
    expect(hit.metrics).toMatchObject({ queries: 3, first_hit: 3 });
  });

  it('with no query inside the budget there is no best; without an optimizer it says what to add', async () => {
    const r = await runTabularSearch(ctx(optim([19])), bench, { ...opts, budget: 5 });
    expect(r.best).toBeUndefined();
    expect(r.metrics.queries).toBe(0);
    await expect(runTabularSearch(ctx(), bench, opts)).rejects.toThrow(/needs a search optimizer/);
  });
});
