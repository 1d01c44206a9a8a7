#!/usr/bin/env node
// Training-engine benchmark: the same workloads on @modnas (tfjs + @modnas/engine-wasm) and on
// PyTorch (bench/reference, Debian's python3-torch), interleaved round by round in one run so
// machine load hits both sides alike. Prints per-step medians, ratios, per-round ratio spread and
// peak RSS. Usage: node bench/run.mjs [--workloads a,b,c_bingate,c_wsum,d] [--rounds 5] [--steps 2]
//                  [--threads 2] [--wsum-batch 8] [--torch-wait passive] [--backend wasm] [--soak 300] [--json out.json]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

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
  c_wsum: `(c) WeightedSum/DARTS supernet step (6 candidates x 17), batch ${args['wsum-batch'] ?? 8}`,
  d: '(d) subnet eval: BN recalibration 4x32 + validation 4x64',
};

class Worker {
  constructor(cmd, argv, env) {
    this.proc = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'], cwd: here });
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async ask(cmd) {
    this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`worker exited (${JSON.stringify(cmd)})`);
    const out = JSON.parse(value);
    if (out.error) throw new Error(out.error);
    return out;
  }
  close() {
    this.proc.stdin.end();
  }
}

const WSUM_BATCH = String(args['wsum-batch'] ?? 8);
const env = { OMP_NUM_THREADS: THREADS, BENCH_THREADS: THREADS, BENCH_BACKEND: args.backend ?? 'wasm', BENCH_WSUM_BATCH: WSUM_BATCH };
const js = () => new Worker(process.execPath, [join(here, 'engine/worker.mjs')], env);
// --torch-wait passive: PyTorch's OpenMP threads sleep when idle, as the engine's do (default: libgomp's spin-then-sleep).
const pyEnv = { ...env, ...(args['torch-wait'] ? { OMP_WAIT_POLICY: args['torch-wait'].toUpperCase() } : {}) };
const py = () => new Worker(PYTHON, [join(here, 'reference/worker.py')], pyEnv);
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

const jsInfo = await (async () => {
  const w = js();
  const i = await w.ask({ cmd: 'info' });
  w.close();
  return i;
})();
const pyInfo = await (async () => {
  const w = py();
  const i = await w.ask({ cmd: 'info' });
  w.close();
  return i;
})();
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}; load average at start ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
console.log(`tfjs: backend ${jsInfo.backend}${jsInfo.engine ? ` (${jsInfo.engine})` : ''}; PyTorch ${pyInfo.torch} (${pyInfo.threads} threads, mkldnn ${pyInfo.mkldnn}); OMP_NUM_THREADS=${THREADS}; PyTorch OMP_WAIT_POLICY=${pyEnv.OMP_WAIT_POLICY ?? '(default)'}`);
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
  const a = js();
  const b = py();
  // warm-up (kernel JIT, primitive caches, allocator)
  const ja = await a.ask({ cmd: 'run', workload: wl, steps: 1 });
  const pb = await b.ask({ cmd: 'run', workload: wl, steps: 1 });
  const jt = [];
  const pt = [];
  const roundRatios = [];
  let jr = ja;
  let pr = pb;
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [b, a] : [a, b];
    for (const w of order) {
      const res = await w.ask({ cmd: 'run', workload: wl, steps: wl === 'b' ? STEPS * 5 : STEPS });
      if (w === a) {
        jr = res;
        jt.push(...res.times);
      } else {
        pr = res;
        pt.push(...res.times);
      }
    }
    roundRatios.push(median(jr.times) / median(pr.times));
  }
  a.close();
  b.close();
  const row = {
    workload: wl,
    name: NAMES[wl],
    tfjsMs: median(jt),
    torchMs: median(pt),
    ratio: median(jt) / median(pt),
    roundRatioMin: Math.min(...roundRatios),
    roundRatioMax: Math.max(...roundRatios),
    tfjsSpread: [Math.min(...jt), Math.max(...jt)],
    torchSpread: [Math.min(...pt), Math.max(...pt)],
    params: { tfjs: ja.params, torch: pb.params },
    peakRssMb: { tfjs: jr.peakRss, torch: pr.peakRss },
    numTensors: jr.numTensors,
  };
  results.push(row);
  console.log(
    `${row.name}\n  tfjs ${fmt(row.tfjsMs)} | PyTorch ${fmt(row.torchMs)} | ratio ${row.ratio.toFixed(2)}x (per-round ${row.roundRatioMin.toFixed(2)}-${row.roundRatioMax.toFixed(2)}) | ` +
      `params ${row.params.tfjs} vs ${row.params.torch} | peak RSS ${row.peakRssMb.tfjs} MB vs ${row.peakRssMb.torch} MB | tfjs step range ${fmt(row.tfjsSpread[0])}-${fmt(row.tfjsSpread[1])}, PyTorch ${fmt(row.torchSpread[0])}-${fmt(row.torchSpread[1])}`,
  );
}
console.log(`\nload average at end ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
console.log('| workload | tfjs+engine | PyTorch | ratio | per-round ratio | peak RSS tfjs / PyTorch |');
console.log('|---|---|---|---|---|---|');
for (const r of results) console.log(`| ${r.name} | ${fmt(r.tfjsMs)} | ${fmt(r.torchMs)} | **${r.ratio.toFixed(2)}x** | ${r.roundRatioMin.toFixed(2)}-${r.roundRatioMax.toFixed(2)} | ${r.peakRssMb.tfjs} / ${r.peakRssMb.torch} MB |`);
if (args.json) writeFileSync(args.json, JSON.stringify({ jsInfo, pyInfo, results }, null, 2));
