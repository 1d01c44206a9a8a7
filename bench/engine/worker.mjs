// Benchmark worker (tfjs side): reads one JSON command per line on stdin, answers one JSON line.
// {"cmd":"run","workload":"a","steps":3} -> {"times":[ms...],"numTensors":n,"rss":MB,"peakRss":MB}
import { createInterface } from 'node:readline';
import { tf } from '@modnas/core';
import { MobileNetV2, OneBlock } from './models.mjs';

const backendArg = process.env.BENCH_BACKEND ?? 'native';
const engineMod = backendArg === 'wasm' || backendArg === 'native' ? await import('../../packages/engine-native/dist/index.js') : undefined;
if (engineMod) await engineMod.wasmEngine.setup(tf);
// webgpu: @modnas/engine-webgpu on a hardware adapter (Dawn's `webgpu` package in Node; bench/gpu.sh installs it)
const gpuMod = backendArg === 'webgpu' ? await import('../../packages/engine-webgpu/dist/index.js') : undefined;
const gpuError = gpuMod ? await gpuMod.webgpuEngine.setup(tf).then(() => undefined, (e) => String(e?.message ?? e).split('\n')[0]) : undefined;
const engineStatusLine = () => engineMod?.engineStatus().detail ?? gpuError ?? gpuMod?.webgpuEngine.describe?.() ?? '';
// A backend that is not there answers every command with why (the driver reports it and goes on).
const startupError = !gpuError && (await tf.setBackend(backendArg)) ? undefined : `backend ${backendArg} is not available: ${engineStatusLine()}`;
if (!startupError) await tf.ready();
/** The step's end: a GPU backend's queued work is waited for (the cpu engines finish inside the step). */
async function finished() {
  const b = tf.backend();
  if (!b.device?.queue) return;
  b.submitQueue?.();
  await b.device.queue.onSubmittedWorkDone();
}
if (!startupError && 'firstUse' in tf.backend()) tf.backend().firstUse = false;


const LR = 0.05;
const MOMENTUM = 0.9;
const WD = 4e-5;
const B = 32;

function sgdStep(params, grads, bufs) {
  tf.tidy(() => {
    for (const p of params) {
      const g = grads[p.name];
      if (!g) continue; // not on this step's path (as PyTorch skips params whose grad is None)
      const d = tf.add(g, tf.mul(p, WD));
      const prev = bufs.get(p);
      const buf = prev ? tf.add(tf.mul(prev, MOMENTUM), d) : d;
      p.assign(tf.sub(p, tf.mul(buf, LR)));
      const kept = tf.keep(buf.clone());
      prev?.dispose();
      bufs.set(p, kept);
    }
  });
}

function ce(logits, labels) {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits);
}

// WeightedSum keeps all six candidates' activations for backprop: at batch 32 that exceeds the
// wasm32 heap (4 GiB; tfjs also holds every intermediate gradient until backprop ends), so its
// step runs at BENCH_WSUM_BATCH (default 8) on both sides.
export const batchOf = (name) => (name === 'c_wsum' ? Number(process.env.BENCH_WSUM_BATCH ?? 8) : B);

function makeWorkload(name) {
  const bs = batchOf(name);
  const x = tf.keep(tf.randomNormal([bs, 32, 32, 3], 0, 1, 'float32', 1));
  const labels = tf.keep(tf.tensor1d(Array.from({ length: bs }, (_, i) => (i * 7) % 10), 'int32'));
  const bufs = new Map();
  let step = 0;
  if (name === 'a' || name === 'c_bingate' || name === 'c_wsum') {
    const net = new MobileNetV2({ mixed: name === 'a' ? undefined : name.slice(2) });
    net.train();
    const params = [...net.parameters(), ...net.archParams()];
    return {
      params: net.numParams(),
      step() {
        net.setStep(step++);
        const { value, grads } = tf.variableGrads(() => ce(net.call(x), labels), params);
        sgdStep(params, grads, bufs);
        tf.dispose([value, ...Object.values(grads)]);
      },
    };
  }
  if (name === 'b') {
    const net = new OneBlock();
    net.train();
    const xb = tf.keep(tf.randomNormal([B, 16, 16, 32], 0, 1, 'float32', 2));
    const params = net.parameters();
    return {
      params: net.numParams(),
      step() {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(net.call(xb))), params);
        sgdStep(params, grads, bufs);
        tf.dispose([value, ...Object.values(grads)]);
      },
    };
  }
  if (name === 'd') {
    // subnet evaluation: reset BN statistics, recalibrate on 4 batches of 32 (train mode, no
    // gradients), then a validation pass over 4 batches of 64 (eval mode), accuracy read back.
    const net = new MobileNetV2();
    const xv = tf.keep(tf.randomNormal([64, 32, 32, 3], 0, 1, 'float32', 3));
    const yv = tf.keep(tf.tensor1d(Array.from({ length: 64 }, (_, i) => (i * 3) % 10), 'int32'));
    return {
      params: net.numParams(),
      async step() {
        for (const [, m] of net.modules()) if (typeof m.resetRunningStats === 'function') m.resetRunningStats();
        net.train();
        // read asynchronously (a GPU backend has no synchronous read in Node)
        const read = async (f) => {
          const t = tf.tidy(f);
          const v = (await t.data())[0];
          t.dispose();
          return v;
        };
        for (let i = 0; i < 4; i++) await read(() => net.call(x));
        net.eval();
        let correct = 0;
        for (let i = 0; i < 4; i++) correct += await read(() => tf.sum(tf.cast(tf.equal(tf.argMax(net.call(xv), 1), yv), 'int32')));
        return correct;
      },
    };
  }
  throw new Error(`unknown workload ${name}`);
}

// BENCH_KTIME=1: wall time per kernel (all wasm kernels and the oneDNN calls are synchronous).
const ktime = new Map();
if (process.env.BENCH_KTIME === '1') {
  for (const k of tf.getKernelsForBackend(tf.getBackend())) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (a) => {
        const t0 = performance.now();
        const out = inner(a);
        const e = ktime.get(k.kernelName) ?? { ms: 0, calls: 0 };
        e.ms += performance.now() - t0;
        e.calls++;
        ktime.set(k.kernelName, e);
        return out;
      },
    });
  }
}
const workloads = new Map();
const mb = (b) => Math.round((b / 2 ** 20) * 10) / 10;
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line);
  let out;
  try {
    if (startupError) throw new Error(startupError);
    if (cmd.cmd === 'info') {
      out = { backend: tf.getBackend(), engine: engineStatusLine(), threads: process.env.OMP_NUM_THREADS ?? '' };
    } else if (cmd.cmd === 'run') {
      if (!workloads.has(cmd.workload)) workloads.set(cmd.workload, makeWorkload(cmd.workload));
      const w = workloads.get(cmd.workload);
      const times = [];
      for (let i = 0; i < cmd.steps; i++) {
        const t0 = performance.now();
        await w.step();
        await finished();
        times.push(performance.now() - t0);
      }
      out = { times, params: w.params, numTensors: tf.memory().numTensors, rss: mb(process.memoryUsage().rss), peakRss: mb(process.resourceUsage().maxRSS * 1024) };
    } else if (cmd.cmd === 'ktime') {
      const total = [...ktime.values()].reduce((a, e) => a + e.ms, 0);
      out = { totalKernelMs: total, kernels: [...ktime.entries()].sort((p, q) => q[1].ms - p[1].ms).slice(0, cmd.top ?? 30) };
      ktime.clear();
    } else if (cmd.cmd === 'stats') {
      out = { stats: engineMod?.kernelStats ?? {} };
    } else if (cmd.cmd === 'profile') {
      if (!workloads.has(cmd.workload)) workloads.set(cmd.workload, makeWorkload(cmd.workload));
      const w = workloads.get(cmd.workload);
      await w.step();
      const prof = await tf.profile(() => w.step());
      const by = {};
      for (const k of prof.kernels) {
        const e = (by[k.name] ??= { ms: 0, calls: 0 });
        e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        e.calls++;
      }
      out = { kernels: Object.entries(by).sort((p, q) => q[1].ms - p[1].ms).slice(0, cmd.top ?? 25) };
    } else if (cmd.cmd === 'exit') {
      process.exit(0);
    }
  } catch (e) {
    out = { error: String(e?.stack ?? e) };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
