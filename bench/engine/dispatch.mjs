#!/usr/bin/env node
// Run-time ISA dispatch against -march=native: workloads (a) and (c) of bench/run.mjs on the
// engine's `native` backend, once on the addon the loader picks (the platform package's build for
// this processor's level) and once on an addon of the same sources compiled with -march=native (as
// the engine was built before prebuilt packages), in one run, sides alternating ABAB round by
// round so that load from other processes hits both alike. Prints per-step medians and the ratio
// dispatched / native per workload; --write replaces this script's section of bench/RESULTS.md.
// Usage: node bench/engine/dispatch.mjs [--workloads a,c_bingate,c_wsum] [--rounds 6] [--steps 2]
//   [--threads 2] [--write]
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from '../../packages/engine-native/scripts/compile.mjs';
import { LineWorker } from '../line-worker.mjs';
import { writeSection } from '../sections.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']] : acc), []),
);
if (args.help) {
  console.log('node bench/engine/dispatch.mjs [--workloads a,c_bingate,c_wsum] [--rounds 6] [--steps 2] [--threads 2] [--write]');
  process.exit(0);
}
const WORKLOADS = (args.workloads ?? 'a,c_bingate,c_wsum').split(',');
const ROUNDS = Number(args.rounds ?? 6);
const STEPS = Number(args.steps ?? 2);
const THREADS = String(args.threads ?? 2);
const NAMES = {
  a: '(a) MobileNetV2-CIFAR train step, batch 32',
  c_bingate: '(c) BinGate supernet step, batch 32',
  c_wsum: '(c) WeightedSum/DARTS supernet step, batch 8',
};

const outDir = join(here, '../out/dispatch');
const nativeAddon = buildAddon({ level: { isa: 'native', flags: [] }, flags: ['-march=native'], name: 'modnas_kernels.native', outDir, cxx: process.env.CXX ?? 'g++' });

/** The engine's bench worker (engine/worker.mjs) on the native backend, with `env` choosing the build. */
const engineWorker = (env) => new LineWorker(process.execPath, [join(here, 'worker.mjs')], { OMP_NUM_THREADS: THREADS, BENCH_THREADS: THREADS, BENCH_BACKEND: 'native', MODNAS_ENGINE_KERNELS: 'own', ...env }, here);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const SIDES = { dispatched: {}, native: { MODNAS_ENGINE_ADDON: nativeAddon } };
const infos = {};
for (const [name, env] of Object.entries(SIDES)) {
  const w = engineWorker(env);
  infos[name] = (await w.ask({ cmd: 'info' })).engine;
  w.close();
}
const header = [
  `machine: ${cpus().length} x ${cpus()[0]?.model}; load average at start ${loadavg().map((v) => v.toFixed(1)).join(' ')} (a shared machine: other processes ran alongside)`,
  `dispatched: ${infos.dispatched}`,
  `native:     ${infos.native.replace(dirname(dirname(here)) + '/', '')} (-march=native, same sources and flags otherwise)`,
  `${ROUNDS} rounds x ${STEPS} steps per side per workload, sides alternating ABAB; 1 warm-up step; OMP_NUM_THREADS=${THREADS}`,
];
console.log(`${header.join('\n')}\n`);

const rows = [];
for (const wl of WORKLOADS) {
  const sides = Object.entries(SIDES).map(([name, env]) => ({ name, w: engineWorker(env), times: [], ratios: [] }));
  for (const s of sides) await s.w.ask({ cmd: 'run', workload: wl, steps: 1 });
  const ratios = [];
  for (let r = 0; r < ROUNDS; r++) {
    const last = {};
    for (const s of r % 2 ? [...sides].reverse() : sides) {
      const t = (await s.w.ask({ cmd: 'run', workload: wl, steps: STEPS })).times;
      s.times.push(...t);
      last[s.name] = median(t);
    }
    ratios.push(last.dispatched / last.native);
  }
  for (const s of sides) s.w.close();
  const [d, n] = sides.map((s) => median(s.times));
  // The median of the per-round ratios (each round's two sides ran back to back) is the figure that load drift disturbs least.
  const row = { wl, dispatched: d, native: n, ratio: d / n, roundRatio: median(ratios), spread: [Math.min(...ratios), Math.max(...ratios)] };
  rows.push(row);
  console.log(`${NAMES[wl] ?? wl}: dispatched ${d.toFixed(0)} ms, native ${n.toFixed(0)} ms per step (medians); dispatched/native ${row.ratio.toFixed(3)}, median per-round ratio ${row.roundRatio.toFixed(3)} (range ${row.spread.map((x) => x.toFixed(3)).join('..')})`);
}

if (args.write) {
  const table = ['| workload | dispatched (ms/step) | -march=native (ms/step) | ratio of medians | median per-round ratio | per-round range |', '|---|---|---|---|---|---|'];
  for (const r of rows) table.push(`| ${NAMES[r.wl] ?? r.wl} | ${r.dispatched.toFixed(0)} | ${r.native.toFixed(0)} | ${r.ratio.toFixed(3)} | ${r.roundRatio.toFixed(3)} | ${r.spread.map((x) => x.toFixed(3)).join(' – ')} |`);
  const body = [`## Engine: run-time ISA dispatch vs -march=native (bench/engine/dispatch.mjs, ${new Date().toISOString().slice(0, 10)})`, '', ...header.map((l) => `- ${l}`), '', ...table].join('\n');
  console.log(`wrote ${writeSection('bench/engine/dispatch.mjs', body)}`);
}
