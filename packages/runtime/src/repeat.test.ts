import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { CategoricalSpaceOptim, componentRng } from '@modnas/kit-optim';
import { validateExperiment } from '@modnas/config';
import type { EstimContext, EstimResult, StateEstimator, Assignment } from '@modnas/core';
import { ArchSpace, definePlugin, Registry, Rng } from '@modnas/core';
import type { StoreFactory } from '@modnas/services';
import { MemoryExperimentStore } from '@modnas/services';
import { runRepeated, summaryStats } from './repeat.js';

/** Random proposals from the discrete space. */
class ToyRandom extends CategoricalSpaceOptim {
  next(n: number): Assignment[] {
    return Array.from({ length: n }, () => this.randomArch());
  }
  protected saveState() {
    return {};
  }
  protected loadState() {}
}

/** score = sum of chosen indices + noise from the estimator's stream; 5 queries. */
const toyEstim: StateEstimator = {
  async run(ctx: EstimContext): Promise<EstimResult> {
    let best: { arch: Assignment; score: number } | undefined;
    for (let q = 0; q < 5; q++) {
      const [arch] = ctx.optim!.next(1);
      const score = Object.values(arch).reduce<number>((a, v) => a + Number(v), 0) + ctx.rng.next();
      await ctx.optim!.step({ results: [{ arch, score, metrics: {} }] });
      ctx.store.append('trials', { q, score });
      if (!best || score > best.score) best = { arch, score };
    }
    return { best: { ...best!, metrics: {} }, metrics: { test_acc: best!.score * 10, queries: 5 } };
  },
};

/** The experiment stores the toy store plugin opened, by folder (one per folder, kept after close). */
const opened = new Map<string, MemoryExperimentStore>();

function registry(): Registry {
  const r = new Registry();
  r.register(
    definePlugin({
      meta: { name: '@test/repeat', version: '1.0.0' },
      components: [
        {
          kind: 'space',
          id: 'ToySpace',
          description: 'x',
          schema: z.strictObject({}),
          create: (_c, ctx) => {
            for (let i = 0; i < 3; i++) ctx.space.categorical({ name: `p${i}`, choices: [0, 1, 2, 3] });
            return { describe: () => '3 x 4' };
          },
        },
        {
          kind: 'optim',
          id: 'ToyRandom',
          description: 'x',
          schema: z.strictObject({ seed: z.number().default(0) }),
          create: (c, ctx) => new ToyRandom('ToyRandom', ctx.space, componentRng(c.seed, ctx.rng)),
        },
        { kind: 'estim', id: 'ToyEstim', description: 'x', schema: z.strictObject({}), create: () => toyEstim },
        { kind: 'exporter', id: 'ToyExporter', description: 'x', schema: z.strictObject({}), create: () => ({ export: (_m: unknown, space: ArchSpace) => space.assignment() }) },
        {
          kind: 'store',
          id: 'ToyStore',
          description: 'x',
          schema: z.strictObject({}),
          create: (): StoreFactory => ({
            open: ({ dir }) => {
              const s = opened.get(dir) ?? new MemoryExperimentStore();
              opened.set(dir, s);
              return s;
            },
          }),
        },
      ],
    }),
  );
  return r;
}

async function plan(r: Registry, dir: string, more: Record<string, unknown> = {}) {
  return validateExperiment(
    { name: 'toy', output_dir: dir, space: { type: 'ToySpace' }, optim: { type: 'ToyRandom' }, estim: { search: { type: 'ToyEstim' } }, export: { default: { type: 'ToyExporter' } }, ...more },
    { registry: r },
  );
}

describe('summaryStats', () => {
  it('gives mean, population std, min, max, median', () => {
    const s = summaryStats([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(1.25), 12);
    expect([s.min, s.max, s.median]).toEqual([1, 4, 2.5]);
    expect(summaryStats([5, 1, 3]).median).toBe(3);
  });
});

describe('runRepeated', () => {
  it('light path: one result per seed, the aggregate of the metric, a JSON file, deterministic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-repeat-'));
    const r = registry();
    const p = await plan(r, dir);
    const seen: number[] = [];
    const a = await runRepeated(p, { runs: 6, seed0: 10, registry: r, cwd: dir, onRun: (run) => seen.push(run.seed) });
    expect(a.mode).toBe('light');
    expect(seen).toEqual([10, 11, 12, 13, 14, 15]);
    expect(a.metric).toBe('test_acc');
    const values = a.runs.map((x) => x.value);
    expect(new Set(values).size).toBeGreaterThan(1);
    const mean = values.reduce((x, y) => x + y, 0) / values.length;
    expect(a.mean).toBeCloseTo(mean, 10);
    expect(a.std).toBeCloseTo(Math.sqrt(values.reduce((x, y) => x + (y - mean) ** 2, 0) / values.length), 10);
    expect(a.metricMeans.queries).toBe(5);
    expect(existsSync(a.file!)).toBe(true);
    const file = JSON.parse(readFileSync(a.file!, 'utf8'));
    expect(file.runs).toHaveLength(6);
    expect(file.mean).toBeCloseTo(a.mean, 10);
    // no experiment folder of its own: the light path writes only the result file
    expect(existsSync(join(dir, 'toy', 'logs'))).toBe(false);

    const b = await runRepeated(p, { runs: 6, seed0: 10, registry: r, out: false });
    expect(b.runs.map((x) => x.value)).toEqual(values);
    expect(b.file).toBeUndefined();
  });

  it('light and full paths give the same numbers for the same seeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-repeat-'));
    const r = registry();
    const p = await plan(r, dir);
    const light = await runRepeated(p, { runs: 3, registry: r, out: false, mode: 'light' });
    const full = await runRepeated(p, { runs: 3, registry: r, out: false, mode: 'full', cwd: dir });
    expect(full.mode).toBe('full');
    expect(full.runs.map((x) => x.value)).toEqual(light.runs.map((x) => x.value));
    expect(full.runs.map((x) => x.best?.arch)).toEqual(light.runs.map((x) => x.best?.arch));
    expect(existsSync(join(dir, 'toy', 'runs', 'run-2', 'outputs', 'summary.json'))).toBe(true);
  });

  it('store: one run per seed in the experiment\'s store (the plugin the config names), each with its records; the same numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-repeat-'));
    const r = registry();
    const p = await plan(r, dir, { store: { type: 'ToyStore' } });
    const a = await runRepeated(p, { runs: 3, seed0: 4, registry: r, cwd: dir, store: true });
    const store = opened.get(join(dir, 'toy'));
    expect(store, [...opened.keys()].join(', ')).toBeDefined();
    const runs = store!.runs();
    expect(runs.map((x) => [x.id, x.experiment, x.status, (x.config as { seed: number }).seed])).toEqual([
      ['r1', 'toy', 'done', 4],
      ['r2', 'toy', 'done', 5],
      ['r3', 'toy', 'done', 6],
    ]);
    expect(a.runs.map((x) => x.storeRun)).toEqual(['r1', 'r2', 'r3']);
    expect(a.store).toBe(store!.location);
    // each run's trials are its own, and its best is what the summary reports
    for (const [i, run] of runs.entries()) {
      const scores = store!.records('trials', run.id).map((t) => t.record.score as number);
      expect(scores).toHaveLength(5);
      expect(Math.max(...scores)).toBe(a.runs[i].best?.score);
    }
    // the light path still writes no experiment folder of its own
    expect(existsSync(join(dir, 'toy', 'logs'))).toBe(false);
    const unstored = await runRepeated(p, { runs: 3, seed0: 4, registry: r, out: false });
    expect(unstored.runs.map((x) => x.value)).toEqual(a.runs.map((x) => x.value));
    expect(unstored.runs.map((x) => x.storeRun)).toEqual([undefined, undefined, undefined]);
    expect(store!.runs()).toHaveLength(3);

    // full path: the runs keep their folders (runs/run-<i>), their records go to the experiment's store
    const full = await runRepeated(p, { runs: 2, seed0: 4, registry: r, cwd: dir, out: false, mode: 'full', store: true });
    expect(full.runs.map((x) => x.storeRun)).toEqual(['r4', 'r5']);
    expect(store!.runs().map((x) => x.experiment)).toEqual(['toy', 'toy', 'toy', 'toy', 'toy']);
    expect(full.runs.map((x) => x.value)).toEqual(a.runs.slice(0, 2).map((x) => x.value));
    expect(existsSync(join(dir, 'toy', 'runs', 'run-1', 'outputs', 'summary.json'))).toBe(true);
    expect([...opened.keys()].filter((k) => k.startsWith(dir))).toEqual([join(dir, 'toy')]);
  });

  it('rejects a bad run count and an unknown estimator', async () => {
    const r = registry();
    const p = await plan(r, mkdtempSync(join(tmpdir(), 'modnas-repeat-')));
    await expect(runRepeated(p, { runs: 0, registry: r })).rejects.toThrow(/MODNAS_E_REPEAT_RUNS|positive integer/);
    await expect(runRepeated(p, { runs: 1, estim: 'nope', registry: r })).rejects.toThrow(/no estimator "nope"/);
  });
});

describe('CategoricalSpaceOptim', () => {
  it('reads the space lazily, and restores its stream and type', () => {
    const space = new ArchSpace();
    const o = new ToyRandom('ToyRandom', space, componentRng(0, new Rng(1)));
    space.categorical({ name: 'a', choices: ['x', 'y', 'z'] });
    const s = o.state();
    const first = o.next(4);
    o.restore(s);
    expect(o.next(4)).toEqual(first);
    expect(() => new ToyRandom('Other', space, new Rng(0)).restore(s)).toThrow(/saved by ToyRandom/);
    expect(() => new ToyRandom('ToyRandom', new ArchSpace(), new Rng(0)).next(1)).toThrow(/no discrete arch params/);
  });

  it('componentRng differs by config seed and by parent stream', () => {
    const a = componentRng(0, new Rng(1)).next();
    expect(componentRng(0, new Rng(1)).next()).toBe(a);
    expect(componentRng(1, new Rng(1)).next()).not.toBe(a);
    expect(componentRng(0, new Rng(2)).next()).not.toBe(a);
  });
});
