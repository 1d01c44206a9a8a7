// `modnas worker` attacked through its queue, on a real Redis (CI: .ci/run starts one and sets
// MODNAS_TEST_REDIS): jobs written straight into Redis, as anyone who can reach it could, unsigned,
// wrongly signed, tampered with, and signed but naming folders, planted packages and files outside
// the worker's folders. The worker must import, read and write nothing outside its own folders,
// refuse without the expected hash or any file's bytes, and stop when told even with Redis gone.
// Also: a forged result is not stored, and Redis with an ACL user, a password file and TLS works.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getRegistry } from '@modnas/core';
import { prepareExperiment } from '@modnas/runtime';
import { configHash } from '@modnas/services';
import { SqliteStore } from '@modnas/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAnswers, servicesRequired } from './test-services.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const fixtures = join(root, 'packages', 'cli', 'src', 'fixtures');
const searchConfig = join(fixtures, 'executor-search.yaml');
const REDIS = process.env.MODNAS_TEST_REDIS;
const redisAvailable = await redisAnswers(REDIS);

// The plugin's own BullMQ (the cli does not depend on it) and its signing, from its build; typed
// here by what the tests use.
interface BullJob {
  failedReason?: string;
  attemptsMade: number;
}
interface BullQueue {
  add(name: string, data: unknown, opts: Record<string, unknown>): Promise<unknown>;
  getJobState(id: string): Promise<string>;
  getJob(id: string): Promise<BullJob | undefined>;
  obliterate(opts: { force: boolean }): Promise<void>;
  close(): Promise<void>;
}
interface Connection {
  connection: { host: string; port: number };
}
const pluginDir = join(root, 'plugins', 'executor-bullmq');
const bullmq = createRequire(join(pluginDir, 'package.json'))('bullmq') as {
  Queue: new (name: string, opts: Connection) => BullQueue;
  Worker: new (name: string, processor: () => Promise<unknown>, opts: Connection) => { close(force?: boolean): Promise<void> };
};
const { signJob } = (await import(pathToFileURL(join(pluginDir, 'dist', 'index.js')).href)) as {
  signJob: (key: Buffer, queue: string, jobId: string, data: Record<string, unknown>) => Record<string, unknown>;
};

// Everything the attacks plant lives outside the repository (the worker's folder) and its --allow-dir.
// made when the tests run (nothing is left behind when they are skipped)
const atk = join(tmpdir(), `modnas-attack-${process.pid}-${randomBytes(4).toString('hex')}`);
const allowed = join(atk, 'allowed');
const CANARY = `CANARY-${randomBytes(8).toString('hex')}`;
const INSIDE = `INSIDE-${randomBytes(8).toString('hex')}`;
const secretFile = join(atk, 'secret.txt');
const markers = join(atk, 'markers');
const sharedSecret = join(atk, 'modnas.secret');
const otherSecret = join(atk, 'other.secret');

/** A package whose import leaves a marker file: proof that something imported it. */
function plant(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '9.9.9', main: 'index.js', type: 'commonjs' }));
  writeFileSync(join(dir, 'index.js'), `require('fs').writeFileSync(${JSON.stringify(join(markers, name.replace(/\W/g, '_')))}, 'imported by pid ' + process.pid);\n`);
}

const imported = (): string[] => (existsSync(markers) ? execFileSync('ls', [markers], { encoding: 'utf8' }).split('\n').filter(Boolean) : []);

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
const procs: Proc[] = [];

function start(args: string[], env: Record<string, string | undefined>): Proc {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, ...env } });
  try {
    if (child.pid) setPriority(child.pid, 10);
  } catch {
    // not permitted: normal priority
  }
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  const p = { child, output: () => out, exited };
  procs.push(p);
  return p;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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

/** A job's config and its hash as a coordinator would send them: the executor fixture, changed by overrides. */
async function experiment(overrides: string[] = [], file = searchConfig): Promise<{ config: Record<string, unknown>; hash: string }> {
  const { plan } = await prepareExperiment([file], overrides, { registry: getRegistry(), discover: true });
  const config = plan.config as unknown as Record<string, unknown>;
  return { config, hash: configHash(config) };
}

afterAll(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  rmSync(atk, { recursive: true, force: true });
});

it.runIf(servicesRequired && !redisAvailable)('Redis is available (MODNAS_REQUIRE_SERVICES=1)', () => {
  throw new Error(`MODNAS_REQUIRE_SERVICES=1 but no Redis answers at MODNAS_TEST_REDIS=${REDIS ?? '(unset)'}: .ci/run starts one; outside CI unset MODNAS_REQUIRE_SERVICES to skip these tests`);
});

describe.skipIf(!redisAvailable)(`modnas worker attacked through its queue (MODNAS_TEST_REDIS=${REDIS ?? 'unset: skipped; .ci/run starts one'})`, () => {
  const redis = REDIS ?? '';
  const queueName = `modnas-attack-${process.pid}`;
  const pinnedQueue = `${queueName}-pinned`;
  let queue: BullQueue;
  let pinned: BullQueue;
  let worker: Proc;
  let pinnedWorker: Proc;
  let key: Buffer;
  let ids = 0;

  beforeAll(async () => {
    mkdirSync(atk, { recursive: true, mode: 0o700 });
    mkdirSync(allowed, { recursive: true });
    mkdirSync(markers, { recursive: true });
    writeFileSync(secretFile, `${CANARY}: the bytes no job may see\n`);
    // read as YAML this is one string, which the constructor quotes when it refuses it
    writeFileSync(join(allowed, 'desc.txt'), `${INSIDE} a file in the worker's own folders\nwhose bytes stay there\n`);
    symlinkSync(secretFile, join(allowed, 'link-out.txt'));
    // a folder a job might name as its cwd, with the optional native backends planted in it
    plant(join(atk, 'planted', 'node_modules', '@tensorflow', 'tfjs-node'), '@tensorflow/tfjs-node');
    plant(join(atk, 'planted', 'node_modules', '@tensorflow', 'tfjs-node-gpu'), '@tensorflow/tfjs-node-gpu');
    plant(join(atk, 'plugin'), 'modnas-planted-plugin');
    for (const [f, s] of [[sharedSecret, randomBytes(32).toString('hex')], [otherSecret, randomBytes(32).toString('hex')]] as const) {
      writeFileSync(f, `${s}\n`, { mode: 0o600 });
    }
    key = Buffer.from(readFileSync(sharedSecret, 'utf8').trim());
    const url = new URL(redis);
    const connection = { host: url.hostname, port: Number(url.port || 6379) };
    queue = new bullmq.Queue(queueName, { connection });
    pinned = new bullmq.Queue(pinnedQueue, { connection });
    // MODNAS_BACKEND unset: the worker picks its backend itself (auto), as a job once made it do from the job's folder
    const env = { MODNAS_BACKEND: undefined, MODNAS_WORKER_SECRET_FILE: undefined, MODNAS_WORKER_SECRET: undefined };
    worker = start(['worker', '--redis', redis, '--queue', queueName, '--secret-file', sharedSecret, '--allow-dir', allowed, '--stalled-after', '2000'], env);
    pinnedWorker = start(['worker', '--redis', redis, '--queue', pinnedQueue, '--secret-file', sharedSecret, '--config', join(fixtures, 'fault-search.yaml')], { ...env, MODNAS_BACKEND: 'wasm' });
    await until(() => /waiting for candidates/.test(worker.output()) && /waiting for candidates/.test(pinnedWorker.output()), 90_000, `the workers to start:\n${worker.output()}\n${pinnedWorker.output()}`);
  });

  afterAll(async () => {
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await pinned?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    await pinned?.close();
  });

  /** A job as a coordinator would send it (candidate 0 of estimator "search"), before signing. */
  const job = (config: Record<string, unknown>, hash: string, extra: Record<string, unknown> = {}, q = queueName): Record<string, unknown> => ({
    estim: 'search',
    index: 0,
    arch: {},
    configHash: hash,
    config,
    plugins: [],
    weightsId: 'none',
    weightsKey: `modnas:${q}:weights:none`,
    weightsSha256: '0'.repeat(64),
    ...extra,
  });

  /** Put data on a queue under a fresh job id (signed with `sign`'s key when given) and wait until it failed or completed. */
  async function send(data: Record<string, unknown> | ((id: string) => Record<string, unknown>), q = queue, attempts = 3): Promise<{ state: string; reason: string; attempts: number; id: string }> {
    const id = `attack-${++ids}`;
    await q.add('candidate', typeof data === 'function' ? data(id) : data, { jobId: id, attempts, backoff: { type: 'fixed', delay: 100 } });
    let state = '';
    for (const t0 = Date.now(); state !== 'failed' && state !== 'completed' && Date.now() - t0 < 90_000; ) {
      state = await q.getJobState(id);
      if (state !== 'failed' && state !== 'completed') await new Promise((r) => setTimeout(r, 100));
    }
    const j = await q.getJob(id);
    return { state, reason: j?.failedReason ?? '', attempts: j?.attemptsMade ?? 0, id };
  }
  const signed = (data: Record<string, unknown>, k = key, q = queueName) => (id: string) => signJob(k, q, id, data);

  it('unsigned, wrongly signed and tampered jobs are refused for good (MODNAS_E_WORKER_AUTH, one attempt), saying nothing of the config', async () => {
    const { config, hash } = await experiment();
    const unsigned = await send(job(config, hash));
    const other = await send(signed(job(config, hash), Buffer.from(readFileSync(otherSecret, 'utf8').trim())));
    const tampered = await send((id) => {
      const d = signJob(key, queueName, id, job(config, hash));
      return { ...d, config: { ...(d.config as Record<string, unknown>), seed: 99 } };
    });
    // a signature for another queue (or job id) does not carry over
    const replayed = await send(signed(job(config, hash), key, 'another-queue'));
    for (const r of [unsigned, other, tampered, replayed]) {
      expect(r.state).toBe('failed');
      expect(r.reason).toMatch(/^MODNAS_E_WORKER_AUTH: worker \S+ refuses job attack-\d+: it is not signed with this worker's shared secret/);
      expect(r.attempts).toBe(1);
      expect(r.reason).not.toContain(hash);
      expect(r.reason).not.toContain('exec');
    }
    expect(worker.output()).toMatch(/refused job attack-\d+: it is not signed/);
    expect(worker.output()).not.toMatch(/candidate 1 of search \(job attack-[1-4],/);
  });

  it('a job\'s cwd and backend are not the worker\'s: the packages planted there are never imported', async () => {
    const { config, hash } = await experiment(['backend=tensorflow']);
    const r = await send(signed(job(config, hash, { cwd: join(atk, 'planted') })), queue, 1);
    // it got as far as the weights (which this job does not have): the experiment was built, on the worker's own backend
    expect(r.state).toBe('failed');
    expect(r.reason).toMatch(/^MODNAS_E_WORKER_WEIGHTS_MISSING/);
    expect(imported()).toEqual([]);
    expect(worker.output()).toMatch(/tensor backend: (native|wasm|cpu)/);
    expect(worker.output()).not.toMatch(/tensor backend: tensorflow/);
    expect(r.reason).not.toContain(join(atk, 'planted'));
  });

  it('a plugin path in a job is neither imported nor looked up outside the worker\'s folder', async () => {
    const { config, hash } = await experiment();
    const asType = await send(signed(job({ ...config, data: { type: join(atk, 'plugin', 'index.js') } }, hash)), queue, 1);
    expect(asType.reason).toMatch(/^MODNAS_E_WORKER_PATH: .*data\.type is an absolute path outside the worker's folders/);
    const listed = await send(signed(job(config, hash, { plugins: [`${join(atk, 'plugin')}@9.9.9`] })), queue, 1);
    expect(listed.reason).toMatch(/^MODNAS_E_WORKER_PLUGIN_MISSING/);
    expect(imported()).toEqual([]);
  });

  it('file paths outside the worker\'s folders are refused before anything is read (MODNAS_E_WORKER_PATH), and no refusal quotes a file', async () => {
    const desc = ['desc_construct=[{type: DefaultSlotArchDescConstructor}]', 'construct=[]'];
    const cases: Array<[string[], RegExp]> = [
      [[...desc, `arch_desc=${secretFile}`], /arch_desc is an absolute path outside the worker's folders/],
      [[...desc, `arch_desc=${relative(root, secretFile)}`], /arch_desc is a relative path that leads out of the worker's folders/],
      [[...desc, `arch_desc=${pathToFileURL(secretFile).href}`], /arch_desc is a file: URL/],
      // a link inside an allowed folder that points out of it
      [[...desc, `arch_desc=${join(allowed, 'link-out.txt')}`], /arch_desc is an absolute path outside the worker's folders/],
    ];
    for (const [overrides, why] of cases) {
      // with the right hash, so that only the path rule stands between the job and the file
      const { config, hash } = await experiment(overrides);
      const r = await send(signed(job(config, hash)), queue, 1);
      expect(r.state).toBe('failed');
      expect(r.reason).toMatch(/^MODNAS_E_WORKER_PATH: /);
      expect(r.reason).toMatch(why);
      expect(r.reason).not.toContain(CANARY);
      expect(r.reason).toContain('--allow-dir');
    }
    // any key at any depth, whatever a component would do with it (a constructor's own arch_desc, a dataset's folder)
    const { config } = await experiment();
    const nested = [
      [{ ...config, construct: [{ ...(config.construct as object[])[0], arch_desc: secretFile }] }, /construct\[0\]\.arch_desc is an absolute path outside/],
      [{ ...config, data: { ...(config.data as object), path: `${relative(root, atk)}/` } }, /data\.path is a relative path that leads out/],
      [{ ...config, data: { ...(config.data as object), cache_dir: '~/.cache' } }, /data\.cache_dir is a path in a home folder/],
    ] as const;
    for (const [bad, why] of nested) {
      const r = await send(signed(job(bad, 'f'.repeat(16))), queue, 1);
      expect(r.reason).toMatch(/^MODNAS_E_WORKER_PATH: /);
      expect(r.reason).toMatch(why);
    }
    expect(worker.output()).not.toContain(CANARY);
  });

  it('a file inside the worker\'s folders that a component cannot use fails the job with its code only, never its bytes', async () => {
    const { config, hash } = await experiment(['desc_construct=[{type: DefaultSlotArchDescConstructor}]', 'construct=[]', `arch_desc=${join(allowed, 'desc.txt')}`]);
    const r = await send(signed(job(config, hash)), queue, 1);
    expect(r.state).toBe('failed');
    expect(r.reason).toMatch(/^MODNAS_E_WORKER_BUILD: .*building the experiment failed here with MODNAS_E_ARCHDESC_\w+ \(the message is in the worker's log only/);
    expect(r.reason).not.toContain(INSIDE);
    // the worker's own log has the details, for its operator
    expect(worker.output()).toContain(INSIDE);
  });

  it('refusals never state the hash the worker expects: neither a --config worker\'s nor the one a config validates to', async () => {
    const { config, hash } = await experiment();
    const own = await experiment([], join(fixtures, 'fault-search.yaml'));
    const r = await send(signed(job(config, hash, {}, pinnedQueue), key, pinnedQueue), pinned, 1);
    expect(r.reason).toMatch(/^MODNAS_E_WORKER_CONFIG_HASH: .*it serves one experiment only \(--config\), and the job's config hash \w+ is another/);
    expect(r.reason).not.toContain(own.hash);
    expect(pinnedWorker.output()).toContain(`config hash ${own.hash}`);

    const wrong = await send(signed(job(config, '0'.repeat(16))), queue, 1);
    expect(wrong.reason).toMatch(/^MODNAS_E_WORKER_CONFIG_HASH: .*validates here to another hash than the coordinator's 0{16}/);
    expect(wrong.reason).not.toContain(hash);
  });
});

describe.skipIf(!redisAvailable)('the coordinator trusts only signed results, and workers stop without Redis', () => {
  const redis = REDIS ?? '';
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'modnas-attack-run-'));
  });
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('a run with an executor and no shared secret stops before any training (MODNAS_E_WORKER_AUTH)', async () => {
    const run = start(['run', searchConfig, '--output-dir', out, '--name', 'nosecret', '-q', '-o', `executor={type: BullMQExecutor, redis: "${redis}", queue: nosecret-${process.pid}}`], { MODNAS_BACKEND: 'wasm', MODNAS_WORKER_SECRET_FILE: undefined, MODNAS_WORKER_SECRET: undefined });
    const r = await run.exited;
    expect(r.code).toBe(1);
    expect(run.output()).toContain('MODNAS_E_WORKER_AUTH');
    expect(run.output()).toContain('openssl rand -hex 32');
    const log = join(out, 'nosecret', 'logs', 'run.log');
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '').not.toMatch(/warmup: epoch/);
  });

  it('a result forged on the queue (someone without the secret completing jobs) is refused and never stored', async () => {
    const q = `forged-${process.pid}`;
    const secret = join(out, 'modnas.secret');
    writeFileSync(secret, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const url = new URL(redis);
    const forger = new bullmq.Worker(q, async () => ({ trial: { arch: {}, score: 99, metrics: { acc: 0.99 } }, sig: 'a'.repeat(64) }), { connection: { host: url.hostname, port: Number(url.port || 6379) } });
    try {
      const run = start(['run', searchConfig, '--output-dir', out, '--name', 'forged', '-q', '-o', `executor={type: BullMQExecutor, redis: "${redis}", queue: ${q}, secret_file: "${secret}"}`], { MODNAS_BACKEND: 'wasm' });
      const r = await run.exited;
      expect(r.code).toBe(1);
      expect(run.output()).toMatch(/MODNAS_E_WORKER_AUTH.*its result on the queue is not signed with this run's shared secret, so it is not stored/);
      const s = new SqliteStore(join(out, 'forged', 'modnas.db'), 'forged', undefined, { readOnly: true });
      try {
        expect(s.records('candidates', 'r1').filter((x) => (x.record as { score?: number }).score === 99)).toEqual([]);
      } finally {
        s.close();
      }
    } finally {
      await forger.close(true);
    }
  });

  it('told to stop while Redis is unreachable, a worker exits within seconds and says why', async () => {
    const port = await freePort();
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    try {
      for (let i = 0; i < 100 && !(await redisAnswers(url)); i++) await new Promise((r) => setTimeout(r, 50));
      const secret = join(out, 'stop.secret');
      writeFileSync(secret, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
      const w = start(['worker', '--redis', url, '--secret-file', secret], { MODNAS_BACKEND: 'wasm' });
      await until(() => /waiting for candidates/.test(w.output()), 60_000, 'the worker to start');
      server.kill('SIGKILL');
      await until(() => /lost Redis at/.test(w.output()), 20_000, 'the worker to notice');
      const t0 = Date.now();
      w.child.kill('SIGINT');
      const r = await w.exited;
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.code).toBe(0);
      expect(w.output()).toMatch(/stopping without Redis \(unreachable at redis:\/\/127\.0\.0\.1:\d+\)/);
    } finally {
      server.kill('SIGKILL');
    }
  });
});

// TLS needs a certificate: made here with openssl (Debian's redis-server is built with TLS).
const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!redisAvailable || !openssl)(`Redis with an ACL user, a password file and TLS (rediss://)${openssl ? '' : ': skipped, no openssl to make a certificate'}`, () => {
  it('a search runs end to end over rediss:// as an ACL user, and the password shows nowhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-tls-'));
    const port = await freePort();
    const password = `pw-${randomBytes(12).toString('hex')}`;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    chmodSync(join(dir, 'key.pem'), 0o600);
    writeFileSync(join(dir, 'redis.pw'), `${password}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'modnas.secret'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const server = spawn(
      'redis-server',
      ['--port', '0', '--tls-port', String(port), '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-auth-clients', 'no', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--user', 'default', 'off', '--user', 'modnas', 'on', `>${password}`, '~*', '&*', '+@all'],
      { stdio: 'ignore' },
    );
    try {
      for (let i = 0; i < 100 && !(await redisAnswers(`redis://127.0.0.1:${port}`)); i++) await new Promise((r) => setTimeout(r, 50));
      const url = `rediss://modnas@127.0.0.1:${port}`;
      const env = { MODNAS_BACKEND: 'wasm', NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'), MODNAS_WORKER_SECRET_FILE: join(dir, 'modnas.secret') };
      const w = start(['worker', '--redis', url, '--redis-password-file', join(dir, 'redis.pw'), '--queue', 'tls'], env);
      const run = start(['run', searchConfig, '--output-dir', dir, '--name', 'tls', '-q', '-o', `executor={type: BullMQExecutor, redis: "${url}", redis_password_file: "${join(dir, 'redis.pw')}", queue: tls, no_worker_timeout_s: 60}`], env);
      const r = await run.exited;
      expect(r.code, run.output() + w.output()).toBe(0);
      const s = new SqliteStore(join(dir, 'tls', 'modnas.db'), 'tls', undefined, { readOnly: true });
      try {
        const rows = s.records('candidates', 'r1').map((x) => x.record as { index: number; status: string; worker?: string });
        expect(rows.map((x) => x.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(rows.every((x) => x.status === 'done' && x.worker?.endsWith(`:${w.child.pid}`))).toBe(true);
      } finally {
        s.close();
      }
      for (const text of [run.output(), w.output(), readFileSync(join(dir, 'tls', 'logs', 'run.log'), 'utf8'), readFileSync(join(dir, 'tls', 'outputs', 'config.yaml'), 'utf8')]) expect(text).not.toContain(password);
      // without the password file the same worker is turned away by Redis
      const denied = start(['worker', '--redis', url, '--queue', 'tls'], env);
      await until(() => /WRONGPASS|NOAUTH|NOPERM|invalid username-password/i.test(denied.output()), 30_000, `a refusal from Redis:\n${denied.output()}`);
    } finally {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
