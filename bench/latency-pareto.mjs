#!/usr/bin/env node
// The Pareto front of accuracy against browser latency (issue 23): examples/quickstart/pareto-latency.yaml
// run through the CLI (SPOS supernet, then NSGA-II over paths scored with the supernet's weights,
// each path's latency measured in onnxruntime-web in headless Chromium). Reads the front the run
// wrote (outputs/pareto_select.json), measures the front's networks again side by side in one
// browser (5 interleaved rounds) to check that their order by latency holds outside the search,
// and reports them; --write replaces its section of bench/RESULTS.md.
//
//   node bench/latency-pareto.mjs [--write]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './sections.mjs';
import { measureSideBySide } from './latency/space.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const target = 'onnxruntime-web';
const out = join(root, 'bench', 'out', 'latency-pareto');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const t0 = Date.now();
const argv = [join(root, 'packages/cli/dist/bin.js'), 'run', join(root, 'examples/quickstart/pareto-latency.yaml'), '--output-dir', out, '--json', '-q'];
const summary = JSON.parse(execFileSync(process.execPath, argv, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 }));
const seconds = (Date.now() - t0) / 1000;
const exp = join(out, 'pareto-latency');
const written = JSON.parse(readFileSync(join(exp, 'outputs', 'pareto_select.json'), 'utf8'));
const front = [...written.front].sort((a, b) => a.metrics.latency - b.metrics.latency);
console.log(`${written.candidates} candidates in ${seconds.toFixed(0)} s; front of ${front.length}; supernet valid acc ${summary.estims.supernet.metrics.acc}`);

// the front's networks again, side by side in one browser: 5 interleaved rounds, the median kept
const again = (await measureSideBySide(target, front.map((p) => Object.values(p.arch)), { label: (n) => `trial ${front[n].index + 1}` })).map((r) => r.median);
// pairs of front points whose order by latency the side-by-side measurement keeps
let kept = 0;
let pairs = 0;
for (let i = 0; i < front.length; i++) {
  for (let j = i + 1; j < front.length; j++) {
    if (front[i].metrics.latency === front[j].metrics.latency) continue;
    pairs++;
    if (again[i] < again[j]) kept++;
  }
}

const body = [
  '## The Pareto front of accuracy against browser latency (`bench/latency-pareto.mjs`)',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0].model.trim()} x${cpus().length}. \`examples/quickstart/pareto-latency.yaml\`: the quickstart's MobileNetV2 space (6 searched blocks of MB3E3, MB3E6, MB5E3, MB5E6 and NIL where a block may be skipped) on MNIST. SPOS trains the supernet for 8 epochs (\`RandomSamplingEstim\`); NSGA-II (\`ParetoEvolutionOptim\`, population 12) then proposes ${written.candidates} paths, each scored by \`SubNetEstim\` with the supernet's weights (batch-norm statistics recomputed on 8 batches, validation accuracy on 512 images) and timed in **${target}** in headless Chromium (\`TargetLatencyMetrics\`, batch 1, median of 20 samples). The run took ${(seconds / 60).toFixed(1)} min. The front (\`outputs/pareto_select.json\`, drawn in \`plot/pareto_select.svg\`), by latency; the last column measures the front's networks again side by side in one browser (5 interleaved rounds of 30 samples, the median of the rounds):`,
  '',
  '| trial | architecture (searched blocks) | valid accuracy | latency in the search (ms) | side by side (ms) |',
  '|---:|---|---:|---:|---:|',
  ...front.map((p, i) => `| ${p.index + 1} | ${Object.values(p.arch).join(' ')} | ${(100 * p.metrics.acc).toFixed(2)}% | ${p.metrics.latency.toFixed(3)} | ${again[i].toFixed(3)} |`),
  '',
  `Side by side, ${kept} of ${pairs} pairs of front points keep the order by latency the search measured.${kept < pairs ? " Where one does not, the two latencies lie within the drift this shared machine shows between measurements of one network (see the latency table's section)." : ''} In the dashboard (\`modnas ui ${join('bench', 'out', 'latency-pareto')}\`), the run's Pareto chart of score against latency marks the same front; a click on a point opens its trial, with its architecture.`,
].join('\n');
console.log(`\n${body}`);
if (args.includes('--write')) console.log(`wrote ${writeSection('latency-pareto', body)}`);
