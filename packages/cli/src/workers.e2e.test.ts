// BullMQExecutor end to end against a real Redis (CI: .ci/run starts one and sets MODNAS_TEST_REDIS):
// the real `modnas run` as coordinator and `modnas worker` processes, a subnet search on synthetic
// data, every job signed with a shared secret (MODNAS_WORKER_SECRET_FILE). Faults: a worker killed
// mid-job, no worker at all, a job that throws, workers that refuse (config hash, missing plugin),
// and Redis restarted mid-run. Attacks through the queue: worker-attacks.e2e.test.ts.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@modnas/store-sqlite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { redisAnswers, servicesRequired } from './test-services.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const config = join(root, 'packages', 'cli', 'src', 'fixtures', 'executor-search.yaml');
const explode = join(root, 'packages', 'cli', 'src', 'fixtures', 'explode-plugin');
const out = mkdtempSync(join(tmpdir(), 'modnas-workers-'));
const REDIS = process.env.MODNAS_TEST_REDIS;
const redisAvailable = await redisAnswers(REDIS);
// one secret for the coordinator and its workers, as a file only this user reads
const secretFile = join(out, 'modnas.secret');
writeFileSync(secretFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
const ENV = { ...process.env, MODNAS_BACKEND: 'wasm', MODNAS_WORKER_SECRET_FILE: secretFile };

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<Result>;
}

const procs: Proc[] = [];

function start(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...ENV, ...env } });
  try {
    if (child.pid) setPriority(child.pid, 10);
  } catch {
    // not permitted: normal priority
  }
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Result>((res) => child.on('exit', (code, signal) => res({ code, signal, stdout, stderr })));
  const p = { child, output: () => stdout + stderr, exited };
  procs.push(p);
  return p;
}

let queues = 0;
/** A queue of its own per test: test files share CI's Redis. */
const freshQueue = (): string => `modnas-test-${process.pid}-${++queues}`;

const worker = (redis: string, queue: string, extra: string[] = [], env: Record<string, string> = {}): Proc => start(['worker', '--redis', redis, '--queue', queue, '--stalled-after', '2000', ...extra], env);

const explodeConfig = join(root, 'packages', 'cli', 'src', 'fixtures', 'executor-explode.yaml');

const search = (name: string, redis: string, queue: string, extra: string[] = [], env: Record<string, string> = {}, file = config): Promise<Result> =>
  start(['run', file, '--output-dir', out, '--name', name, '-q', '-o', `executor={type: BullMQExecutor, redis: "${redis}", queue: ${queue}, backoff_ms: 200, no_worker_timeout_s: 30}`, ...extra], env).exited;

interface Row {
  index: number;
  status: string;
  score: number | null;
  worker?: string;
  error?: string;
}

/** The candidates of run r1 as the store holds them. */
function stored(name: string): Row[] {
  const s = new SqliteStore(join(out, name, 'modnas.db'), name, undefined, { readOnly: true });
  try {
    return s.records('candidates', 'r1').map((r) => r.record as unknown as Row);
  } finally {
    s.close();
  }
}

/** How many candidates the store holds so far (0 while the run is still creating it). */
function storedCount(name: string): number {
  if (!existsSync(join(out, name, 'modnas.db'))) return 0;
  try {
    return stored(name).length;
  } catch {
    return 0;
  }
}

const runLog = (name: string): string => readFileSync(join(out, name, 'logs', 'run.log'), 'utf8');

async function until(cond: () => boolean, ms: number): Promise<void> {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

it.runIf(servicesRequired && !redisAvailable)('Redis is available (MODNAS_REQUIRE_SERVICES=1)', () => {
  throw new Error(`MODNAS_REQUIRE_SERVICES=1 but no Redis answers at MODNAS_TEST_REDIS=${REDIS ?? '(unset)'}: .ci/run starts one; outside CI unset MODNAS_REQUIRE_SERVICES to skip these tests`);
});

describe.skipIf(!redisAvailable)(`BullMQ workers on a real Redis (MODNAS_TEST_REDIS=${REDIS ?? 'unset: skipped; .ci/run starts one'})`, () => {
  const redis = REDIS ?? '';

  it('two modnas worker processes, one killed mid-job: the job is retried on the other and the store holds every candidate exactly once', async () => {
    const q = freshQueue();
    const healthy = worker(redis, q, ['--kernel-threads', '1']);
    // SIGKILL itself at its 3rd job, while the job is active (a kill point in the worker)
    const doomed = worker(redis, q, [], { MODNAS_TEST_KILL_AT: 'worker-job@3' });
    const r = await search('two', redis, q);
    expect(r.code, r.stderr).toBe(0);
    expect((await doomed.exited).signal).toBe('SIGKILL');
    const rows = stored('two');
    expect(rows.map((x) => x.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rows.every((x) => x.status === 'done' && typeof x.score === 'number')).toBe(true);
    // both workers evaluated candidates; the job the killed one held was done by the other
    const pids = new Set(rows.map((x) => x.worker?.split(':').pop()));
    expect(pids).toEqual(new Set([String(healthy.child.pid), String(doomed.child.pid)]));
    // the job it held when it died: the last one it started
    const started = [...doomed.output().matchAll(/candidate (\d+) of search \(job /g)].map((m) => Number(m[1]) - 1);
    expect(started, doomed.output()).toHaveLength(3);
    const lost = started[2];
    expect(rows.find((x) => x.index === lost)?.worker).toContain(String(healthy.child.pid));
    expect(readFileSync(join(out, 'two', 'logs', 'candidates.jsonl'), 'utf8').trim().split('\n')).toHaveLength(8);
    // --kernel-threads 1: that worker's engine runs its native kernels (CI: MODNAS_REQUIRE_NATIVE) on one thread
    if (process.env.MODNAS_REQUIRE_NATIVE === '1' || /own kernels/.test(healthy.output())) expect(healthy.output()).toMatch(/tensor backend: \w+ \(@modnas\/[\w-]+: own kernels \([^,]+, 1 thread\)[),]/);
  });

  it('no worker at all: the coordinator says so and fails after executor.no_worker_timeout_s instead of hanging', async () => {
    const t0 = Date.now();
    const r = await search('none', redis, freshQueue(), ['-o', 'executor.no_worker_timeout_s=3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MODNAS_E_EXECUTOR_NO_WORKER');
    expect(r.stderr).toContain('modnas worker --redis');
    expect(runLog('none')).toMatch(/no worker is connected to queue/);
    // generous: the coordinator runs niced while the suite's other heavy files share the 2 cores; a hang would be the test's timeout
    expect(Date.now() - t0).toBeLessThan(90_000);
  });

  it('a job that throws on the worker: its trial is failed with the worker\'s error, the others are done', async () => {
    const q = freshQueue();
    const env = { MODNAS_PLUGIN_PATH: explode };
    worker(redis, q, [], env);
    const r = await search('throws', redis, q, ['-o', 'executor.attempts=2'], env, explodeConfig);
    expect(r.code, r.stderr).toBe(0);
    const rows = stored('throws');
    expect(rows.map((x) => x.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const failed = rows.filter((x) => x.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(8);
    for (const f of failed) {
      expect(f.score).toBeNull();
      expect(f.error).toContain('Explode: this primitive fails on purpose');
      expect(f.error).toContain('after 2 attempt(s)');
    }
  });

  it('workers refuse jobs they cannot evaluate, with coded errors: another config hash, a missing plugin', async () => {
    const q1 = freshQueue();
    const pinned = worker(redis, q1, ['--config', join(root, 'packages', 'cli', 'src', 'fixtures', 'fault-search.yaml')]);
    const hash = await search('refuse-hash', redis, q1, ['-o', 'executor.attempts=1']);
    expect(hash.code).toBe(1);
    expect(hash.stderr).toContain('MODNAS_E_WORKER_CONFIG_HASH');
    expect(hash.stderr).toMatch(/refuses the job: it serves one experiment only \(--config\), and the job's config hash \w+ is another/);
    // the hash the worker serves is in its own log, never in what it sends back
    const served = /serving experiment fault only \(config hash (\w+)\)/.exec(pinned.output())?.[1];
    expect(served, pinned.output()).toMatch(/^\w{16}$/);
    expect(hash.stderr).not.toContain(served);

    const q2 = freshQueue();
    worker(redis, q2);
    const plugin = await search('refuse-plugin', redis, q2, ['-o', 'executor.attempts=1'], { MODNAS_PLUGIN_PATH: explode }, explodeConfig);
    expect(plugin.code).toBe(1);
    expect(plugin.stderr).toContain('MODNAS_E_WORKER_PLUGIN_MISSING');
    expect(plugin.stderr).toContain('modnas-fixture-explode');
  });

  it('Redis restarted mid-run: the coordinator waits with a log line, then continues to every candidate exactly once', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const server = (): ChildProcess => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    let redisProc = server();
    try {
      for (let i = 0; i < 100 && !(await redisAnswers(url)); i++) await new Promise((r) => setTimeout(r, 50));
      worker(url, 'restart');
      const run = search('restart', url, 'restart');
      await until(() => storedCount('restart') >= 2, 60_000);
      redisProc.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 1500));
      redisProc = server();
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      const log = runLog('restart');
      expect(log).toMatch(/lost Redis at redis:\/\/127\.0\.0\.1:\d+ .*waiting for it to come back/);
      expect(log).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ is back; continuing/);
      expect(stored('restart').map((x) => x.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      redisProc.kill('SIGKILL');
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
