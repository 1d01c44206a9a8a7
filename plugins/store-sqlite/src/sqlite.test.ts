import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { isModnasError } from '@modnas/core';
import type { NewCheckpoint } from '@modnas/services';
import { checkpointDigest, claimRun } from '@modnas/services';
import { describeConformance, describeStoreContract } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { SqliteStore, sqliteStore } from './sqlite.js';

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

const cfg = { name: 'x', seed: 1, estim: { s: { type: 'E', epochs: 2 } }, log_level: 'info' };

describeStoreContract('SqliteStore', () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'modnas-sqlite-')), 'modnas.db'), 'x'), (s) => new SqliteStore((s as SqliteStore).file, 'x'), {
  // the blob cut in half behind the store's back
  corruptCheckpoint: (s, run, seq) => {
    const db = new Database((s as SqliteStore).file);
    db.prepare('UPDATE checkpoints SET data = substr(data, 1, length(data) / 2) WHERE run = ? AND seq = ?').run(run, seq);
    db.close();
  },
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'modnas-sqlite-'));
const ckpt = (run: string, watermark: number, data: Uint8Array): NewCheckpoint => ({ run, estim: 's', kind: 'epoch', time: new Date().toISOString(), watermark, ...checkpointDigest(data), data });

/** The built package, for child processes (the suite runs after the build). */
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Run a script with SqliteStore imported in a child process; its error, if any, as { code, message }. */
function child(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; error?: { code: string; message: string } }> {
  return new Promise((resolve) => {
    const body = `import { SqliteStore } from ${JSON.stringify(built)};\ntry { ${script} } catch (e) { console.error(JSON.stringify({ code: e.code, message: e.message })); process.exit(1); }`;
    const p = spawn(process.execPath, ['--input-type=module', '-e', body], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, ...(stderr.trim() ? { error: JSON.parse(stderr.trim().split('\n').at(-1)!) } : {}) }));
  });
}

describe('SqliteStore', () => {
  it('is one WAL file per experiment folder, whose tables hold trials, epoch metrics and checkpoints, and passes integrity_check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-sqlite-'));
    const factory = sqliteStore.create(sqliteStore.schema.parse({}), undefined as never, undefined) as { open(w: { dir: string; experiment: string }): SqliteStore };
    const s = factory.open({ dir: join(dir, 'exp'), experiment: 'x' });
    expect(existsSync(join(dir, 'exp', 'modnas.db'))).toBe(true);
    claimRun(s, { experiment: 'x', config: cfg, resume: false });
    s.activate('r1');
    s.append('candidates', { estim: 's', index: 0, arch: { op: 'a' }, status: 'diverged', score: null, metrics: { diverged: 1 }, seconds: 0.25 });
    s.append('metrics', { estim: 'w', epoch: 1, epochs: 2, loss: 0.5 });
    const db = (s as unknown as { db: { pragma(p: string, o?: { simple: boolean }): unknown; prepare(q: string): { get(): unknown } } }).db;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT estim, idx, status, arch, seconds, worker FROM trials').get()).toEqual({ estim: 's', idx: 0, status: 'diverged', arch: '{"op":"a"}', seconds: 0.25, worker: `pid ${process.pid}` });
    expect(db.prepare('SELECT estim, epoch, metrics FROM epoch_metrics').get()).toEqual({ estim: 'w', epoch: 1, metrics: '{"loss":0.5}' });
    expect(s.integrityCheck()).toBe('ok');
    s.close();
    // A second handle on the same file (another process) sees the run, and cannot claim it while it is live.
    const a = new SqliteStore(join(dir, 'exp', 'modnas.db'), 'x');
    a.updateRun('r1', { status: 'running', heartbeat: new Date().toISOString(), pid: process.ppid });
    const b = new SqliteStore(join(dir, 'exp', 'modnas.db'), 'x');
    expect(claimRun(b, { experiment: 'x', config: cfg, resume: false }).kind).toBe('busy');
    a.close();
    b.close();
  });

  it('names the folder and the fix when it cannot be written', () => {
    let err: unknown;
    try {
      // a path below a file: the folder cannot exist
      new SqliteStore('/dev/null/modnas.db', 'x');
    } catch (e) {
      err = e;
    }
    expect(isModnasError(err) && err.code).toMatch(/^MODNAS_E_IO_/);
    expect((err as Error).message).toContain('/dev/null/modnas.db');
    expect((err as Error).message).toContain('fix:');
  });
});

describe('SqliteStore on a full disk (MODNAS_TEST_DISK_FULL_AT: SQLITE_FULL where SQLite throws it)', () => {
  function seeded(): string {
    const file = join(tmp(), 'modnas.db');
    const s = new SqliteStore(file, 'x');
    claimRun(s, { experiment: 'x', config: cfg, resume: false });
    s.activate('r1');
    s.append('candidates', { estim: 's', index: 0, score: 0.1 });
    s.saveCheckpoint(ckpt('r1', s.lastRecordId(), new Uint8Array(5000).fill(7)));
    s.close();
    return file;
  }

  it('a record that finds the disk full is MODNAS_E_IO_DISK_FULL naming the file; nothing before is lost, and the next process writes', async () => {
    const file = seeded();
    const r = await child(`const s = new SqliteStore(${JSON.stringify(file)}, 'x'); s.activate('r1'); s.append('candidates', { estim: 's', index: 1, score: 0.2 });`, { MODNAS_TEST_DISK_FULL_AT: 'store@1' });
    expect(r.code).toBe(1);
    expect(r.error?.code).toBe('MODNAS_E_IO_DISK_FULL');
    expect(r.error?.message).toContain(file);
    expect(r.error?.message).toContain('SQLITE_FULL');
    const s = new SqliteStore(file, 'x');
    expect(s.records('candidates', 'r1').map((x) => x.record.index)).toEqual([0]);
    s.activate('r1');
    s.append('candidates', { estim: 's', index: 1, score: 0.2 });
    expect(s.records('candidates', 'r1').map((x) => x.record.index)).toEqual([0, 1]);
    expect(s.integrityCheck()).toBe('ok');
    s.close();
  });

  it('a checkpoint that finds the disk full inside its transaction is rolled back: the checkpoint before stands, and so does every write after the disk filled', async () => {
    const file = seeded();
    // the checkpoint fails, then the run's status update (as the runner's end) fails too: the disk stays full
    const r = await child(`const s = new SqliteStore(${JSON.stringify(file)}, 'x'); try { s.saveCheckpoint({ run: 'r1', estim: 's', kind: 'epoch', time: 'now', watermark: 1, ...${JSON.stringify(checkpointDigest(new Uint8Array(9000).fill(9)))}, data: new Uint8Array(9000).fill(9) }); } catch (e) { try { s.updateRun('r1', { status: 'failed' }); } catch { throw e; } throw new Error('the update after a full disk succeeded'); }`, { MODNAS_TEST_DISK_FULL_AT: 'checkpoint@1' });
    expect(r.code).toBe(1);
    expect(r.error?.code).toBe('MODNAS_E_IO_DISK_FULL');
    const s = new SqliteStore(file, 'x');
    const c = s.latestCheckpoint('r1');
    expect(c?.seq).toBe(1);
    expect(c?.data.length).toBe(5000);
    expect(s.runs()[0].status).toBe('running');
    expect(s.integrityCheck()).toBe('ok');
    s.close();
  });

  it('opens a file made before checkpoints recorded size and SHA-256: adds the columns, reads old checkpoints as they are', () => {
    const file = join(tmp(), 'modnas.db');
    new SqliteStore(file, 'x').close();
    // the checkpoints table as it was
    const old = new Database(file);
    old.exec('DROP TABLE checkpoints');
    old.exec('CREATE TABLE checkpoints (run TEXT NOT NULL, seq INTEGER NOT NULL, estim TEXT NOT NULL, kind TEXT NOT NULL, time TEXT NOT NULL, watermark INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (run, seq))');
    old.prepare('INSERT INTO checkpoints VALUES (?,?,?,?,?,?,?)').run('r1', 1, 's', 'epoch', 'then', 0, Buffer.from([4, 5]));
    old.close();
    // read-only (report, ui): opens as it is, without the columns
    const ro = new SqliteStore(file, 'x', undefined, { readOnly: true });
    expect(ro.latestCheckpoint('r1')).toMatchObject({ seq: 1, data: new Uint8Array([4, 5]) });
    expect(Object.keys(ro.latestCheckpoint('r1') ?? {})).not.toContain('sha256');
    ro.close();
    const s = new SqliteStore(file, 'x');
    const c = s.latestCheckpoint('r1');
    expect(c).toMatchObject({ seq: 1, watermark: 0 });
    expect(c?.sha256).toBeUndefined();
    expect(Array.from(c?.data ?? [])).toEqual([4, 5]);
    s.saveCheckpoint(ckpt('r1', 1, new Uint8Array([6])));
    expect(s.latestCheckpoint('r1')).toMatchObject({ seq: 2, size: 1, sha256: checkpointDigest(new Uint8Array([6])).sha256 });
    s.close();
  });
});
