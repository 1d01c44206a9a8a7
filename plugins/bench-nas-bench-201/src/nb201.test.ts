import type { JsonObject } from '@modnas/config';
import type { Assignment, EstimContext, SearchOptimizer, Module } from '@modnas/core';
import { validateExperiment } from '@modnas/config';
import { ArchSpace, EventBus, Rng, getRegistry, silentLogger, silentProgress } from '@modnas/core';
import { runExperiment, runRepeated } from '@modnas/runtime';
import { MemoryExperimentStore, ServiceTokens } from '@modnas/services';
import evolution from '@modnas/optim-evolution';
import grid from '@modnas/optim-grid';
import random from '@modnas/optim-random';
import reinforce from '@modnas/optim-reinforce';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { nasBench201Estimator } from './nas-bench-201-estimator.js';
import { nasBench201Space } from './nas-bench-201-space.js';
import type { NB201Dataset } from './nb201.js';
import { NB201Benchmark, NB201_EDGES, NB201_OPS, NB201_SIZE, NB201_SPACE_TOKEN, archCode, archOfIndex, archString, loadNB201, nb201NetworkKey, parseArchString } from './nb201.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    NASBench201Space: (def) => expect((def as { describe(): string }).describe()).toMatch(/6 edges x 5 ops/),
  },
});

const OPTIMUM = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|';

describe('NAS-Bench-201 table', () => {
  it('has 15,625 rows, a bijection between rows and arch codes, and the official arch strings', () => {
    const { table, test200, rowOfCode } = loadNB201();
    expect(table.rows).toBe(15625);
    expect(test200?.rows).toBe(15625);
    expect(new Set(rowOfCode).size).toBe(15625);
    expect(Math.min(...rowOfCode)).toBe(0);
    for (let row = 0; row < 15625; row += 97) {
      const arch = archOfIndex(row);
      expect(parseArchString(archString(arch))).toEqual(arch);
      expect(rowOfCode[archCode(arch)]).toBe(row);
    }
    expect(archString(archOfIndex(0))).toBe('|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|');
  });

  it('knows the optimum: index 6111, CIFAR-10 test 94.37, validation 91.61', () => {
    const b = new NB201Benchmark('cifar10');
    expect(archString(archOfIndex(6111))).toBe(OPTIMUM);
    expect(b.rowOf(parseArchString(OPTIMUM))).toBe(6111);
    const r = b.report(6111);
    expect(r.test_acc.toFixed(2)).toBe('94.37');
    expect(r.valid_acc.toFixed(2)).toBe('91.61');
    expect(b.target.metric).toBe('test_acc');
    expect([6111, 13714]).toContain(b.target.row);
    expect(b.target.value.toFixed(2)).toBe('94.37');
    expect(new NB201Benchmark('cifar100').target.value.toFixed(2)).toBe('73.51');
    expect(new NB201Benchmark('ImageNet16-120').target.value.toFixed(2)).toBe('47.31');
    // the ResNet cell (SOURCE.md spot check)
    const resnet = b.rowOf(parseArchString('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|'));
    expect(resnet).toBe(11472);
    expect(b.report(resnet).test_acc.toFixed(2)).toBe('93.91');
  });

  it('works from the MIT table alone when the NATS-Bench test file is removed', () => {
    const { table, rowOfCode } = loadNB201();
    const c10 = new NB201Benchmark('cifar10', { table, rowOfCode });
    expect(c10.target).toEqual({ metric: 'valid_acc', row: 6111, value: table.column('c10v_valid_200')[6111] });
    expect(c10.report(6111)).not.toHaveProperty('test_acc');
    expect(c10.report(6111).valid_acc.toFixed(2)).toBe('91.61');
    expect(new NB201Benchmark('cifar100', { table, rowOfCode }).target.metric).toBe('test_acc_12');
  });

  it('charges a query the simulated time of the official records (12 epochs + one validation pass)', () => {
    // NATS-tss-v1_0-3ffb9 records of arch 0, hp=12: sum of train_times + eval_times of x-valid@11
    expect(new NB201Benchmark('cifar10').cost(0)).toBeCloseTo(86.6531 + 2.549, 3);
    expect(new NB201Benchmark('cifar100').cost(0)).toBeCloseTo(173.3062 + 0.5098, 3);
    expect(new NB201Benchmark('ImageNet16-120').cost(0)).toBeCloseTo(525.8111 + 0.3059, 3);
    // arch 11 (cifar10-valid 149.5447 + 4.1513) and 284 (58.5095 + 2.3895)
    expect(new NB201Benchmark('cifar10').cost(11)).toBeCloseTo(149.5447 + 4.1513, 3);
    expect(new NB201Benchmark('cifar10').cost(284)).toBeCloseTo(58.5095 + 2.3895, 3);
    // fitness: the 12-epoch validation accuracy, mean of the seeds (63.364 = mean of 62.712 and 64.016)
    expect(new NB201Benchmark('cifar10').query(0, new Rng(0)).fitness).toBeCloseTo(63.364, 6);
  });

  it('gives equivalent cells one network key: dead edges, a node that is a skip of another, nodes 1 and 2 swapped', () => {
    const cell = (s: string): Assignment => parseArchString(s);
    const k = (s: string): string => nb201NetworkKey(cell(s));
    // node 2 has no input, so its edge to the output is dead whatever its op
    expect(k('|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|')).toBe(k('|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|'));
    // nothing reaches the output through node 1: its input edge is dead
    expect(k('|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|')).toBe(k('|avg_pool_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|'));
    // node 1 = skip(x): its outgoing conv is a conv of the input
    expect(k('|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|')).toBe(k('|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|'));
    // no edge between nodes 1 and 2: they may swap
    expect(k('|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|avg_pool_3x3~1|skip_connect~2|')).toBe(k('|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|avg_pool_3x3~2|'));
    // a shared conv (node 1 feeding both the output and node 2) is not two separate convs
    expect(k('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|skip_connect~1|skip_connect~2|')).not.toBe(k('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|skip_connect~2|'));
    // the all-none cell and the best cell
    expect(k('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|')).toBe('0');
    const keys = new Set(Array.from({ length: NB201_SIZE }, (_, r) => nb201NetworkKey(archOfIndex(r))));
    expect(keys.size).toBe(6835);
  });

  it('rejects a candidate outside the space', () => {
    expect(() => archCode({ ...archOfIndex(0), '1<-0': 'conv_5x5' })).toThrow(/MODNAS_E_NB201_ARCH|not one of/);
    expect(() => parseArchString('|none~0|')).toThrow(/not a NAS-Bench-201 arch string/);
  });
});

/** Proposes the given rows in order and records every proposal. */
function scripted(rows: number[]): SearchOptimizer & { proposed: number[]; seen: number[] } {
  let i = 0;
  const o = {
    proposed: [] as number[],
    seen: [] as number[],
    hasNext: () => i < rows.length,
    next: (n: number): Assignment[] => {
      const out = rows.slice(i, i + n);
      i += out.length;
      o.proposed.push(...out);
      return out.map(archOfIndex);
    },
    step: ({ results }: { results: Array<{ arch: Assignment }> }) => {
      o.seen.push(...results.map((r) => new NB201Benchmark('cifar10').rowOf(r.arch)));
    },
    state: () => ({}),
    restore: () => undefined,
  };
  return o;
}

function estimContext(optim: SearchOptimizer, dataset: NB201Dataset = 'cifar10'): EstimContext & { store: MemoryExperimentStore } {
  const container = makeBuildContext().container;
  container.registerInstance(NB201_SPACE_TOKEN, { dataset });
  return {
    name: 'search',
    model: {} as Module,
    space: new ArchSpace(),
    trainer: {} as never,
    optim,
    data: { train: {} as never, valid: {} as never },
    metrics: [],
    events: new EventBus(),
    logger: silentLogger,
    progress: silentProgress,
    rng: new Rng(0),
    store: new MemoryExperimentStore(),
    container,
  };
}

describe('NASBench201Estimator', () => {
  const rows = Array.from({ length: 300 }, (_, i) => (i * 7919) % 15625);

  it('stops before the query that would exceed the budget; sums the simulated time; reports the fittest', async () => {
    const b = new NB201Benchmark('cifar10');
    const o = scripted(rows);
    const ctx = estimContext(o);
    const estim = await nasBench201Estimator.create(nasBench201Estimator.schema.parse({ time_budget: 5000 }), makeBuildContext(), undefined);
    const r = await estim.run(ctx);
    const q = r.metrics.queries;
    const evaluated = rows.slice(0, q);
    const spent = evaluated.reduce((a, row) => a + b.cost(row), 0);
    expect(r.metrics.sim_cost).toBeCloseTo(spent, 6);
    expect(spent).toBeLessThanOrEqual(5000);
    expect(spent + b.cost(rows[q])).toBeGreaterThan(5000); // the next one did not fit
    expect(o.proposed).toHaveLength(q + 1);
    expect(o.seen).toEqual(evaluated); // the optimizer never sees the query that was not made
    const fittest = evaluated.reduce((best, row) => (b.query(row, new Rng(0)).fitness > b.query(best, new Rng(0)).fitness ? row : best));
    expect(r.metrics.index).toBe(fittest);
    expect(r.metrics.test_acc).toBe(b.report(fittest).test_acc);
    expect(r.best?.score).toBe(b.query(fittest, new Rng(0)).fitness);
    expect(r.metrics.regret).toBeCloseTo(b.target.value - r.metrics.test_acc, 10);
    expect(ctx.store.read('trials')).toHaveLength(q);
  });

  it("defaults to the dataset's budget and honours max_queries", async () => {
    const ctx = estimContext(scripted(rows), 'cifar100');
    const estim = await nasBench201Estimator.create(nasBench201Estimator.schema.parse({ max_queries: 5, record_trials: false }), makeBuildContext(), undefined);
    const r = await estim.run(ctx);
    expect(r.metrics.budget).toBe(40000);
    expect(r.metrics.queries).toBe(5);
    expect(ctx.store.read('trials')).toHaveLength(0);
    const r2 = await (await nasBench201Estimator.create(nasBench201Estimator.schema.parse({}), makeBuildContext(), undefined)).run(estimContext(scripted(rows), 'ImageNet16-120'));
    expect(r2.metrics.budget).toBe(120000);
    expect(r2.metrics.sim_cost).toBeLessThanOrEqual(120000);
  });

  it('says what is wrong without the NAS-Bench-201 space', async () => {
    const ctx = { ...estimContext(scripted(rows)), container: makeBuildContext().container };
    const estim = await nasBench201Estimator.create(nasBench201Estimator.schema.parse({}), makeBuildContext(), undefined);
    await expect(estim.run(ctx)).rejects.toThrow(/NASBench201Space/);
  });

  it('the space defines 6 categorical params of 5 ops and leaves its dataset for the estimator', async () => {
    const ctx = makeBuildContext();
    await nasBench201Space.create(nasBench201Space.schema.parse({ dataset: 'cifar100' }), ctx, undefined);
    expect(ctx.space.names()).toEqual([...NB201_EDGES]);
    expect(ctx.space.size()).toBe(15625n);
    expect(ctx.container.resolve<{ dataset: string }>(NB201_SPACE_TOKEN).dataset).toBe('cifar100');
    // it declares which cells are the same network (equivalence: false leaves every cell its own)
    const none = parseArchString('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|');
    const dead = { ...none, '1<-0': 'nor_conv_3x3' };
    expect(ctx.space.networkKey(dead)).toBe(ctx.space.networkKey(none));
    const plain = makeBuildContext();
    await nasBench201Space.create(nasBench201Space.schema.parse({ equivalence: false }), plain, undefined);
    expect(plain.space.networkKey(dead)).not.toBe(plain.space.networkKey(none));
  });
});

describe('the discrete optimizers on NAS-Bench-201, through the runner', () => {
  for (const p of [plugin, evolution, random, reinforce, grid]) getRegistry().register(p);
  const plan = (optim: JsonObject, budget = 12000) =>
    validateExperiment({
      name: 'nb201',
      space: { type: 'NASBench201Space', dataset: 'cifar10' },
      optim,
      estim: { search: { type: 'NASBench201Estimator', time_budget: budget } },
    });

  it('every optimizer runs unchanged and respects the budget; a seed gives the same result', async () => {
    for (const optim of <JsonObject[]>[{ type: 'RegularizedEvolutionOptim', population_size: 10, sample_size: 3 }, { type: 'EvolutionOptim', population_size: 10, sample_size: 3 }, { type: 'RandomSearchOptim' }, { type: 'REINFORCEOptim' }, { type: 'GridSearchOptim' }]) {
      const p = await plan(optim);
      const a = await runRepeated(p, { runs: 3, out: false });
      const b = await runRepeated(p, { runs: 3, out: false });
      expect(a.runs.map((r) => r.metrics)).toEqual(b.runs.map((r) => r.metrics));
      for (const r of a.runs) {
        expect(r.metrics.sim_cost).toBeLessThanOrEqual(12000);
        expect(r.metrics.queries).toBeGreaterThan(50);
        expect(r.value).toBe(r.metrics.test_acc);
      }
      if (optim.type !== 'GridSearchOptim') expect(new Set(a.runs.map((r) => r.value)).size).toBeGreaterThan(1);
    }
  });

  it("a run records the cell's space once for the dashboard (stream 'space'): the 6 edge params with their ops and the DAG of 4 nodes", async () => {
    const store = new MemoryExperimentStore();
    const parent = makeBuildContext().container;
    parent.registerInstance(ServiceTokens.ExperimentStore, store);
    const p = await validateExperiment({ name: 'nb201-space', space: { type: 'NASBench201Space' }, optim: { type: 'RandomSearchOptim' }, estim: { search: { type: 'NASBench201Estimator', max_queries: 5 } } });
    const s = await runExperiment(p, { persist: false, container: parent });
    const recs = store.records('space', s.run);
    expect(recs).toHaveLength(1);
    const { time, ...space } = recs[0].record;
    expect(typeof time).toBe('string');
    // edge "j<-i" runs from node i to node j; node 0 is the cell's input, node 3 its output
    expect(space).toEqual({
      params: NB201_EDGES.map((name) => ({ name, type: 'categorical', choices: [...NB201_OPS] })),
      graph: {
        nodes: ['0', '1', '2', '3'],
        edges: [
          { from: 0, to: 1, param: '1<-0' },
          { from: 0, to: 2, param: '2<-0' },
          { from: 1, to: 2, param: '2<-1' },
          { from: 0, to: 3, param: '3<-0' },
          { from: 1, to: 3, param: '3<-1' },
          { from: 2, to: 3, param: '3<-2' },
        ],
      },
    });
    // the trials name their ops by the same params, so a picture labels each edge with its op
    const trials = store.records('trials', s.run);
    expect(trials).toHaveLength(5);
    for (const t of trials) expect(Object.keys(t.record.arch as object).sort()).toEqual([...NB201_EDGES].sort());
  });

  it('regularized evolution finds better cells than random search (mean of 40 runs)', async () => {
    const rea = await runRepeated(await plan({ type: 'RegularizedEvolutionOptim', population_size: 10, sample_size: 3 }, 30000), { runs: 40, out: false });
    const rs = await runRepeated(await plan({ type: 'RandomSearchOptim' }, 30000), { runs: 40, out: false });
    expect(rea.metricMeans.valid_acc).toBeGreaterThan(rs.metricMeans.valid_acc);
  });
});
