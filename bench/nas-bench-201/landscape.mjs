#!/usr/bin/env node
// Why local search stops near 94.2 on NAS-Bench-201 CIFAR-10 under the Table 5 protocol: the
// fitness landscape of the one-edit neighbourhood (local optima, the share of the space that
// climbs to each), and where LocalSearchOptim's ~90 queries of a 12,000 s run go (the
// first local optimum, restarts), read from the optimizer itself on the seeds 0..runs-1, with
// and without the space's network equivalence.
// Run after `pnpm build`:
//   node bench/nas-bench-201/landscape.mjs [--runs 500] [--write]
// --write replaces this script's section of bench/RESULTS.md (bench/sections.mjs).
import { parseArgs } from 'node:util';
import { ArchSpace, Rng } from '@modnas/core';
import { NB201_EDGES, NB201_OPS, archOfIndex, archString, loadNB201, nb201Benchmark, nb201NetworkKey } from '../../plugins/bench-nas-bench-201/dist/index.js';
import { LocalSearchOptim, localSearchOptimSchema } from '../../plugins/optim-local-search/dist/index.js';
import { writeSection } from '../sections.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '500' }, write: { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
const BUDGET = 12000;

const bench = nb201Benchmark('cifar10');
const N = loadNB201().table.rows;
const fit = Float64Array.from({ length: N }, (_, r) => bench.query(r).fitness);
const test = Float64Array.from({ length: N }, (_, r) => bench.report(r).test_acc);
const neighbours = Array.from({ length: N }, (_, r) => {
  const a = archOfIndex(r);
  return NB201_EDGES.flatMap((e) => NB201_OPS.filter((o) => o !== a[e]).map((o) => bench.rowOf({ ...a, [e]: o })));
});

// Local optima: no neighbour of higher fitness. Basin: where steepest ascent from a cell ends.
const optima = [];
for (let r = 0; r < N; r++) if (neighbours[r].every((n) => fit[n] < fit[r])) optima.push(r);
optima.sort((a, b) => fit[b] - fit[a]);
const basin = new Map(optima.map((o) => [o, 0]));
for (let r = 0; r < N; r++) {
  let c = r;
  for (;;) {
    let up = c;
    for (const n of neighbours[c]) if (fit[n] > fit[up]) up = n;
    if (up === c) break;
    c = up;
  }
  basin.set(c, basin.get(c) + 1);
}
const best = optima[0];
const hamming = (x, y) => NB201_EDGES.filter((e) => archOfIndex(x)[e] !== archOfIndex(y)[e]).length;

// LocalSearchOptim as the ls.yaml row runs it (num_init 10, move: first), driven by the protocol's
// budget rule (stop before the query that would exceed 12,000 simulated seconds): with every cell
// its own network, and with the space's network equivalence (NASBench201Space's default).
const space = (equivalence) => {
  const s = new ArchSpace();
  for (const e of NB201_EDGES) s.categorical({ name: e, choices: NB201_OPS });
  if (equivalence) s.declareEquivalence(nb201NetworkKey);
  return s;
};
const networks = new Set(Array.from({ length: N }, (_, r) => nb201NetworkKey(archOfIndex(r)))).size;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
async function driveLS(equivalence) {
  const runs = [];
  for (let seed = 0; seed < RUNS; seed++) {
    const o = new LocalSearchOptim(space(equivalence), new Rng(seed), localSearchOptimSchema.parse({ num_init: 10, move: 'first' }));
    let spent = 0;
    let queries = 0;
    let top = -1;
    let firstOptimumAt;
    while (o.hasNext()) {
      const [arch] = o.next(1);
      const row = bench.rowOf(arch);
      if (spent + bench.cost(row) > BUDGET) break;
      spent += bench.cost(row);
      queries++;
      if (top < 0 || fit[row] > fit[top]) top = row;
      await o.step({ results: [{ arch, score: fit[row], metrics: {} }] });
      if (firstOptimumAt === undefined && o.position().restarts > 0) firstOptimumAt = queries;
    }
    runs.push({ queries, top, restarts: o.position().restarts, firstOptimumAt });
  }
  const withOptimum = runs.filter((r) => r.firstOptimumAt !== undefined);
  const byRestarts = [0, 1, 2].map((k) => {
    const rs = runs.filter((r) => Math.min(r.restarts, 2) === k);
    return { n: rs.length, found: rs.filter((r) => r.top === best).length };
  });
  return {
    queries: mean(runs.map((r) => r.queries)),
    firstOptimumAt: mean(withOptimum.map((r) => r.firstOptimumAt)),
    withOptimum: withOptimum.length,
    found: runs.filter((r) => r.top === best).length,
    test: mean(runs.map((r) => test[r.top])),
    byRestarts,
  };
}
const plain = await driveLS(false);
const merged = await driveLS(true);

const L = [];
L.push('## NAS-Bench-201 CIFAR-10: the landscape local search climbs', '');
L.push(`Command: \`pnpm build && node bench/nas-bench-201/landscape.mjs --runs ${RUNS} --write\` (exact: an exhaustive pass over the table, and LocalSearchOptim driven on seeds 0..${RUNS - 1} under the 12,000 s budget with the ls.yaml settings; its own random streams, so not the same runs as the table's row).`, '');
L.push(
  `Neighbourhood: the 24 cells one edit away. Fitness: the 12-epoch validation accuracy (seed mean), as the search sees it. ` +
    `**${optima.length} local optima** in ${N.toLocaleString('en-US')} cells. Basin: the share of all cells from which steepest ascent ends at that optimum.`,
  '',
);
L.push('| local optimum | cell | fitness | test acc (200 ep) | basin | edits from the best |');
L.push('|---|---|---|---|---|---|');
for (const o of optima.slice(0, 8)) {
  L.push(`| #${o} | \`${archString(archOfIndex(o))}\` | ${fit[o].toFixed(2)} | ${test[o].toFixed(2)} | ${((100 * basin.get(o)) / N).toFixed(1)}% | ${hamming(o, best)} |`);
}
L.push(`| (${optima.length - 8} more) | | ≤ ${fit[optima[8]].toFixed(2)} | | ${((100 * optima.slice(8).reduce((a, o) => a + basin.get(o), 0)) / N).toFixed(1)}% | |`);
L.push('');
const pct = (k, n) => (n ? `${((100 * k) / n).toFixed(1)}%` : '–');
L.push(
  `LocalSearchOptim (10 initial cells, first improvement) over ${RUNS} runs, with every cell its own network and with NASBench201Space's network equivalence ` +
    `(dead edges, a node that is only a skip of another, nodes 1 and 2 swapped: ${networks.toLocaleString('en-US')} networks in ${N.toLocaleString('en-US')} cells; an equivalent of an evaluated cell is judged by its known score, not queried again). ` +
    `"First optimum": the query at which the first local optimum is confirmed (its whole neighbourhood evaluated), in the runs that reach one.`,
  '',
);
L.push('| | queries / run | first optimum after | runs reaching one | best cell found | test acc of the fittest found (mean) |');
L.push('|---|---|---|---|---|---|');
for (const [name, r] of [['every cell its own network', plain], ['network equivalence (default)', merged]]) {
  L.push(`| ${name} | ${r.queries.toFixed(1)} | ${r.firstOptimumAt.toFixed(1)} | ${r.withOptimum} | ${r.found} (${pct(r.found, RUNS)}) | ${r.test.toFixed(2)} |`);
}
L.push('', 'Runs by the local optima they reached, and how many of them found the best cell:', '');
L.push('| local optima reached in the run | every cell its own network | network equivalence |');
L.push('|---|---|---|');
for (const k of [0, 1, 2]) {
  const [p, m] = [plain.byRestarts[k], merged.byRestarts[k]];
  L.push(`| ${k === 2 ? '2 or more' : k} | ${p.n} runs, ${p.found} found it (${pct(p.found, p.n)}) | ${m.n} runs, ${m.found} found it (${pct(m.found, m.n)}) |`);
}
L.push(
  '',
  "A climb from the best of 10 random cells ends in the best cell's basin about half the time, and confirming a local optimum costs its 24 neighbours; " +
    'a run that misses the best cell ends on another optimum 3-5 edits away (test 93.6-93.9), which is what holds the mean near 94.2 against the ceiling of 94.37. ' +
    'Judging equivalent cells by the score already known makes a neighbourhood cheaper to confirm (cells one edit away on a dead edge are the same network), so more runs have the budget for a second climb.',
  '',
);
const section = L.join('\n');
console.log(section);
if (values.write) console.error(`wrote this script's section of ${writeSection('bench/nas-bench-201/landscape.mjs', section)}`);
