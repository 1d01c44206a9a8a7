// The dashboard's server as an attacker meets it, over HTTP: names that climb out of the folder,
// links planted in it, a foreign Host header (DNS rebinding), requests without the token when it
// serves beyond loopback, corrupt stores, and what every response carries (security headers, no
// absolute path of this machine).
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@modnas/store-sqlite';
import type { ExperimentEntry, WireView } from './view.js';
import { startUiServer } from './index.js';
import type { UiServer } from './index.js';
import { allowedHostNames, hostAllowed, redactPaths } from './security.js';
import { writeFixture } from '../test/store-fixture.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** GET with any headers (fetch cannot set Host); an event stream is read for `streamMs` then closed. */
function get(url: string, headers: Record<string, string> = {}, streamMs = 300): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      const done = (): void => ok({ status: res.statusCode ?? 0, headers: res.headers, body });
      res.on('end', done);
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        setTimeout(() => {
          req.destroy();
          done();
        }, streamMs);
      }
    });
    req.on('error', fail);
    req.end();
  });
}

const SECRET = 'SECRET-CONTENTS-OF-A-FILE-OUTSIDE';

/** A run of its own (the fixture keeps its writers open; this one is closed, so only the dashboard opens it). */
function sqliteExperiment(root: string, dir: string): string {
  mkdirSync(join(root, dir), { recursive: true });
  const file = join(root, dir, 'modnas.db');
  const s = new SqliteStore(file, dir);
  s.insertRun({ id: 'r1', experiment: dir, configHash: 'h', config: {}, status: 'done', start: new Date(0).toISOString(), end: new Date(1000).toISOString(), heartbeat: new Date(1000).toISOString(), pid: 1, host: 'elsewhere', resumes: 0 });
  s.activate('r1');
  s.append('candidates', { estim: 's', index: 0, arch: {}, status: 'done', score: 0.5 });
  s.close();
  return file;
}

describe('dashboard server under attack', () => {
  // base/outside_best.yaml is what the traversal of issue 25 reached; the served folder is base/exp
  const base = mkdtempSync(join(tmpdir(), 'modnas-ui-attack-'));
  const root = join(base, 'exp');
  let fx: ReturnType<typeof writeFixture>;
  let server: UiServer;
  const bodies: string[] = [];
  const hit = async (path: string, headers: Record<string, string> = {}): Promise<Reply> => {
    const r = await get(server.url + path.replace(/^\//, ''), headers);
    bodies.push(r.body);
    return r;
  };

  beforeAll(async () => {
    mkdirSync(root);
    fx = writeFixture(root, 'sqlite');
    writeFileSync(join(base, 'outside_best.yaml'), SECRET);
    // a link planted in outputs/ with a name the dashboard would list, pointing outside
    symlinkSync(join(base, 'outside_best.yaml'), join(root, 'darts', 'outputs', 'arch_link_best.yaml'));
    // a corrupt SQLite file and a journal of an unknown format, each in an experiment folder
    mkdirSync(join(root, 'broken'));
    writeFileSync(join(root, 'broken', 'modnas.db'), Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251)));
    mkdirSync(join(root, 'future'));
    writeFileSync(join(root, 'future', 'journal.jsonl'), JSON.stringify({ o: 'journal', format: 99, experiment: 'future', created: new Date().toISOString() }) + '\n');
    sqliteExperiment(root, 'later');
    server = await startUiServer({ folder: root, port: 0, pollMs: 50 });
  });
  afterAll(async () => {
    await server.close();
    for (const s of [fx.done.store, fx.running.store, fx.repeats[0].store]) s.close();
    rmSync(base, { recursive: true, force: true });
  });

  it("the traversal of issue 25 and every other name it did not list get 404, without the file's bytes", async () => {
    expect((await hit('/api/arch?dir=darts&name=arch_search_best.yaml')).status).toBe(200);
    for (const q of [
      'dir=darts&name=arch_/../../../../outside_best.yaml',
      'dir=darts&name=arch_%2F..%2F..%2F..%2F..%2Foutside_best.yaml',
      'dir=darts&name=arch_link_best.yaml', // a symbolic link, though its name matches
      'dir=darts&name=../modnas.db',
      'dir=..&name=arch_search_best.yaml',
      'dir=darts/../..&name=outside_best.yaml',
      `dir=${encodeURIComponent(base)}&name=outside_best.yaml`,
      'dir=darts&name=arch_search_best.yaml%00.txt',
    ]) {
      const r = await hit(`/api/arch?${q}`);
      expect(r.status, q).toBe(404);
      expect(r.body).not.toContain(SECRET);
      expect(JSON.parse(r.body)).toMatchObject({ code: 'MODNAS_E_UI_NOT_FOUND' });
    }
    // the listing holds only the regular arch file
    const exps = JSON.parse((await hit('/api/experiments')).body) as ExperimentEntry[];
    expect(exps.find((e) => e.dir === 'darts')?.archFiles).toEqual(['arch_search_best.yaml']);
    const view = JSON.parse((await hit('/api/run?dir=darts&run=r1')).body) as WireView;
    expect(view.arch.map((a) => a.name)).toEqual(['arch_search_best.yaml']);
  });

  it('answers only the Host names it listens on: a foreign one (DNS rebinding) gets 403', async () => {
    const port = String(server.port);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) expect((await hit('/api/experiments', { host })).status, host).toBe(200);
    for (const host of [`rebind.attacker.example:${port}`, `127.0.0.1:${Number(port) + 1}`, '127.0.0.1', `192.168.1.10:${port}`, `127.0.0.1.attacker.example:${port}`, `[::1]x:${port}`]) {
      const r = await hit('/api/experiments', { host });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ code: 'MODNAS_E_UI_HOST' });
      expect(r.body).not.toContain('bench/evo');
    }
    expect((await hit('/', { host: `evil.example:${port}` })).status).toBe(403);
    expect((await hit('/app.js', { host: `evil.example:${port}` })).status).toBe(403);
  });

  it('sends the CSP, nosniff and Referrer-Policy with every response', async () => {
    const replies = await Promise.all([
      hit('/'),
      hit('/app.js'),
      hit('/app.css'),
      hit('/api/experiments'),
      hit('/api/run?dir=darts&run=r1'),
      hit('/api/arch?dir=darts&name=arch_search_best.yaml'),
      hit('/api/arch?dir=darts&name=nope'),
      hit('/api/events?dir=random&run=r1'),
      hit('/nowhere'),
      hit('/', { host: 'evil.example' }),
    ]);
    replies.push(await new Promise<Reply>((ok, fail) => {
      const req = request(server.url, { method: 'POST' }, (res) => ok({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
      req.on('error', fail);
      req.end();
    }));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 404, 200, 404, 403, 405]);
    for (const r of replies) {
      expect(r.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(r.headers['content-security-policy']).toMatch(/frame-ancestors 'none'|sandbox/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
    expect(replies[0].headers['content-security-policy']).toContain("script-src 'self'");
    expect(replies[0].headers['content-security-policy']).not.toContain('unsafe');
  });

  it('a corrupt store marks its own experiment unreadable; the rest are served', async () => {
    const exps = JSON.parse((await hit('/api/experiments')).body) as ExperimentEntry[];
    expect(exps.map((e) => e.dir)).toEqual(['bench/evo', 'broken', 'darts', 'future', 'later', 'random']);
    expect(exps.find((e) => e.dir === 'broken')).toMatchObject({ runs: [], error: { code: 'MODNAS_E_UI_STORE_UNREADABLE', message: expect.stringMatching(/not a database/) } });
    expect(exps.find((e) => e.dir === 'future')?.error?.message).toContain('MODNAS_E_STORE_FORMAT');
    expect(exps.find((e) => e.dir === 'darts')?.runs[0]).toMatchObject({ id: 'r1', trials: 12 });
    const bad = await hit('/api/run?dir=broken&run=r1');
    expect(bad.status).toBe(500);
    expect(JSON.parse(bad.body)).toMatchObject({ code: 'MODNAS_E_UI_STORE_UNREADABLE' });
    expect((await hit('/api/run?dir=darts&run=r1')).status).toBe(200);

    // a store that goes bad while served: the next read finds it, the others go on
    expect(exps.find((e) => e.dir === 'later')?.runs[0]).toMatchObject({ id: 'r1', trials: 1 });
    writeFileSync(join(root, 'later', 'modnas.db'), Buffer.alloc(4096, 0x5a));
    const after = JSON.parse((await hit('/api/experiments')).body) as ExperimentEntry[];
    expect(after.find((e) => e.dir === 'later')?.error?.code).toBe('MODNAS_E_UI_STORE_UNREADABLE');
    expect(after.filter((e) => !e.error).map((e) => e.dir)).toEqual(['bench/evo', 'darts', 'random']);
    expect((await hit('/api/run?dir=random&run=r1')).status).toBe(200);
    // and one put back is read again
    sqliteExperiment(root, 'later2');
    rmSync(join(root, 'later'), { recursive: true });
    await new Promise((r) => setTimeout(r, 2100)); // the folder is looked through every 2 s
    const again = JSON.parse((await hit('/api/experiments')).body) as ExperimentEntry[];
    expect(again.map((e) => [e.dir, e.error?.code ?? 'ok'])).toEqual([
      ['bench/evo', 'ok'],
      ['broken', 'MODNAS_E_UI_STORE_UNREADABLE'],
      ['darts', 'ok'],
      ['future', 'MODNAS_E_UI_STORE_UNREADABLE'],
      ['later2', 'ok'],
      ['random', 'ok'],
    ]);
  });

  it('no response names a path of this machine', async () => {
    await hit('/api/run?dir=darts&run=r9');
    await hit('/api/run?dir=nowhere&run=r1');
    await hit('/api/events?dir=broken&run=r1');
    expect(bodies.length).toBeGreaterThan(30);
    for (const b of bodies) {
      expect(b).not.toContain(base);
      expect(b).not.toContain(tmpdir() + '/');
    }
    expect(redactPaths(`sqlite ${root}/broken/modnas.db: file is not a database`, root)).toBe('sqlite exp/broken/modnas.db: file is not a database');
  });
});

describe('beyond loopback: a token, as Jupyter does', () => {
  const root = mkdtempSync(join(tmpdir(), 'modnas-ui-token-'));
  let server: UiServer;
  beforeAll(async () => {
    sqliteExperiment(root, 'a');
    server = await startUiServer({ folder: root, port: 0, host: '0.0.0.0' });
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is required with every request; ?token= sets a cookie and leaves the address bar', async () => {
    expect(server.remote).toBe(true);
    expect(server.token).toMatch(/^[\w-]{32}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const token = server.token!;
    const at = (p: string, headers: Record<string, string> = {}): Promise<Reply> => get(`http://127.0.0.1:${server.port}${p}`, headers);
    for (const p of ['/', '/app.js', '/api/experiments', '/api/run?dir=a&run=r1', '/api/events?dir=a&run=r1']) {
      const r = await at(p);
      expect(r.status, p).toBe(401);
      expect(r.body).not.toContain('"dir"');
    }
    expect((await at('/api/experiments?token=wrong')).status).toBe(401);
    expect((await at('/api/experiments', { cookie: `modnas_ui_${server.port}=${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}` })).status).toBe(401);
    const login = await at(`/?token=${token}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(new RegExp(`^modnas_ui_${server.port}=${token}; Path=/; HttpOnly; SameSite=Strict`));
    const withCookie = await at('/api/experiments', { cookie: cookie.split(';')[0] });
    expect(withCookie.status).toBe(200);
    expect((JSON.parse(withCookie.body) as ExperimentEntry[])[0].dir).toBe('a');
    expect((await at('/api/experiments', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await at('/', { cookie: cookie.split(';')[0] })).status).toBe(200);
    // the Host check holds there too
    expect((await at('/api/experiments', { cookie: cookie.split(';')[0], host: `attacker.example:${server.port}` })).status).toBe(403);
  });

  it('loopback needs none unless one is given', async () => {
    const local = await startUiServer({ folder: root, port: 0 });
    const fixed = await startUiServer({ folder: root, port: 0, token: 'a-fixed-token-for-this-test' });
    try {
      expect(local.remote).toBe(false);
      expect(local.token).toBeUndefined();
      expect((await get(`${local.url}api/experiments`)).status).toBe(200);
      expect((await get(`${fixed.url}api/experiments`)).status).toBe(401);
      expect((await get(`${fixed.url}api/experiments?token=a-fixed-token-for-this-test`)).status).toBe(200);
    } finally {
      await local.close();
      await fixed.close();
    }
  });
});

describe('Host names', () => {
  it('loopback, a named address and every interface', () => {
    const lo = allowedHostNames('127.0.0.1');
    expect(hostAllowed('127.0.0.1:8080', lo, 8080)).toBe(true);
    expect(hostAllowed('localhost:8080', lo, 8080)).toBe(true);
    expect(hostAllowed('[::1]:8080', lo, 8080)).toBe(true);
    expect(hostAllowed('localhost:8081', lo, 8080)).toBe(false);
    expect(hostAllowed('localhost', lo, 8080)).toBe(false);
    expect(hostAllowed('localhost', lo, 80)).toBe(true);
    expect(hostAllowed(undefined, lo, 8080)).toBe(false);
    expect(hostAllowed('a.example:8080', lo, 8080)).toBe(false);
    const named = allowedHostNames('10.1.2.3', ['nas.lab']);
    expect(hostAllowed('10.1.2.3:8080', named, 8080)).toBe(true);
    expect(hostAllowed('NAS.lab:8080', named, 8080)).toBe(true);
    expect(hostAllowed('localhost:8080', named, 8080)).toBe(false);
    const all = allowedHostNames('0.0.0.0');
    expect(hostAllowed('127.0.0.1:8080', all, 8080)).toBe(true);
    expect(hostAllowed('rebind.example:8080', all, 8080)).toBe(false);
  });
});
