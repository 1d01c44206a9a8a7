import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isModnasError } from '@modnas/core';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson, loadSecret, openFailure, openJob, redactUrl, sign, signFailure, signJob, verify } from './auth.js';
import { connectionUrl } from './bullmq-executor.js';

const dir = mkdtempSync(join(tmpdir(), 'modnas-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hex = randomBytes(32).toString('hex');

function file(name: string, content: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

/** The coded error a call throws (fails the test when it does not throw one). */
function thrown(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isModnasError(e)) return e;
    throw e;
  }
  throw new Error('expected a ModnasError');
}

describe('loadSecret', () => {
  it('reads the file named by the config or command line first, then MODNAS_WORKER_SECRET_FILE, then MODNAS_WORKER_SECRET; trimmed', () => {
    const a = file('a.secret', `${hex}\n`);
    const b = file('b.secret', `  ${hex.toUpperCase()}  \n`);
    expect(loadSecret({ file: a, key: 'k', env: { MODNAS_WORKER_SECRET_FILE: b, MODNAS_WORKER_SECRET: 'x'.repeat(40) } }).key.toString()).toBe(hex);
    const fromEnvFile = loadSecret({ key: 'k', env: { MODNAS_WORKER_SECRET_FILE: b, MODNAS_WORKER_SECRET: 'x'.repeat(40) } });
    expect(fromEnvFile.key.toString()).toBe(hex.toUpperCase());
    expect(fromEnvFile.source).toBe(`MODNAS_WORKER_SECRET_FILE=${b}`);
    const fromEnv = loadSecret({ key: 'k', env: { MODNAS_WORKER_SECRET: ` ${'y'.repeat(20)}\n` } });
    expect(fromEnv.key.toString()).toBe('y'.repeat(20));
    expect(fromEnv.source).toBe('MODNAS_WORKER_SECRET');
  });

  it('no secret anywhere is MODNAS_E_WORKER_AUTH with the commands that make and pass one', () => {
    const e = thrown(() => loadSecret({ key: 'executor.secret_file', env: {} }));
    expect(e.code).toBe('MODNAS_E_WORKER_AUTH');
    expect(e.message).toContain('no shared secret');
    expect(e.message).toContain('openssl rand -hex 32 > modnas.secret');
    expect(e.message).toContain('modnas worker --secret-file modnas.secret');
    expect(e.message).toContain('where: executor.secret_file');
  });

  it('a short, missing, oversized or folder secret is refused, naming the file and never its bytes', () => {
    const short = file('short.secret', 'hunter2-pw\n');
    const big = file('big.secret', `${'s3cr3t'.repeat(1000)}\n`);
    const cases = [
      [short, /is 10 bytes; it needs at least 16/],
      [join(dir, 'absent.secret'), /absent\.secret cannot be read \(ENOENT\)/],
      [big, /is 6001 bytes: a shared secret file holds one line/],
      [dir, /is not a file/],
    ] as const;
    for (const [f, why] of cases) {
      const e = thrown(() => loadSecret({ file: f, key: '--secret-file', env: {} }));
      expect(e.code).toBe('MODNAS_E_WORKER_AUTH');
      expect(e.message).toMatch(why);
      expect(e.message).not.toContain('hunter2');
      expect(e.message).not.toContain('s3cr3t');
    }
  });

  it.skipIf(process.platform === 'win32')('warns when other users can read the secret file', () => {
    expect(loadSecret({ file: file('open.secret', hex, 0o644), key: 'k', env: {} }).warnings.join()).toMatch(/can be read by other users of this machine \(mode 644\): chmod 600/);
    expect(loadSecret({ file: file('closed.secret', hex, 0o600), key: 'k', env: {} }).warnings).toEqual([]);
  });
});

describe('signatures', () => {
  const key = Buffer.from(hex);
  const other = Buffer.from(randomBytes(32).toString('hex'));
  const data = { estim: 'search', index: 3, arch: { 'op.0': 'MB3E3' }, config: { seed: 1, data: { type: 'Synthetic', size: 96 } }, score: -Infinity };

  it('a signed job opens with the same key, queue and id, whatever the key order or JSON round trip', () => {
    const s = signJob(key, 'q', 'job-1', data);
    const roundTrip = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(roundTrip).reverse());
    expect(openJob(key, 'q', 'job-1', reordered)).toEqual({ ...JSON.parse(JSON.stringify(data)), score: null });
  });

  it('anything changed, another key, queue, id or kind, a missing or malformed signature: it does not open', () => {
    const s = signJob(key, 'q', 'job-1', data);
    expect(openJob(other, 'q', 'job-1', s)).toBeUndefined();
    expect(openJob(key, 'q2', 'job-1', s)).toBeUndefined();
    expect(openJob(key, 'q', 'job-2', s)).toBeUndefined();
    expect(openJob(key, 'q', 'job-1', { ...s, index: 4 })).toBeUndefined();
    expect(openJob(key, 'q', 'job-1', { ...s, cwd: '/tmp/planted' })).toBeUndefined();
    expect(openJob(key, 'q', 'job-1', { ...s, config: { ...(s.config as object), seed: 2 } })).toBeUndefined();
    const { sig: _sig, ...unsigned } = s;
    expect(openJob(key, 'q', 'job-1', unsigned)).toBeUndefined();
    for (const sig of ['', 'zz'.repeat(32), s.sig.slice(0, 63), s.sig.toUpperCase(), 42]) expect(openJob(key, 'q', 'job-1', { ...unsigned, sig })).toBeUndefined();
    for (const raw of [null, 'text', [s], 7]) expect(openJob(key, 'q', 'job-1', raw)).toBeUndefined();
    // a job's signature is not a result's
    expect(verify(key, 'result', 'q', 'job-1', canonicalJson(unsigned), s.sig)).toBe(false);
    expect(verify(key, 'job', 'q', 'job-1', canonicalJson(unsigned), s.sig)).toBe(true);
  });

  it('queue and id cannot be shifted into each other (the fields are framed)', () => {
    expect(sign(key, 'job', 'a\n', 'b', 'x')).not.toBe(sign(key, 'job', 'a', '\nb', 'x'));
  });

  it('a failure reason carries its signature at its end; another key or an edit loses it', () => {
    const signed = signFailure(key, 'q', 'job-1', 'MODNAS_E_WORKER_PATH: refused\n  fix: use a relative path');
    expect(openFailure(key, 'q', 'job-1', signed)).toBe('MODNAS_E_WORKER_PATH: refused\n  fix: use a relative path');
    expect(openFailure(other, 'q', 'job-1', signed)).toBeUndefined();
    expect(openFailure(key, 'q', 'job-2', signed)).toBeUndefined();
    expect(openFailure(key, 'q', 'job-1', signed.replace('refused', 'accepted'))).toBeUndefined();
    expect(openFailure(key, 'q', 'job-1', 'job stalled more than allowable limit')).toBeUndefined();
  });
});

describe('Redis URLs', () => {
  it('logs and messages show no password', () => {
    expect(redactUrl('redis://alice:s3cr3t@10.0.0.5:6379/2')).toBe('redis://alice:***@10.0.0.5:6379/2');
    expect(redactUrl('rediss://:s3cr3t@redis.example:6380')).toBe('rediss://:***@redis.example:6380');
    expect(redactUrl('redis://10.0.0.5:6379')).toBe('redis://10.0.0.5:6379');
  });

  it('the password comes from redis_password_file, else MODNAS_REDIS_PASSWORD, else the URL; user, db and TLS stay', () => {
    const pw = file('redis.pw', 'p@ss/w:rd\n');
    const url = (c: { redis: string; redis_password_file?: string }, env: NodeJS.ProcessEnv = {}): URL => new URL(connectionUrl({ redis_password_file: '', ...c }, 'executor', env).url);
    const a = url({ redis: 'rediss://alice@10.0.0.5:6380/2', redis_password_file: pw }, { MODNAS_REDIS_PASSWORD: 'other' });
    expect([a.protocol, a.username, decodeURIComponent(a.password), a.host, a.pathname]).toEqual(['rediss:', 'alice', 'p@ss/w:rd', '10.0.0.5:6380', '/2']);
    expect(decodeURIComponent(url({ redis: 'redis://alice:inline@h:1' }, { MODNAS_REDIS_PASSWORD: 'fromenv' }).password)).toBe('fromenv');
    expect(url({ redis: 'redis://alice:inline@h:1' }).password).toBe('inline');
  });

  it('a URL that is not a Redis URL is MODNAS_E_EXECUTOR_REDIS_URL, without its password', () => {
    for (const bad of ['http://u:s3cr3t@h:1', 'not a url']) {
      const e = thrown(() => connectionUrl({ redis: bad, redis_password_file: '' }, 'executor.redis'));
      expect(e.code).toBe('MODNAS_E_EXECUTOR_REDIS_URL');
      expect(e.message).not.toContain('s3cr3t');
    }
  });
});
