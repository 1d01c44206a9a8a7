import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isModnasError } from '@modnas/core';
import { claimRun } from '@modnas/runtime';
import { describeConformance, describeStoreContract } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { SqliteStore, sqliteStore } from './sqlite.js';

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

const cfg = { name: 'x', seed: 1, estim: { s: { type: 'E', epochs: 2 } }, log_level: 'info' };

describeStoreContract('SqliteStore', () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'modnas-sqlite-')), 'modnas.db'), 'x'), (s) => new SqliteStore((s as SqliteStore).file, 'x'));

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
