#!/usr/bin/env node
// ProxylessNAS with a latency target on a browser runtime (issue 23): the quickstart search run
// twice through the CLI, both measuring the found architecture's latency in onnxruntime-web in
// headless Chromium after every epoch (TargetLatencyMetrics): once as it is (no latency term), then
// with BinaryGateOptim's latency loss (cost_metric latency, the table built on the same target)
// aiming at a target below what the free search found. Reports each search's architecture,
// validation accuracy and measured latency; --write replaces its section of bench/RESULTS.md.
//
//   node bench/latency-search.mjs [--target onnxruntime-web] [--factor 0.8] [--target-ms X] [--mode mul] [--write]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './sections.mjs';
import { measureSideBySide } from './latency/space.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const target = opt('target', 'onnxruntime-web');
const factor = Number(opt('factor', '0.8'));
const mode = opt('mode', 'mul');
const out = join(root, 'bench', 'out', 'latency-search');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const metric = [`metrics.latency.type=TargetLatencyMetrics`, `metrics.latency.target=${target}`];
function search(name, extra) {
  const t0 = Date.now();
  const argv = [join(root, 'packages/cli/dist/bin.js'), 'run', join(root, 'examples/quickstart/search.yaml'), '--name', name, '--output-dir', out, '--json', '-q', ...[...metric, ...extra].flatMap((o) => ['-o', o])];
  const summary = JSON.parse(execFileSync(process.execPath, argv, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 }));
  const s = summary.estims.search;
  const arch = readFileSync(join(out, name, 'outputs', 'arch_search_best.yaml'), 'utf8').trim();
  const r = { name, acc: s.metrics.acc, latency: s.metrics.latency, iqr: s.metrics.latency_iqr, arch, seconds: (Date.now() - t0) / 1000 };
  console.log(`${name}: valid acc ${(100 * r.acc).toFixed(2)}%, ${target} latency ${r.latency.toFixed(3)} ms (IQR ${r.iqr.toFixed(3)}), ${r.seconds.toFixed(0)} s`);
  return r;
}

/**
 * The found architectures measured side by side in one browser, 5 interleaved rounds, the median
 * kept: the per-epoch metric of each search is one measurement at whatever moment it ran.
 */
const remeasure = (results) =>
  measureSideBySide(
    target,
    results.map((r) => r.arch.split('\n').map((l) => l.replace(/^-\s*/, '').trim()).filter(Boolean)),
    { label: (n) => results[n].name },
  );

const free = search('latency-free', []);
const [freeMs] = await remeasure([free]);
free.latency5 = freeMs.median;
const goal = Number(opt('target-ms', String(+(freeMs.median * factor).toFixed(3))));
const aimed = search('latency-aimed', [`optim.cost_mode=${mode}`, 'optim.cost_metric=latency', `optim.cost_target=${goal}`, `optim.latency.target=${target}`]);
const both = await remeasure([free, aimed]);
free.latency5 = both[0].median;
free.spread5 = both[0].iqr;
aimed.latency5 = both[1].median;
aimed.spread5 = both[1].iqr;
console.log(`side by side: free ${free.latency5.toFixed(3)} ms, aimed ${aimed.latency5.toFixed(3)} ms`);
const meets = aimed.latency5 <= goal;
const accGap = 100 * (free.acc - aimed.acc);
console.log(`target ${goal} ms: ${meets ? 'met' : 'NOT met'}; accuracy ${accGap >= 0 ? '-' : '+'}${Math.abs(accGap).toFixed(2)} points; free search ${free.latency5 > aimed.latency5 ? 'slower' : 'not slower'}`);

const archLine = (a) => a.replace(/\n/g, ' ').replace(/\s+/g, ' ');
const body = [
  '## A search aimed at a browser latency: ProxylessNAS\'s latency loss (`bench/latency-search.mjs`)',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0].model.trim()} x${cpus().length}. The quickstart search (\`examples/quickstart/search.yaml\`, MNIST, BinaryGateOptim) twice, each measuring the architecture it holds in **${target}** in headless Chromium after every epoch (\`TargetLatencyMetrics\`, batch 1, median of 30 samples). The aimed run adds \`cost_mode: ${mode}, cost_metric: latency, cost_target: ${goal}\` with \`latency: { target: ${target} }\` (the lookup table built on that target at the first arch step): the target is ${factor} × the free search's found architecture as measured after its search (5 rounds). Both found architectures are then measured side by side in one browser (5 interleaved rounds of 30 samples, the median of the rounds; the spread is the IQR of the round medians); the last column is the search's own last-epoch measurement.`,
  '',
  '| search | latency term | valid accuracy | latency, side by side (ms) | spread (ms) | meets the target | last-epoch metric (ms) | wall time |',
  '|---|---|---:|---:|---:|---|---:|---:|',
  `| free | none | ${(100 * free.acc).toFixed(2)}% | ${free.latency5.toFixed(3)} | ${free.spread5.toFixed(3)} | ${free.latency5 <= goal ? 'yes' : 'no'} | ${free.latency.toFixed(3)} | ${free.seconds.toFixed(0)} s |`,
  `| aimed | ${mode}, target ${goal} ms | ${(100 * aimed.acc).toFixed(2)}% | ${aimed.latency5.toFixed(3)} | ${aimed.spread5.toFixed(3)} | ${meets ? 'yes' : 'no'} | ${aimed.latency.toFixed(3)} | ${aimed.seconds.toFixed(0)} s |`,
  '',
  `Accuracy: the aimed search is ${Math.abs(accGap).toFixed(2)} points ${accGap >= 0 ? 'below' : 'above'} the free one. Found architectures (\`arch_search_best.yaml\`):`,
  '',
  `- free: \`${archLine(free.arch)}\``,
  `- aimed: \`${archLine(aimed.arch)}\``,
].join('\n');
console.log(`\n${body}`);
if (args.includes('--write')) console.log(`wrote ${writeSection('latency-search', body)}`);
