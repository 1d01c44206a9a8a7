#!/usr/bin/env node
// Training-engine benchmark: the same workloads on @modnas (tfjs + @modnas/engine-native) and on
// PyTorch (bench/reference, Debian's python3-torch), interleaved round by round in one run so
// machine load hits every side alike. Prints per-step medians, ratios, per-round ratio spread and
// peak RSS. Usage: node bench/run.mjs [--workloads a,b,c_bingate,c_wsum,d] [--rounds 5] [--steps 2]
//   [--threads 2] [--wsum-batch 32] [--torch-wait passive] [--engines default,dnnl,fallback]
//   [--limit fallback=a,b,d] [--soak 300] [--json out.json] [--write]   (--write: replace this benchmark's section of RESULTS.md)
// Engines: default = the `native` backend on the engine's own kernels (what an install gets);
// dnnl = the same backend on oneDNN (needs libdnnl-dev at install); fallback = the wasm backend
// on its wasm/JavaScript kernels (what a machine without a C++ compiler gets); webgpu = the
// @modnas/engine-webgpu backend on a hardware GPU (Dawn's `webgpu` package; bench/gpu.sh), each
// step timed to the end of the GPU's work. --torch-device cuda: PyTorch's side on the GPU.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineWorker } from './line-worker.mjs';
import { writeSection } from './sections.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']] : acc), []),
);
const WORKLOADS = (args.workloads ?? 'a,b,c_bingate,c_wsum,d').split(',');
const ROUNDS = Number(args.rounds ?? 5);
const STEPS = Number(args.steps ?? 2);
const THREADS = String(args.threads ?? 2);
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const NAMES = {
  a: '(a) MobileNetV2-CIFAR train step, batch 32',
  b: '(b) inverted-residual block step (MB3E6 32ch 16x16), batch 32',
  c_bingate: '(c) BinGate supernet step (1 sampled path / 17 mixed ops), batch 32',
  c_wsum: `(c) WeightedSum/DARTS supernet step (6 candidates x 17), batch ${args['wsum-batch'] ?? 32}`,
  d: '(d) subnet eval: BN recalibration 4x32 + validation 4x64',
};


const WSUM_BATCH = String(args['wsum-batch'] ?? 32);
const env = { OMP_NUM_THREADS: THREADS, BENCH_THREADS: THREADS, BENCH_WSUM_BATCH: WSUM_BATCH };
const ENGINES = {
  default: { BENCH_BACKEND: 'native', MODNAS_ENGINE_KERNELS: 'own' },
  dnnl: { BENCH_BACKEND: 'native', MODNAS_ENGINE_KERNELS: 'dnnl' },
  fallback: { BENCH_BACKEND: 'wasm', MODNAS_ENGINE_KERNELS: 'js' },
  wasm: { BENCH_BACKEND: 'wasm', MODNAS_ENGINE_KERNELS: 'own' },
  webgpu: { BENCH_BACKEND: 'webgpu' },
};
const engineNames = (args.engines ?? 'default').split(',');
for (const e of engineNames) if (!ENGINES[e]) throw new Error(`unknown engine ${e}: use ${Object.keys(ENGINES).join(', ')}`);
// --limit fallback=a,b,d: run that engine on those workloads only (its supernet steps take minutes)
const limits = Object.fromEntries((args.limit ?? '').split(';').filter(Boolean).map((l) => [l.split('=')[0], l.split('=')[1].split(',')]));
const js = (engine = 'default') => new LineWorker(process.execPath, [join(here, 'engine/worker.mjs')], { ...env, ...ENGINES[engine] }, here);
// --torch-wait passive: PyTorch's OpenMP threads sleep when idle, as the engine's do (default: libgomp's spin-then-sleep).
const pyEnv = { ...env, ...(args['torch-wait'] ? { OMP_WAIT_POLICY: args['torch-wait'].toUpperCase() } : {}), ...(args['torch-device'] ? { BENCH_TORCH_DEVICE: args['torch-device'] } : {}) };
const py = () => new LineWorker(PYTHON, [join(here, 'reference/worker.py')], pyEnv, here);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

if (args.soak) {
  // Memory: a long run of one workload; tensors and RSS every `every` steps.
  const n = Number(args.soak);
  const every = Number(args.every ?? 25);
  const w = js();
  const wl = args.workloads ?? 'a';
  console.log(`soak: workload ${wl}, ${n} steps (numTensors, RSS every ${every} steps)`);
  for (let done = 0; done < n; done += every) {
    const r = await w.ask({ cmd: 'run', workload: wl, steps: every });
    console.log(`step ${String(done + every).padStart(4)}: numTensors ${r.numTensors}, RSS ${r.rss} MB, peak RSS ${r.peakRss} MB, median step ${fmt(median(r.times))}`);
  }
  w.close();
  process.exit(0);
}

const jsInfos = {};
for (const e of engineNames) {
  const w = js(e);
  jsInfos[e] = await w.ask({ cmd: 'info' }).catch((err) => ({ backend: '-', engine: `unavailable: ${String(err?.message ?? err).split('\n')[0]}` }));
  w.close();
}
// Without PyTorch the tfjs side still runs (bench/gpu.sh on a machine without it); the ratios are left out.
const pyInfo = await (async () => {
  const w = py();
  const i = await w.ask({ cmd: 'info' }).catch(() => ({ torch: 'absent', threads: '-', mkldnn: '-' }));
  w.close();
  return i;
})();
const loadStart = loadavg().map((v) => v.toFixed(1)).join(' ');
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}; load average at start ${loadStart}`);
for (const e of engineNames) console.log(`engine ${e}: backend ${jsInfos[e].backend} (${jsInfos[e].engine})`);
console.log(`PyTorch ${pyInfo.torch} on ${pyInfo.device ?? 'cpu'} (${pyInfo.threads} threads, mkldnn ${pyInfo.mkldnn}); OMP_NUM_THREADS=${THREADS}; PyTorch OMP_WAIT_POLICY=${pyEnv.OMP_WAIT_POLICY ?? '(default)'}`);
console.log(`${ROUNDS} rounds x ${STEPS} steps per side per workload, sides alternating; 1 warm-up round\n`);

const results = [];
for (const wl of WORKLOADS) {
  try {
    await runWorkload(wl);
  } catch (e) {
    console.log(`${NAMES[wl] ?? wl}\n  FAILED: ${String(e?.message ?? e).split('\n')[0]}`);
  }
}

async function runWorkload(wl) {
  const sides = [...engineNames.filter((e) => !limits[e] || limits[e].includes(wl)).map((e) => ({ engine: e, w: js(e), times: [], last: undefined, ratios: [] })), { engine: 'torch', w: py(), times: [], last: undefined }];
  const torch = sides[sides.length - 1];
  // warm-up (kernel JIT, primitive caches, allocator); a side that fails is reported, the rest go on
  for (const s of sides) {
    try {
      s.first = await s.w.ask({ cmd: 'run', workload: wl, steps: 1 });
    } catch (e) {
      s.error = String(e?.message ?? e).split('\n')[0];
    }
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [...sides].reverse() : sides;
    for (const s of order) {
      if (s.error) continue;
      try {
        s.last = await s.w.ask({ cmd: 'run', workload: wl, steps: wl === 'b' ? STEPS * 5 : STEPS });
        s.times.push(...s.last.times);
      } catch (e) {
        s.error = String(e?.message ?? e).split('\n')[0];
      }
    }
    for (const s of sides) if (s !== torch && !s.error && !torch.error) s.ratios.push(median(s.last.times) / median(torch.last.times));
  }
  for (const s of sides) s.w.close();
  console.log(NAMES[wl] ?? wl);
  if (torch.error) console.log(`  PyTorch FAILED: ${torch.error}`);
  for (const s of sides.slice(0, -1)) {
    if (s.error) {
      console.log(`  ${s.engine}: FAILED: ${s.error}`);
      results.push({ workload: wl, name: NAMES[wl], engine: s.engine, error: s.error });
      continue;
    }
    const row = {
      workload: wl,
      name: NAMES[wl],
      engine: s.engine,
      tfjsMs: median(s.times),
      torchMs: torch.error ? NaN : median(torch.times),
      ratio: torch.error ? NaN : median(s.times) / median(torch.times),
      roundRatioMin: Math.min(...s.ratios),
      roundRatioMax: Math.max(...s.ratios),
      tfjsSpread: [Math.min(...s.times), Math.max(...s.times)],
      torchSpread: [Math.min(...torch.times), Math.max(...torch.times)],
      params: { tfjs: s.first.params, torch: torch.first?.params },
      peakRssMb: { tfjs: s.last.peakRss, torch: torch.last?.peakRss },
      numTensors: s.last.numTensors,
    };
    results.push(row);
    if (torch.error) {
      console.log(`  ${s.engine}: tfjs ${fmt(row.tfjsMs)} (no PyTorch to compare) | params ${row.params.tfjs} | peak RSS ${row.peakRssMb.tfjs} MB | step range ${fmt(row.tfjsSpread[0])}-${fmt(row.tfjsSpread[1])}`);
      continue;
    }
    console.log(
      `  ${s.engine}: tfjs ${fmt(row.tfjsMs)} | PyTorch ${fmt(row.torchMs)} | ratio ${row.ratio.toFixed(2)}x (per-round ${row.roundRatioMin.toFixed(2)}-${row.roundRatioMax.toFixed(2)}) | ` +
        `params ${row.params.tfjs} vs ${row.params.torch} | peak RSS ${row.peakRssMb.tfjs} MB vs ${row.peakRssMb.torch} MB (${(row.peakRssMb.tfjs / row.peakRssMb.torch).toFixed(2)}x) | step range ${fmt(row.tfjsSpread[0])}-${fmt(row.tfjsSpread[1])}, PyTorch ${fmt(row.torchSpread[0])}-${fmt(row.torchSpread[1])}`,
    );
  }
}
console.log(`\nload average at end ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
const table = [
  '| workload | engine | tfjs | PyTorch | ratio | per-round ratio | peak RSS tfjs / PyTorch |',
  '|---|---|---|---|---|---|---|',
  ...results.map((r) =>
    r.error
      ? `| ${r.name} | ${r.engine} | failed: ${r.error.slice(0, 80)} | | | | |`
      : Number.isNaN(r.torchMs)
        ? `| ${r.name} | ${r.engine} | ${fmt(r.tfjsMs)} | - | - | - | ${r.peakRssMb.tfjs} MB / - |`
        : `| ${r.name} | ${r.engine} | ${fmt(r.tfjsMs)} | ${fmt(r.torchMs)} | **${r.ratio.toFixed(2)}x** | ${r.roundRatioMin.toFixed(2)}-${r.roundRatioMax.toFixed(2)} | ${r.peakRssMb.tfjs} / ${r.peakRssMb.torch} MB (${(r.peakRssMb.tfjs / r.peakRssMb.torch).toFixed(2)}x) |`,
  ),
];
console.log(table.join('\n'));
if (args.json) writeFileSync(args.json, JSON.stringify({ jsInfos, pyInfo, results }, null, 2));
if (args.write) {
  // Only this benchmark's section of RESULTS.md, between its markers.
  const body = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`node bench/run.mjs ${process.argv.slice(2).join(' ')}\`; ${cpus().length} x ${cpus()[0]?.model}, load average at start ${loadStart}.`,
    ...engineNames.map((e) => `- engine ${e}: backend ${jsInfos[e].backend} (${jsInfos[e].engine})`),
    `- PyTorch ${pyInfo.torch} (${pyInfo.threads} threads, mkldnn ${pyInfo.mkldnn}), OMP_WAIT_POLICY ${pyEnv.OMP_WAIT_POLICY ?? '(default)'}`,
    '',
    ...table,
  ].join('\n');
  const file = writeSection('bench/run.mjs', body);
  console.log(`wrote its section of ${file}`);
}
