import type { Assignment, Rng } from '@modnas/core';
import { ModnasError, token } from '@modnas/core';
import type { Table, TabularBenchmark, TabularQuery } from '@modnas/kit-tabular';
import { once, readTable } from '@modnas/kit-tabular';

/** The 3 choices of every layer, named as ModularNAS primitives: identity, MobileNetV2 k3 e3, MobileNetV2 k5 e6 (digits 0, 1, 2 of the benchmark's codes). */
export const MACRO_CHOICES = ['IDT', 'MB3E3', 'MB5E6'] as const;
export const MACRO_LAYERS = 8;
/** Arch param names: layer_0 ... layer_7. */
export const MACRO_PARAMS: readonly string[] = Array.from({ length: MACRO_LAYERS }, (_, i) => `layer_${i}`);
export const MACRO_SIZE = 3 ** MACRO_LAYERS;

/** The container token under which NASBenchMacroSpace marks the experiment's space. */
export const MACRO_SPACE_TOKEN = token<{ layers: number }>('@modnas/bench-nas-bench-macro:Space');

export const loadMacro = once((): Table => readTable(new URL('../data/nas-bench-macro.json.gz', import.meta.url)));

/** Row of an assignment: sum_i choice(layer_i) * 3^i. */
export function macroRow(arch: Assignment): number {
  let row = 0;
  let radix = 1;
  for (const name of MACRO_PARAMS) {
    const k = (MACRO_CHOICES as readonly string[]).indexOf(arch[name] as string);
    if (k < 0) {
      throw new ModnasError('MODNAS_E_MACRO_ARCH', `NAS-Bench-Macro: ${name} is ${JSON.stringify(arch[name])}, not one of ${MACRO_CHOICES.join(', ')}`, {
        fix: 'search the space of NASBenchMacroSpace (its params are layer_0 ... layer_7)',
      });
    }
    row += k * radix;
    radix *= 3;
  }
  return row;
}

/** The benchmark's own 8-digit code of a row, e.g. "22212220" (digit i = layer i). */
export function macroCode(row: number): string {
  return Array.from({ length: MACRO_LAYERS }, (_, i) => Math.floor(row / 3 ** i) % 3).join('');
}

/** The assignment of a benchmark code. */
export function archOfCode(code: string): Assignment {
  if (!/^[012]{8}$/.test(code)) throw new ModnasError('MODNAS_E_MACRO_ARCH', `not a NAS-Bench-Macro code: ${JSON.stringify(code)}`, { fix: 'write 8 digits 0/1/2, one per layer' });
  return Object.fromEntries(MACRO_PARAMS.map((n, i) => [n, MACRO_CHOICES[Number(code[i])]]));
}

export type MacroFitness = 'random_seed' | 'first_seed' | 'mean';

/**
 * NAS-Bench-Macro as a TabularBenchmark. The table has test accuracies only (three training
 * runs, no validation split, no training time): the fitness is one run's accuracy (a random run
 * per query by default, like NAS-Bench-201's per-seed queries), the reported number is the mean
 * of the three runs, and every query costs 1 (the budget counts queries).
 */
export class MacroBenchmark implements TabularBenchmark {
  readonly name = 'NAS-Bench-Macro cifar10';
  readonly unit = 'queries';
  readonly target: { metric: string; row: number; value: number };
  private readonly seeds: Float64Array[];
  private readonly mean: Float64Array;
  private readonly std: Float64Array;
  private readonly params: Float64Array;
  private readonly flops: Float64Array;

  constructor(readonly fitness: MacroFitness) {
    const t = loadMacro();
    this.seeds = [0, 1, 2].map((s) => t.column(`test_acc_${s}`));
    this.mean = t.column('mean_acc');
    this.std = t.column('std');
    this.params = t.column('params');
    this.flops = t.column('flops');
    let best = 0;
    for (let i = 1; i < t.rows; i++) if (this.mean[i] > this.mean[best]) best = i;
    this.target = { metric: 'test_acc', row: best, value: this.mean[best] };
  }

  rowOf(arch: Assignment): number {
    return macroRow(arch);
  }

  query(row: number, rng: Rng): TabularQuery {
    const fitness = this.fitness === 'mean' ? this.mean[row] : this.seeds[this.fitness === 'first_seed' ? 0 : rng.int(3)][row];
    return { fitness, cost: 1, metrics: { params: this.params[row], flops: this.flops[row] } };
  }

  report(row: number): Record<string, number> {
    return { test_acc: this.mean[row], test_acc_std: this.std[row], params: this.params[row], flops: this.flops[row], index: row };
  }

  label(row: number): string {
    return macroCode(row);
  }
}
