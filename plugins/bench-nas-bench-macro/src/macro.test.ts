import type { JsonObject } from '@modnas/config';
import { validateExperiment } from '@modnas/config';
import { Rng, getRegistry } from '@modnas/core';
import { runRepeated } from '@modnas/runtime';
import evolution from '@modnas/optim-evolution';
import grid from '@modnas/optim-grid';
import random from '@modnas/optim-random';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { MACRO_PARAMS, MacroBenchmark, archOfCode, loadMacro, macroCode, macroRow } from './macro.js';
import { nasBenchMacroSpace } from './nas-bench-macro-space.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: { NASBenchMacroSpace: (def) => expect((def as { describe(): string }).describe()).toMatch(/8 layers x 3 choices/) },
});

describe('NAS-Bench-Macro table', () => {
  it('has all 6,561 architectures; rows and codes correspond', () => {
    const t = loadMacro();
    expect(t.rows).toBe(6561);
    for (let row = 0; row < 6561; row += 37) expect(macroRow(archOfCode(macroCode(row)))).toBe(row);
    // first entry of the source file: "02012100": test_acc [89.47000122070312, 88.94999694824219, 89.16999816894531], params 890666
    const row = macroRow(archOfCode('02012100'));
    expect([0, 1, 2].map((s) => t.column(`test_acc_${s}`)[row])).toEqual([89.47, 88.95, 89.17]);
    expect(t.column('mean_acc')[row]).toBeCloseTo(89.19666544596355, 10);
    expect(t.column('params')[row]).toBe(890666);
  });

  it('knows the optimum (22212220, mean 93.127) and the worst (all identity, 45.363)', () => {
    const b = new MacroBenchmark('mean');
    expect(macroCode(b.target.row)).toBe('22212220');
    expect(b.target.value.toFixed(3)).toBe('93.127');
    expect(b.report(macroRow(archOfCode('00000000'))).test_acc.toFixed(3)).toBe('45.363');
  });

  it('fitness: a random training run per query, the first run, or the mean; every query costs 1', () => {
    const row = macroRow(archOfCode('02012100'));
    const rng = new Rng(0);
    const draws = new Set(Array.from({ length: 50 }, () => new MacroBenchmark('random_seed').query(row, rng).fitness));
    expect([...draws].sort()).toEqual([88.95, 89.17, 89.47]);
    expect(new MacroBenchmark('first_seed').query(row, rng)).toEqual({ fitness: 89.47, cost: 1, metrics: { params: 890666, flops: new MacroBenchmark('mean').report(row).flops } });
    expect(new MacroBenchmark('mean').query(row, rng).fitness).toBeCloseTo(89.1967, 4);
  });

  it('the space has 8 params of 3 choices', async () => {
    const ctx = makeBuildContext();
    await nasBenchMacroSpace.create({}, ctx, undefined);
    expect(ctx.space.names()).toEqual(MACRO_PARAMS);
    expect(ctx.space.size()).toBe(6561n);
  });
});

describe('the discrete optimizers on NAS-Bench-Macro, through the runner', () => {
  for (const p of [plugin, evolution, random, grid]) getRegistry().register(p);
  const plan = (optim: JsonObject, estim: JsonObject = {}) =>
    validateExperiment({ name: 'macro', space: { type: 'NASBenchMacroSpace' }, optim, estim: { search: { type: 'NASBenchMacroEstimator', ...estim } } });

  it('stops at max_queries, is deterministic for a seed, and reports the fittest candidate', async () => {
    const p = await plan({ type: 'RegularizedEvolutionOptim', population_size: 10, sample_size: 3 }, { max_queries: 50 });
    const a = await runRepeated(p, { runs: 4, out: false });
    const b = await runRepeated(p, { runs: 4, out: false });
    expect(a.runs.map((r) => r.metrics)).toEqual(b.runs.map((r) => r.metrics));
    const bench = new MacroBenchmark('mean');
    for (const r of a.runs) {
      expect(r.metrics.queries).toBe(50);
      expect(r.metrics.sim_cost).toBe(50);
      expect(r.value).toBe(bench.report(macroRow(r.best!.arch as never)).test_acc);
    }
  });

  it('grid search meets the optimum at its row + 1 (the grid walks rows in order); random search finds it within the whole space', async () => {
    const g = await runRepeated(await plan({ type: 'GridSearchOptim' }, { max_queries: 6561, fitness: 'mean' }), { runs: 1, out: false });
    const target = new MacroBenchmark('mean').target;
    expect(g.runs[0].metrics.first_hit).toBe(target.row + 1);
    expect(g.runs[0].metrics.queries).toBe(6561);
    expect(g.runs[0].value).toBe(target.value);
    const stopped = await runRepeated(await plan({ type: 'GridSearchOptim' }, { max_queries: 6561, stop_on_target: true }), { runs: 1, out: false });
    expect(stopped.runs[0].metrics.queries).toBe(target.row + 1);
    const rs = await runRepeated(await plan({ type: 'RandomSearchOptim' }, { max_queries: 6561, fitness: 'mean' }), { runs: 3, out: false });
    for (const r of rs.runs) {
      expect(r.metrics.first_hit).toBeGreaterThan(0);
      expect(r.value).toBe(target.value); // no repeats: all 6,561 were queried
    }
  });
});
