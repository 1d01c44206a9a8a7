#!/usr/bin/env node
// Throughput of the executors in one run, on one workload (bench/executors/search.yaml: the 27
// candidates of a subnet search, each trained one epoch and validated): in-process, 1 and 2 worker
// threads, 2 BullMQ workers (`modnas worker` processes on a Redis this script starts on a free
// port, or --redis URL). Candidates per minute = candidates / the search estimator's seconds
// (summary.json), which includes the workers' start-up (plugins, experiment, data). The load
// average is printed before and after: run it when the machine is quiet. After `pnpm build`:
//   node bench/executors.mjs [--redis redis://127.0.0.1:6379] [--write]
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSection } from './sections.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const CONFIG = 'bench/executors/search.yaml';
const OUT = join(root, 'bench', 'out', 'executors');
const { values } = parseArgs({ options: { redis: { type: 'string' }, write: { type: 'boolean', default: false } } });
// the coordinator and its BullMQ workers share a secret (jobs are signed); one per bench run, by environment
const ENV = { ...process.env, MODNAS_BACKEND: process.env.MODNAS_BACKEND ?? 'wasm', MODNAS_WORKER_SECRET: process.env.MODNAS_WORKER_SECRET ?? randomBytes(32).toString('hex') };

function start(args, opts = {}) {
  const child = spawn(opts.cmd ?? process.execPath, opts.cmd ? args : [bin, ...args], { cwd: root, env: { ...ENV, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const exited = new Promise((res) => child.on('exit', (code) => res({ code, text })));
  return { child, exited };
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// The engine's kernels use every core (OpenMP) by default. WorkerThreadsExecutor shares the cores
// among its threads (kernel_threads: auto); `modnas worker --kernel-threads 1` does it by hand.
const ONE = { OMP_NUM_THREADS: '1' };

async function arm(key, executor, env = {}) {
  const r = await start(['run', CONFIG, '--output-dir', OUT, '--name', key, '-q', ...(executor ? ['-o', `executor=${executor}`] : [])], { env }).exited;
  if (r.code !== 0) throw new Error(`${key}: exit ${r.code}\n${r.text}`);
  const s = JSON.parse(readFileSync(join(OUT, key, 'outputs', 'summary.json'), 'utf8')).estims.search;
  const candidates = s.metrics.candidates;
  return { key, candidates, seconds: s.seconds, perMinute: (candidates / s.seconds) * 60, best: s.best?.score };
}

rmSync(OUT, { recursive: true, force: true });
const load0 = loadavg();
const t0 = Date.now();
let redis = values.redis;
let server;
if (!redis) {
  const port = await freePort();
  server = start(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { cmd: 'redis-server' });
  redis = `redis://127.0.0.1:${port}`;
  await new Promise((r) => setTimeout(r, 500));
}
const queue = `bench-${process.pid}`;
const rows = [];
const workers = [];
try {
  rows.push(['in-process (InProcessExecutor), kernels on every core', await arm('in-process', undefined, {})]);
  rows.push(['in-process, one kernel thread (`OMP_NUM_THREADS=1`)', await arm('in-process-1', undefined, ONE)]);
  rows.push(['1 worker thread (kernel_threads auto: every core)', await arm('threads-1', '{type: WorkerThreadsExecutor, workers: 1}')]);
  rows.push(['2 worker threads (kernel_threads auto: cores / 2 each), the default', await arm('threads-2', '{type: WorkerThreadsExecutor, workers: 2}')]);
  rows.push(['2 worker threads, every core each (kernel_threads: cores, oversubscribed)', await arm('threads-2-all', `{type: WorkerThreadsExecutor, workers: 2, kernel_threads: ${cpus().length}}`)]);
  for (let i = 0; i < 2; i++) workers.push(start(['worker', '--redis', redis, '--queue', queue, '--kernel-threads', String(Math.max(1, Math.floor(cpus().length / 2))), '-q']));
  // the workers load their plugins before the run starts: their start-up is not the coordinator's
  await new Promise((r) => setTimeout(r, 3000));
  rows.push(['2 BullMQ workers (`modnas worker --kernel-threads` cores / 2)', await arm('bullmq-2', `{type: BullMQExecutor, redis: "${redis}", queue: ${queue}, poll_ms: 50}`)]);
} finally {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  server?.child.kill('SIGKILL');
}
const load1 = loadavg();
const base = rows[0][1].perMinute;
const fmt = (x) => x.toFixed(1);
const body = `## Executors

\`node bench/executors.mjs\` (one run, ${new Date().toISOString().slice(0, 10)}): the same subnet search
(\`bench/executors/search.yaml\`: all 27 architectures of a 3^3 space, each trained one epoch on 512 synthetic 24x24 images and
validated on 512; TinyCNN, ${ENV.MODNAS_BACKEND} backend) with each executor in turn, on this machine's
${cpus().length} cores. The engine's kernels use every core of a process by default (first row); WorkerThreadsExecutor
gives each thread its share (kernel_threads: auto), the BullMQ workers were started with \`--kernel-threads\` cores / 2. Candidates per minute = candidates / the search estimator's wall-clock seconds, which
includes the start-up of the threads (each discovers the plugins, rebuilds the experiment and loads the data); the
BullMQ workers were started before the run (Redis ${values.redis ? 'given' : 'started by the script'} on 127.0.0.1).
Load average (1 min) before: ${load0[0].toFixed(2)}, after: ${load1[0].toFixed(2)}; ${((Date.now() - t0) / 1000).toFixed(0)} s in all.

| executor | candidates | search seconds | candidates / min | vs in-process (first row) |
|---|---|---|---|---|
${rows.map(([label, r]) => `| ${label} | ${r.candidates} | ${fmt(r.seconds)} | ${fmt(r.perMinute)} | ${(r.perMinute / base).toFixed(2)}x |`).join('\n')}
`;
console.log(body);
if (values.write) console.log(`wrote ${writeSection('executors', body)}`);
