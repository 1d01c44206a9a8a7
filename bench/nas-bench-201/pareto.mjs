#!/usr/bin/env node
// Multi-objective search on NAS-Bench-Macro (CIFAR-10): accuracy against params. Each run is a
// budget of 100 queries (fitness = one training run's test accuracy drawn per query, as
// configs/macro.yaml); the search's front is the non-dominated set of the architectures it
// queried, judged by their 3-run mean test accuracy and params, and its hypervolume is divided by
// that of the table's true front (normalised to the true front's ranges, reference point 10%
// beyond its nadir). Run after `pnpm build`:
//   node bench/nas-bench-201/pareto.mjs [--runs 100] [--queries 100] [--write]
import { parseArgs } from 'node:util';
import { ArchSpace, Rng } from '@modnas/core';
import { MACRO_CHOICES, MACRO_PARAMS, MacroBenchmark, loadMacro, macroCode, macroRow } from '../../plugins/bench-nas-bench-macro/dist/index.js';
import { ParetoEvolutionOptim, TournamentEvolution, hypervolume2d, nondominatedFronts, paretoEvolutionOptimSchema } from '../../plugins/optim-evolution/dist/index.js';
import { RandomSearchOptim } from '../../plugins/optim-random/dist/index.js';
import { writeSection } from '../sections.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100' }, queries: { type: 'string', default: '100' }, write: { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
const QUERIES = Number(values.queries);

const table = loadMacro();
const acc = table.column('mean_acc');
const params = table.column('params');
const bench = new MacroBenchmark('random_seed');
const all = Array.from({ length: table.rows }, (_, i) => i);
const raw = (row) => [acc[row], -params[row]];
const rawFront = (rows) => {
  const rs = [...new Set(rows)];
  return nondominatedFronts(rs.map(raw))[0].map((i) => rs[i]);
};
const trueFront = rawFront(all).sort((a, b) => params[a] - params[b]);
// Normalised to the true front's ranges (ideal = 1, nadir = 0 on both), higher is better on both;
// the reference point lies 10% beyond the nadir, as usual, so the front's end points count.
const fAcc = trueFront.map((r) => acc[r]);
const fPar = trueFront.map((r) => params[r]);
const [accLo, accHi] = [Math.min(...fAcc), Math.max(...fAcc)];
const [parLo, parHi] = [Math.min(...fPar), Math.max(...fPar)];
const point = (row) => [(acc[row] - accLo) / (accHi - accLo), (parHi - params[row]) / (parHi - parLo)];
const frontOf = rawFront;
const REF = [-0.1, -0.1];
const hv = (rows) => hypervolume2d(rows.map(point), REF);
const trueHv = hv(trueFront);

const space = () => {
  const s = new ArchSpace();
  for (const name of MACRO_PARAMS) s.categorical({ name, choices: MACRO_CHOICES });
  return s;
};
const ALGOS = [
  ['ParetoEvolutionOptim (NSGA-II, P=10, crossover 0.5; accuracy ↑, params ↓)', (s, rng) => new ParetoEvolutionOptim(s, rng, paretoEvolutionOptimSchema.parse({ population_size: 10 }))],
  ['RandomSearchOptim', (s, rng) => new RandomSearchOptim(s, rng)],
  ['RegularizedEvolutionOptim (P=10, S=3; accuracy only)', (s, rng) => new TournamentEvolution('RegularizedEvolutionOptim', s, rng, 10, 3, 'oldest')],
];

const t0 = performance.now();
const results = [];
for (const [name, make] of ALGOS) {
  const ratios = [];
  const sizes = [];
  const hits = new Map(trueFront.map((r) => [r, 0]));
  let run0;
  for (let run = 0; run < RUNS; run++) {
    const o = make(space(), new Rng(run));
    const draws = new Rng(run ^ 0x9e3779b9);
    const rows = [];
    for (let q = 0; q < QUERIES && o.hasNext(); q++) {
      const [arch] = o.next(1);
      const row = macroRow(arch);
      const { fitness, metrics } = bench.query(row, draws);
      rows.push(row);
      await o.step({ results: [{ arch, score: fitness, metrics: { ...metrics, fitness } }] });
    }
    const front = frontOf(rows);
    ratios.push(hv(front) / trueHv);
    sizes.push(front.length);
    for (const r of front) if (hits.has(r)) hits.set(r, hits.get(r) + 1);
    if (run === 0) run0 = front.sort((a, b) => params[a] - params[b]);
  }
  const mean = ratios.reduce((a, b) => a + b, 0) / RUNS;
  const std = Math.sqrt(ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / RUNS);
  results.push({ name, mean, std, size: sizes.reduce((a, b) => a + b, 0) / RUNS, hits, run0 });
  console.error(`${name}: hypervolume ratio ${mean.toFixed(4)} ± ${std.toFixed(4)} over ${RUNS} runs`);
}
const seconds = (performance.now() - t0) / 1000;

const L = [];
L.push('## Multi-objective search on NAS-Bench-Macro (accuracy and params)', '');
L.push(`Command: \`pnpm build && node bench/nas-bench-201/pareto.mjs --runs ${RUNS} --queries ${QUERIES} --write\` (${seconds.toFixed(1)} s; ${new Date().toISOString().slice(0, 10)}).`, '');
L.push(
  `Each run: ${QUERIES} queries of NAS-Bench-Macro (CIFAR-10; the search sees one training run's test accuracy, drawn per query, and the params of the network). ` +
    "The run's front is the non-dominated set of the networks it queried, by their 3-run mean test accuracy and params; its hypervolume divided by the true front's " +
    `(accuracy and params normalised to the true front's ranges, ${accLo.toFixed(2)}..${accHi.toFixed(2)} % and ${(parLo / 1e6).toFixed(3)}..${(parHi / 1e6).toFixed(3)} M, reference point 10 % beyond its nadir; the true front's hypervolume is ${trueHv.toFixed(4)}). ${RUNS} runs, seeds 0..${RUNS - 1}, mean ± std.`,
  '',
);
L.push('| algorithm | hypervolume / true front | front size (mean) | true-front points found (mean per run) |');
L.push('|---|---|---|---|');
for (const r of results) L.push(`| ${r.name} | ${r.mean.toFixed(4)} ± ${r.std.toFixed(4)} | ${r.size.toFixed(1)} | ${([...r.hits.values()].reduce((a, b) => a + b, 0) / RUNS).toFixed(2)} of ${trueFront.length} |`);
L.push('', `The true front (${trueFront.length} networks of 6,561), and how many of the ${RUNS} NSGA-II runs had each on their front:`, '');
L.push('| code | mean test acc | params (M) | NSGA-II runs |');
L.push('|---|---|---|---|');
for (const r of trueFront) L.push(`| ${macroCode(r)} | ${acc[r].toFixed(2)} | ${(params[r] / 1e6).toFixed(3)} | ${results[0].hits.get(r)} |`);
L.push('', `Front of NSGA-II run 0: ${results[0].run0.map((r) => `${macroCode(r)} (${acc[r].toFixed(2)}, ${(params[r] / 1e6).toFixed(3)} M)`).join(', ')}.`, '');
const section = L.join('\n');
console.log(section);
if (values.write) console.error(`wrote this script's section of ${writeSection('bench/nas-bench-201/pareto.mjs', section)}`);
