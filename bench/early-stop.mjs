#!/usr/bin/env node
// Early stopping of weak candidates (ASHA) against none, on a SubNetEstimator search of the
// quickstart space on MNIST (examples/quickstart/early-stop/subnet.yaml): each arm runs
// `modnas run` for the same wall-clock budget (SIGINT at the end: the search stops after the
// candidate in training, and every finished candidate is in logs/candidates.jsonl), then the best
// accuracy on the held-out 500 MNIST test images is read against training time and against
// epochs trained (the latter does not depend on machine load). Run after `pnpm build`:
//   node bench/early-stop.mjs [--seconds 540] [--train-size 1024] [--write]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clearTimeout, setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import { writeSection } from './sections.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '540' }, 'train-size': { type: 'string', default: '1024' }, write: { type: 'boolean', default: false } } });
const SECONDS = Number(values.seconds);
const TRAIN_SIZE = Number(values['train-size']);
const CONFIG = 'examples/quickstart/early-stop/subnet.yaml';
const TRAIN_EPOCHS = 9;
const ARMS = [
  ['no early stopping', 'none', []],
  ['ASHA (min_epochs 1, η 3: rungs at 1 and 3 epochs)', 'asha', ['-o', 'estim.search.early_stop.min_epochs=1', '-o', 'estim.search.early_stop.reduction_factor=3']],
];

async function arm(key, extra) {
  const out = join(root, 'bench', 'out', 'early-stop', key);
  if (existsSync(out)) rmSync(out, { recursive: true });
  const args = [join(root, 'packages/cli/dist/bin.js'), 'run', CONFIG, '-o', `output_dir=${out}`, '-o', `estim.search.train_epochs=${TRAIN_EPOCHS}`, '-o', `data_provider.train_size=${TRAIN_SIZE}`, ...extra];
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  const t0 = Date.now();
  const p = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const timer = setTimeout(() => p.kill('SIGINT'), SECONDS * 1000);
  await new Promise((res) => p.on('exit', res));
  clearTimeout(timer);
  const wall = (Date.now() - t0) / 1000;
  const file = join(out, 'quickstart-early-stop', 'logs', 'candidates.jsonl');
  const recs = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  let epochs = 0;
  let best = -Infinity;
  const curve = recs.map((r) => {
    epochs += r.metrics.epochs_trained ?? TRAIN_EPOCHS;
    best = Math.max(best, r.score);
    return { t: (Date.parse(r.time) - t0) / 1000, epochs, best, stopped: r.metrics.early_stopped === 1 };
  });
  return { key, wall, load, curve, n: recs.length, stopped: curve.filter((c) => c.stopped).length };
}

const results = [];
for (const [name, key, extra] of ARMS) {
  const r = await arm(key, extra);
  results.push({ name, ...r });
  console.error(`${name}: ${r.n} candidates (${r.stopped} stopped early) in ${r.wall.toFixed(0)} s, best ${r.curve.at(-1)?.best}`);
}

const at = (curve, field, x) => curve.filter((c) => c[field] <= x).at(-1)?.best;
const fmt = (v) => (v === undefined ? '–' : v.toFixed(3));
const cpu = cpus();
const L = [];
L.push('## Early stopping of weak candidates (SubNetEstimator, quickstart space, MNIST)', '');
L.push(`Command: \`pnpm build && node bench/early-stop.mjs --seconds ${SECONDS} --train-size ${TRAIN_SIZE} --write\` (config \`${CONFIG}\`, train_epochs ${TRAIN_EPOCHS}); ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`, '');
L.push(
  `Each arm: random search over the quickstart space (8,000 architectures), one candidate at a time, each trained from the same initial weights for up to ${TRAIN_EPOCHS} passes over ${TRAIN_SIZE} MNIST training images (batch 32), ` +
    'scored by accuracy on 500 images of the MNIST test split; the same seed, so both arms draw the same candidates in the same order. ' +
    `Each arm ran for ${SECONDS} s of wall time on ${cpu.length} cores (${cpu[0]?.model.trim()}); the load average at the start of each arm is in the table ` +
    '(wall times depend on it; the epochs columns do not). One run per arm, one seed.',
  '',
);
L.push('| arm | load avg at start | candidates evaluated | stopped early | epochs trained | best test acc (500 images) | best per hour of training |');
L.push('|---|---|---|---|---|---|---|');
for (const r of results) {
  const last = r.curve.at(-1);
  L.push(`| ${r.name} | ${r.load} | ${r.n} | ${r.stopped} | ${last?.epochs ?? 0} | ${fmt(last?.best)} | ${last ? `${fmt(last.best)} in ${(last.t / 60).toFixed(1)} min` : '–'} |`);
}
const maxT = Math.min(...results.map((r) => r.curve.at(-1)?.t ?? 0));
const maxE = Math.min(...results.map((r) => r.curve.at(-1)?.epochs ?? 0));
const tPts = [0.25, 0.5, 0.75, 1].map((f) => f * maxT);
const ePts = [0.25, 0.5, 0.75, 1].map((f) => Math.round(f * maxE));
L.push('', 'Best test accuracy reached so far, against wall time and against epochs trained (the same points for both arms):', '');
L.push(`| arm | ${tPts.map((t) => `${(t / 60).toFixed(1)} min`).join(' | ')} | ${ePts.map((e) => `${e} epochs`).join(' | ')} |`);
L.push(`|---|${tPts.map(() => '---').join('|')}|${ePts.map(() => '---').join('|')}|`);
for (const r of results) L.push(`| ${r.name} | ${tPts.map((t) => fmt(at(r.curve, 't', t))).join(' | ')} | ${ePts.map((e) => fmt(at(r.curve, 'epochs', e))).join(' | ')} |`);
L.push('');
const section = L.join('\n');
console.log(section);
if (values.write) console.error(`wrote this script's section of ${writeSection('bench/early-stop.mjs', section)}`);
