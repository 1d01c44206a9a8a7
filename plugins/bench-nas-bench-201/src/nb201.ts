import { existsSync } from 'node:fs';
import type { Assignment, Rng } from '@modnas/core';
import { ModnasError, token } from '@modnas/core';
import type { Table, TabularBenchmark, TabularQuery } from '@modnas/kit-tabular';
import { once, readTable } from '@modnas/kit-tabular';

/** The candidate operations of every edge, in the official order. */
export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
/** The 6 edges of the cell (node j <- node i), in the order of the official arch string; also the arch param names. */
export const NB201_EDGES = ['1<-0', '2<-0', '2<-1', '3<-0', '3<-1', '3<-2'] as const;
export const NB201_SIZE = 15625;

export const NB201_DATASETS = ['cifar10', 'cifar100', 'ImageNet16-120'] as const;
export type NB201Dataset = (typeof NB201_DATASETS)[number];

/** The simulated-time budgets of the published baselines: NAS-Bench-201 Table 5 (CIFAR-10), NATS-Bench (the others). */
export const NB201_DEFAULT_BUDGET: Record<NB201Dataset, number> = { cifar10: 12000, cifar100: 40000, 'ImageNet16-120': 120000 };

/** The container token under which NASBench201Space leaves its settings for the estimator. */
export const NB201_SPACE_TOKEN = token<NB201SpaceInfo>('@modnas/bench-nas-bench-201:Space');
export interface NB201SpaceInfo {
  dataset: NB201Dataset;
}

/** The official arch string of an assignment, e.g. |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|...|. */
export function archString(arch: Assignment): string {
  const op = (e: string): string => {
    const v = arch[e];
    if (typeof v !== 'string' || !(NB201_OPS as readonly string[]).includes(v)) {
      throw new ModnasError('MODNAS_E_NB201_ARCH', `NAS-Bench-201: edge ${e} has ${JSON.stringify(v)}, not one of ${NB201_OPS.join(', ')}`);
    }
    return v;
  };
  return [1, 2, 3].map((j) => '|' + Array.from({ length: j }, (_, i) => `${op(`${j}<-${i}`)}~${i}`).join('|') + '|').join('+');
}

/**
 * A key equal for cells that compute the same function with the same weights: an edge is dead
 * (as good as `none`) when no path of live ops leads from the input through it to the output; a
 * node whose only live input is a skip_connect is that input; the operands of a node's sum are
 * unordered (so nodes 1 and 2 are interchangeable when no edge joins them). Of the 15,625 cells,
 * 6,835 networks remain.
 */
export function nb201NetworkKey(arch: Assignment): string {
  const live = (e: string): boolean => arch[e] !== 'none';
  const fromInput = [true, false, false, false];
  const toOutput = [false, false, false, true];
  for (let j = 1; j < 4; j++) for (let i = 0; i < j; i++) if (live(`${j}<-${i}`) && fromInput[i]) fromInput[j] = true;
  for (let i = 2; i >= 0; i--) for (let j = i + 1; j < 4; j++) if (live(`${j}<-${i}`) && toOutput[j]) toOutput[i] = true;
  const id = ['x'];
  for (let j = 1; j < 4; j++) {
    const terms: string[] = [];
    for (let i = 0; i < j; i++) if (live(`${j}<-${i}`) && fromInput[i] && toOutput[j]) terms.push(`${String(arch[`${j}<-${i}`])}:${id[i]}`);
    const skip = 'skip_connect:';
    id[j] = terms.length === 1 && terms[0].startsWith(skip) ? terms[0].slice(skip.length) : terms.length > 0 ? `N[${terms.sort().join(',')}]` : '0';
  }
  return id[3];
}

/** The assignment of an official arch string. */
export function parseArchString(s: string): Assignment {
  const nodes = s.split('+').map((n) => n.split('|').filter(Boolean));
  const bad = (): never => {
    throw new ModnasError('MODNAS_E_NB201_ARCH', `not a NAS-Bench-201 arch string: ${JSON.stringify(s)}`, {
      fix: 'write it as |op~0|+|op~0|op~1|+|op~0|op~1|op~2| with ops ' + NB201_OPS.join(', '),
    });
  };
  if (nodes.length !== 3) bad();
  const out: Assignment = {};
  nodes.forEach((edges, jm1) => {
    if (edges.length !== jm1 + 1) bad();
    edges.forEach((e, i) => {
      const [op, from] = e.split('~');
      if (Number(from) !== i || !(NB201_OPS as readonly string[]).includes(op)) bad();
      out[`${jm1 + 1}<-${i}`] = op;
    });
  });
  return out;
}

/** Mixed-radix code of an assignment (edge order NB201_EDGES, op order NB201_OPS), as stored in the table's arch column. */
export function archCode(arch: Assignment): number {
  let code = 0;
  let radix = 1;
  for (const e of NB201_EDGES) {
    const k = (NB201_OPS as readonly string[]).indexOf(arch[e] as string);
    if (k < 0) {
      throw new ModnasError('MODNAS_E_NB201_ARCH', `NAS-Bench-201: edge ${e} has ${JSON.stringify(arch[e])}, not one of ${NB201_OPS.join(', ')}`, {
        fix: 'search the space of NASBench201Space (its params are the 6 edges)',
      });
    }
    code += k * radix;
    radix *= NB201_OPS.length;
  }
  return code;
}

const TEST200_FILE = new URL('../data/nb201-nats-test200.json.gz', import.meta.url);

/** The whole table: the MIT columns, plus the NATS-Bench 200-epoch test columns when installed. Loaded once. */
export interface NB201Table {
  table: Table;
  /** Rows of the 200-epoch test accuracies (absent when data/nb201-nats-test200.json.gz was removed). */
  test200?: Table;
  /** Row (official index) of each arch code. */
  rowOfCode: Int32Array;
}

export const loadNB201 = once((): NB201Table => {
  const table = readTable(new URL('../data/nb201.json.gz', import.meta.url));
  const test200 = existsSync(TEST200_FILE) ? readTable(TEST200_FILE) : undefined;
  const codes = table.column('arch');
  const rowOfCode = new Int32Array(NB201_SIZE).fill(-1);
  codes.forEach((c, row) => (rowOfCode[c] = row));
  return { table, test200, rowOfCode };
});

/** The assignment of an official index. */
export function archOfIndex(index: number): Assignment {
  const { table } = loadNB201();
  if (!Number.isInteger(index) || index < 0 || index >= table.rows) throw new ModnasError('MODNAS_E_NB201_ARCH', `NAS-Bench-201 has no index ${index} (0..${table.rows - 1})`);
  let code = table.column('arch')[index];
  const out: Assignment = {};
  for (const e of NB201_EDGES) {
    out[e] = NB201_OPS[code % NB201_OPS.length];
    code = Math.floor(code / NB201_OPS.length);
  }
  return out;
}

/** What a dataset setting reads: the fitness column, the cost of a query, the reported columns. */
interface DatasetSpec {
  fitness: string;
  /** Simulated seconds of the 12-epoch schedule plus one validation pass. */
  cost(trainEpoch: number, validEval: number): number;
  /** Reported name -> column, from the MIT table. */
  report: Record<string, string>;
  /** Reported name -> column, from the NATS-Bench 200-epoch test table. */
  report200: Record<string, string>;
}

// Costs: the official code charges train-all-time (12 epochs) + valid-per-time; per-epoch times are
// constant per arch and scale with the set sizes (cifar100: 50k train / 5k valid; ImageNet16-120:
// 151,700 train / 3,000 valid; cifar10-valid: 25k / 25k).
const SPECS: Record<NB201Dataset, DatasetSpec> = {
  cifar10: {
    fitness: 'c10v_valid_12',
    cost: (t, v) => 12 * t + v,
    report: { valid_acc: 'c10v_valid_200', c10v_test_acc: 'c10v_test_200', valid_acc_12: 'c10v_valid_12', test_acc_12: 'c10_test_12' },
    report200: { test_acc: 'c10_test_200' },
  },
  cifar100: {
    fitness: 'c100_valid_12',
    cost: (t, v) => 12 * 2 * t + 0.2 * v,
    report: { valid_acc_12: 'c100_valid_12', test_acc_12: 'c100_test_12' },
    report200: { test_acc: 'c100_test_200' },
  },
  'ImageNet16-120': {
    fitness: 'in16_valid_12',
    cost: (t, v) => 12 * (151700 / 25000) * t + (3000 / 25000) * v,
    report: { valid_acc_12: 'in16_valid_12', test_acc_12: 'in16_test_12' },
    report200: { test_acc: 'in16_test_200' },
  },
};

const benchmarks = new Map<NB201Dataset, NB201Benchmark>();

/** The benchmark of a dataset setting, built once per process (repeated runs share it). */
export function nb201Benchmark(dataset: NB201Dataset): NB201Benchmark {
  let b = benchmarks.get(dataset);
  if (!b) benchmarks.set(dataset, (b = new NB201Benchmark(dataset)));
  return b;
}

/**
 * NAS-Bench-201 as a TabularBenchmark for one dataset: fitness = 12-epoch validation accuracy
 * (the table holds the seed mean: the official code draws one seed per query), cost = the
 * simulated seconds of that training, reported = 200-epoch test accuracy of the row.
 */
export class NB201Benchmark implements TabularBenchmark {
  readonly unit = 's';
  readonly name: string;
  readonly target: { metric: string; row: number; value: number };
  private readonly fitness: Float64Array;
  private readonly costs: Float64Array;
  private readonly reported: Array<[string, Float64Array]>;
  private readonly rowOfCode: Int32Array;

  /** @param tables the loaded table (default: the package's data/, loaded once) */
  constructor(
    readonly dataset: NB201Dataset,
    tables: NB201Table = loadNB201(),
  ) {
    const { table, test200, rowOfCode } = tables;
    const spec = SPECS[dataset];
    this.name = `NAS-Bench-201 ${dataset}`;
    this.rowOfCode = rowOfCode;
    this.fitness = table.column(spec.fitness);
    const t = table.column('c10v_train_epoch_s');
    const v = table.column('c10v_valid_eval_s');
    this.costs = Float64Array.from(t, (te, i) => spec.cost(te, v[i]));
    this.reported = [
      ...Object.entries(spec.report200).flatMap(([k, c]): Array<[string, Float64Array]> => (test200 ? [[k, test200.column(c)]] : [])),
      ...Object.entries(spec.report).map(([k, c]): [string, Float64Array] => [k, table.column(c)]),
    ];
    // Without the NATS-Bench test table the search is judged by what the MIT table has.
    const metric = test200 ? 'test_acc' : dataset === 'cifar10' ? 'valid_acc' : 'test_acc_12';
    const col = this.reported.find(([k]) => k === metric)![1];
    let best = 0;
    for (let i = 1; i < col.length; i++) if (col[i] > col[best]) best = i;
    this.target = { metric, row: best, value: col[best] };
  }

  rowOf(arch: Assignment): number {
    return this.rowOfCode[archCode(arch)];
  }

  query(row: number, _rng: Rng): TabularQuery {
    return { fitness: this.fitness[row], cost: this.costs[row] };
  }

  /** Simulated seconds of one query of a row. */
  cost(row: number): number {
    return this.costs[row];
  }

  report(row: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, c] of this.reported) out[k] = c[row];
    out.index = row;
    return out;
  }

  label(row: number): string {
    return `#${row} ${archString(archOfIndex(row))}`;
  }
}
