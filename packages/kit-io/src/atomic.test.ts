import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isModnasError } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { appendFileWhole } from './atomic.js';
import { ioError } from './io-errors.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'modnas-kit-io-'));
/** The built package, for child processes (the suite runs after the build). */
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Run an ES module script with kit-io's exports in scope (as `io`); what it printed, or its error as { code, message }. */
function child(script: string, env: NodeJS.ProcessEnv = {}, wrap: (cmd: string[]) => string[] = (c) => c): { status: number | null; out: string; error?: { code: string; message: string } } {
  const body = `import * as io from ${JSON.stringify(built)};\ntry { ${script} } catch (e) { console.error(JSON.stringify({ code: e.code, message: e.message })); process.exit(1); }`;
  const [cmd, ...args] = wrap([process.execPath, '--input-type=module', '-e', body]);
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  const last = r.stderr.trim().split('\n').at(-1);
  return { status: r.status, out: r.stdout, ...(r.status === 1 && last?.startsWith('{') ? { error: JSON.parse(last) } : {}) };
}

/** Mount namespaces for a real small or read-only file system: root, or unprivileged user namespaces. */
const canMount = spawnSync('unshare', ['-rm', 'true']).status === 0;
/** Run the command inside a new mount namespace with a tmpfs of `opts` mounted at `dir` (gone when the command ends). */
const onTmpfs = (dir: string, opts: string) => (cmd: string[]): string[] => ['unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o ${opts} tmpfs "$0" && exec "$@"`, dir, ...cmd]].flat();

describe('writeFileAtomic and appendFileWhole on a full disk', () => {
  it('MODNAS_TEST_DISK_FULL_AT: the write gets half its bytes, then ENOSPC; the old file stands and no temporary file is left', () => {
    const dir = tmp();
    const f = join(dir, 'summary.json');
    writeFileSync(f, 'old\n');
    const r = child(`io.writeFileAtomic(${JSON.stringify(f)}, 'x'.repeat(10000), { site: 'export:summary.json' });`, { MODNAS_TEST_DISK_FULL_AT: 'export:summary.json@1' });
    expect(r.status).toBe(1);
    expect(r.error?.code).toBe('ENOSPC');
    expect(r.error?.message).toContain(f);
    expect(readFileSync(f, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });

  it('counts the writes of a site (and of "site:file" under "site"): the n-th fails, and every write after it at any site', () => {
    const dir = tmp();
    const script = `for (const [i, site] of ['export:a', 'log', 'export:b', 'export:c', 'log'].entries()) { try { io.writeFileAtomic(${JSON.stringify(dir)} + '/' + i, 'y'.repeat(100), { site }); console.log(i, 'ok'); } catch (e) { console.log(i, e.code); } }`;
    expect(child(script, { MODNAS_TEST_DISK_FULL_AT: 'export@2' }).out.trim().split('\n')).toEqual(['0 ok', '1 ok', '2 ENOSPC', '3 ENOSPC', '4 ENOSPC']);
    expect(child(script, { MODNAS_TEST_DISK_FULL_AT: 'export:c' }).out.trim().split('\n')).toEqual(['0 ok', '1 ok', '2 ok', '3 ENOSPC', '4 ENOSPC']);
    expect(child(script, {}).out.trim().split('\n')).toEqual(['0 ok', '1 ok', '2 ok', '3 ok', '4 ok']);
  });

  it('appendFileWhole cuts the file back to its length before a write that fails: no part of a record stays', () => {
    const dir = tmp();
    const f = join(dir, 'trials.jsonl');
    writeFileSync(f, '{"a":1}\n');
    const r = child(`io.appendFileWhole(${JSON.stringify(f)}, '{"b":"${'z'.repeat(500)}"}\\n', { site: 'append:trials.jsonl' });`, { MODNAS_TEST_DISK_FULL_AT: 'append@1' });
    expect(r.error?.code).toBe('ENOSPC');
    expect(readFileSync(f, 'utf8')).toBe('{"a":1}\n');
    expect(appendFileWhole(f, '{"b":2}\n', { site: 'append:trials.jsonl' })).toBe(8);
    expect(readFileSync(f, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
  });

  it.skipIf(!canMount)('on a real 64 KiB tmpfs: a 100 KB file gets a short write, then ENOSPC; the old content stands, and a log append is cut back (needs mount namespaces: root or unprivileged user namespaces)', () => {
    const dir = tmp();
    const script = `
      const fs = await import('node:fs');
      const f = process.argv[1] + '/out.bin', log = process.argv[1] + '/run.log';
      io.writeFileAtomic(f, 'old');
      fs.writeFileSync(log, 'line 1\\n');
      let err; try { io.writeFileAtomic(f, new Uint8Array(100000).fill(1)); } catch (e) { err = e.code; }
      let err2; try { io.appendFileWhole(log, 'x'.repeat(100000), { site: 'log' }); } catch (e) { err2 = e.code; }
      console.log(JSON.stringify({ err, err2, content: fs.readFileSync(f, 'utf8'), log: fs.readFileSync(log, 'utf8'), files: fs.readdirSync(process.argv[1]).sort() }));`;
    const r = child(script, {}, (cmd) => onTmpfs(dir, 'size=64k')([...cmd, dir]));
    expect(r.status, r.out).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ err: 'ENOSPC', err2: 'ENOSPC', content: 'old', log: 'line 1\n', files: ['out.bin', 'run.log'] });
  });
});

describe('ioError', () => {
  it.skipIf(!canMount)('a folder on a read-only file system is MODNAS_E_IO_UNWRITABLE naming EROFS, though mkdir -p reports ENOENT there (needs mount namespaces)', () => {
    const dir = tmp();
    const target = join(dir, 'exp', 'logs');
    const r = child(`try { (await import('node:fs')).mkdirSync(process.argv[1], { recursive: true }); } catch (e) { console.log(e.code); throw io.ioError(e, 'the experiment folder', process.argv[1]); }`, {}, (cmd) => onTmpfs(dir, 'ro,size=64k')([...cmd, target]));
    expect(r.out.trim()).toBe('ENOENT');
    expect(r.error?.code).toBe('MODNAS_E_IO_UNWRITABLE');
    expect(r.error?.message).toContain(`EROFS at ${dir}`);
    expect(r.error?.message).toContain(target);
  });

  it('an ENOENT below a file is unwritable (ENOTDIR); below a writable folder it stays a failed write', () => {
    const enoent = Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
    const below = ioError(enoent, 'the experiment folder', '/dev/null/exp/logs');
    expect(isModnasError(below) && below.code).toBe('MODNAS_E_IO_UNWRITABLE');
    expect(below.message).toContain('ENOTDIR at /dev/null');
    const gone = ioError(enoent, 'logs/run.log', join(tmp(), 'gone', 'run.log'));
    expect(gone.code).toBe('MODNAS_E_IO_WRITE');
  });

  it('ENOSPC and SQLITE_FULL are MODNAS_E_IO_DISK_FULL with the file and "--resume" in the fix', () => {
    for (const e of [Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })]) {
      const err = ioError(e, 'a checkpoint', '/x/modnas.db');
      expect(err.code).toBe('MODNAS_E_IO_DISK_FULL');
      expect(err.message).toContain('/x/modnas.db');
      expect(err.fix).toContain('--resume');
    }
  });

  it('says a native module built for another Node.js is that, with the rebuild, not a disk problem', () => {
    // Node's own words when better-sqlite3 was built under Node 20 and runs under Node 24
    const e = new Error(
      "The module '/p/node_modules/.pnpm/better-sqlite3@12.2.0/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\n" +
        'was compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 137. Please try re-compiling or re-installing\nthe module (for instance, using `npm rebuild` or `npm install`).',
    );
    const err = ioError(e, 'the experiment store', '/x/modnas.db');
    expect(err.code).toBe('MODNAS_E_NATIVE_MODULE');
    expect(err.message).toContain('better_sqlite3.node was built for another Node.js version');
    expect(err.message).toContain('NODE_MODULE_VERSION 115');
    expect(err.message).not.toMatch(/disk/);
    expect(err.fix).toContain('npm rebuild better-sqlite3');
    expect(err.fix).toContain('npm_config_nodedir');
    // a plain I/O error is still one
    expect(ioError(Object.assign(new Error('EIO'), { code: 'EIO' }), 'x', '/x').code).toBe('MODNAS_E_IO_WRITE');
  });
});
