#!/usr/bin/env node
// The latency lookup table against whole-network measurements (issue 23), per target: for each
// search space (bench/latency/space.mjs), build the table on the target (every primitive at every
// shape measured once), then measure N random architectures of the space as whole networks on the
// same target and compare with the table's prediction. Prints, and with --write replaces its section
// of bench/RESULTS.md with: each primitive's latency per target, and the table's error per target
// (share within ±10%, median and 90th-percentile |error|).
//
//   node bench/latency.mjs [--spaces quickstart,cifar] [--targets engine,onnxruntime-node,tfjs-wasm,tfjs-webgl,onnxruntime-web]
//                          [--networks 200] [--rep 20] [--warmup 5] [--min-sample-ms 2] [--rounds 5] [--write]
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './sections.mjs';
import { buildSpace } from './latency/space.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { Rng } = await import(join(root, 'packages/core/dist/index.js'));
const L = await import(join(root, 'packages/kit-latency/dist/index.js'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const spaces = opt('spaces', 'quickstart,cifar').split(',');
const targets = opt('targets', L.LATENCY_TARGETS.join(',')).split(',');
const N = Number(opt('networks', '200'));
const timing = { batch_size: 1, warmup: Number(opt('warmup', '5')), rep: Number(opt('rep', '20')), min_sample_ms: Number(opt('min-sample-ms', '2')) };
const rounds = Number(opt('rounds', '5'));
const write = args.includes('--write');

const fmt = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const p = (s.length - 1) * q;
  return s[Math.floor(p)] + (s[Math.ceil(p)] - s[Math.floor(p)]) * (p - Math.floor(p));
};

const results = []; // { space, target, info, table, errors, measured, tableSeconds, netSeconds }
const t00 = Date.now();
for (const spaceName of spaces) {
  const space = await buildSpace(spaceName);
  const ops = L.tableOps(space.model);
  for (const target of targets) {
    const runtime = await L.openRuntime(target, { threads: 1 });
    const info = await runtime.info();
    const t0 = Date.now();
    const table = await L.buildLatencyTable(space.model, space.inputShape, runtime, { timing, rounds });
    const tableSeconds = (Date.now() - t0) / 1000;
    const rng = new Rng(2024);
    // the measured networks run as long as the table's base did before its measurements
    const warm = ops.map(() => 0);
    const warmEnd = performance.now() + 2000;
    while (performance.now() < warmEnd) await L.measureChoice(space.model, space.inputShape, runtime, timing, ops, warm);
    const errors = [];
    const measured = [];
    const t1 = Date.now();
    for (let i = 0; i < N; i++) {
      const choice = ops.map(([, op]) => rng.int(op.numCandidates));
      const m = await L.measureChoice(space.model, space.inputShape, runtime, timing, ops, choice);
      const p = L.predictLatency(table, choice);
      measured.push(m.median);
      errors.push((p - m.median) / m.median);
    }
    const netSeconds = (Date.now() - t1) / 1000;
    const within = errors.filter((e) => Math.abs(e) <= 0.1).length / errors.length;
    const abs = errors.map(Math.abs);
    console.log(`${spaceName} ${target}: ${info.runtime}; table ${fmt(tableSeconds, 1)} s (fixed ${fmt(table.fixed)} ms), ${N} networks ${fmt(netSeconds, 1)} s: within ±10% ${pct(within)}, median |err| ${pct(quantile(abs, 0.5))}, p90 ${pct(quantile(abs, 0.9))}, mean bias ${pct(errors.reduce((a, b) => a + b, 0) / errors.length)}, measured ${fmt(quantile(measured, 0.5))} ms median (${fmt(Math.min(...measured))}-${fmt(Math.max(...measured))})`);
    results.push({ space: spaceName, target, info, table, errors, measured, within, tableSeconds, netSeconds });
  }
  space.dispose();
}
await L.closeRuntimes();
const seconds = (Date.now() - t00) / 1000;

/** Per space: one row per distinct primitive at a shape, its ms on each target. */
function primitiveRows(spaceName) {
  const rs = results.filter((r) => r.space === spaceName);
  const rows = new Map();
  for (const r of rs) {
    for (const op of r.table.ops) {
      op.candidates.forEach((name, i) => {
        const e = r.table.entries[op.keys[i]];
        if (name === 'NIL') return;
        const label = `${name} at ${e.shape.join('×')}`;
        if (!rows.has(label)) rows.set(label, {});
        rows.get(label)[r.target] = e.ms;
      });
    }
  }
  const ts = rs.map((r) => r.target);
  const lines = [`| primitive at input | ${ts.join(' | ')} |`, `|---|${ts.map(() => '---:').join('|')}|`];
  for (const [label, ms] of rows) lines.push(`| ${label} | ${ts.map((t) => fmt(ms[t])).join(' | ')} |`);
  lines.push(`| fixed part (stem, head, one run's overhead) | ${rs.map((r) => fmt(r.table.fixed)).join(' | ')} |`);
  return lines.join('\n');
}

const body = [
  '## Latency on the deployment target: the lookup table against whole networks (`bench/latency.mjs`)',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0].model.trim()} x${cpus().length} (load average ${loadavg()[0].toFixed(2)} at the end), ${fmt(seconds, 0)} s in all. Batch 1; a latency is the median of ${timing.rep} samples after ${timing.warmup} warm-up runs, each sample at least ${timing.min_sample_ms} ms of back-to-back runs. The ONNX runtimes on 1 thread (a page without cross-origin isolation); the browser targets in one headless Chromium (Debian's; WebGL on SwiftShader, there is no GPU here).`,
  '',
  'Runtimes:',
  '',
  ...[...new Map(results.map((r) => [r.target, r.info.runtime]))].map(([t, rt]) => `- \`${t}\`: ${rt}`),
  '',
  `The table's error: for each space and target, ${N} random architectures (seeded) measured as whole networks on the target, against \`fixed + Σ blocks\` from the table built just before on the same target (every candidate measured in context, in the whole network at the base architecture with that one op changed; ${rounds} rounds, the median kept). Error = (predicted − measured) / measured.`,
  '',
  '| space | target | networks within ±10% | median abs error | 90th pct abs error | mean error (bias) | measured median (min-max), ms | table built in | networks measured in |',
  '|---|---|---:|---:|---:|---:|---|---:|---:|',
  ...results.map((r) => {
    const abs = r.errors.map(Math.abs);
    return `| ${r.space} | ${r.target} | ${pct(r.within)} | ${pct(quantile(abs, 0.5))} | ${pct(quantile(abs, 0.9))} | ${pct(r.errors.reduce((a, b) => a + b, 0) / r.errors.length)} | ${fmt(quantile(r.measured, 0.5))} (${fmt(Math.min(...r.measured))}-${fmt(Math.max(...r.measured))}) | ${fmt(r.tableSeconds, 1)} s | ${fmt(r.netSeconds, 1)} s |`;
  }),
  '',
  ...spaces.flatMap((s) => [`Primitive latencies, ${s} space (ms, the table's entries: what each candidate adds in the network, anchored on the first candidate measured alone less an empty network of its shape):`, '', primitiveRows(s), '']),
].join('\n');
console.log(`\n${body}`);
if (write) console.log(`wrote ${writeSection('latency', body)}`);
