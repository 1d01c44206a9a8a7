// `modnas ui` and `modnas report --html` as commands: bad input exits 2 with the coded error and
// its fix (the dashboard itself is tested in @modnas/ui, in Chromium too).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalStore } from '@modnas/store-journal';
import type { Io } from './io.js';
import { main } from './main.js';
import { uiCommand } from './ui.js';

/** The status of a GET with a given Host header. */
const status = (url: string, host?: string): Promise<number> =>
  new Promise((ok, fail) => {
    const req = request(url, host ? { headers: { host } } : {}, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    req.on('error', fail);
    req.end();
  });

function capture(): Io & { text(): string } {
  const lines: string[] = [];
  return { out: (s) => void lines.push(s), err: (s) => void lines.push(s), isTTY: false, text: () => lines.join('\n') };
}

describe('modnas ui / report --html', () => {
  const empty = mkdtempSync(join(tmpdir(), 'modnas-cli-ui-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('a folder without a store is refused with the fix', async () => {
    const io = capture();
    expect(await main(['ui', empty, '--port', '0'], io)).toBe(2);
    expect(io.text()).toMatch(/MODNAS_E_UI_NO_STORE.*modnas run/s);
  });

  it('a bad port and a report without its output file are usage errors', async () => {
    const io = capture();
    expect(await main(['ui', empty, '--port', 'x'], io)).toBe(2);
    expect(io.text()).toContain('MODNAS_E_CLI_USAGE');
    const io2 = capture();
    expect(await main(['report', empty, '--html'], io2)).toBe(2);
    expect(io2.text()).toContain('MODNAS_E_CLI_USAGE');
    const io3 = capture();
    expect(await main(['report', empty, '--html', join(empty, 'r.html')], io3)).toBe(2);
    expect(io3.text()).toContain('MODNAS_E_UI_NO_STORE');
  });

  it('both are in the help', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.text()).toMatch(/modnas ui \[folder\]/);
    expect(io.text()).toMatch(/modnas report <experiment-dir> --html <out\.html>/);
  });

  it('beyond loopback: a warning, a URL with the token, and --allow-host names', async () => {
    const folder = join(empty, 'exp');
    mkdirSync(join(folder, 'a'), { recursive: true });
    new JournalStore(join(folder, 'a'), 'a').close();
    const io = capture();
    const stop = new AbortController();
    const done = uiCommand([folder, '--port', '0', '--host', '0.0.0.0', '--allow-host', 'nas.lab,other.lab'], io, stop.signal);
    const deadline = Date.now() + 30_000;
    while (!/\?token=/.test(io.text()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const text = io.text();
    expect(text).toMatch(/^warning: modnas ui listens on 0\.0\.0\.0, beyond this machine: .*token.*ssh -L/m);
    const url = /modnas ui: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=[\w-]+)/.exec(text);
    expect(url).not.toBeNull();
    const port = url![2];
    expect(text).toContain(`http://${hostname().toLowerCase()}:${port}/?token=`);
    expect(await status(url![1])).toBe(303); // to the cookie
    expect(await status(`http://127.0.0.1:${port}/api/experiments`)).toBe(401);
    expect(await status(`${url![1].replace('/?', '/api/experiments?')}`, `nas.lab:${port}`)).toBe(200);
    expect(await status(`${url![1].replace('/?', '/api/experiments?')}`, `evil.example:${port}`)).toBe(403);
    stop.abort();
    expect(await done).toBe(0);
  });
});
