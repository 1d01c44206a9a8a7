import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isModnasError } from '@modnas/core';
import type { NewCheckpoint } from '@modnas/services';
import { checkpointDigest, claimRun } from '@modnas/services';
import { describeConformance, describeStoreContract } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { JournalStore, journalStore, journalStoreSchema } from './journal-store.js';

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

const tmp = (): string => mkdtempSync(join(tmpdir(), 'modnas-journal-'));
const cfg = { name: 'x', seed: 1, estim: { s: { type: 'E', epochs: 2 } }, log_level: 'info' };

describeStoreContract('JournalStore', () => new JournalStore(tmp(), 'x'), (s) => new JournalStore((s as JournalStore).dir, 'x'), {
  // cut the payload file in half, as a disk that lost its tail would
  corruptCheckpoint: (s, run, seq) => {
    const f = join((s as JournalStore).dir, 'checkpoints', `${run}-${seq}.ckpt`);
    truncateSync(f, readFileSync(f).length / 2);
  },
});

/** A checkpoint as the runner saves it (size and SHA-256 of the payload beside it). */
const ckpt = (run: string, watermark: number, data: Uint8Array, time = new Date().toISOString()): NewCheckpoint => ({ run, estim: 's', kind: 'epoch', time, watermark, ...checkpointDigest(data), data });

/** The built package, for child processes (the suite runs after the build). */
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Run a script in a child process with JournalStore imported; resolves with its exit signal/code. */
function child(script: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', `import { JournalStore } from ${JSON.stringify(built)};\n${script}`], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('JournalStore', () => {
  it('is a journal.jsonl per experiment folder with checkpoint payloads beside it; old payloads are removed', () => {
    const dir = join(tmp(), 'exp');
    const factory = journalStore.create(journalStoreSchema.parse({}), undefined as never, undefined) as { open(w: { dir: string; experiment: string }): JournalStore };
    const s = factory.open({ dir, experiment: 'x' });
    claimRun(s, { experiment: 'x', config: cfg, resume: false });
    for (let i = 0; i < 4; i++) s.saveCheckpoint(ckpt('r1', i, new Uint8Array(1000).fill(i)));
    s.pruneCheckpoints('r1', 2);
    expect(readdirSync(join(dir, 'checkpoints')).sort()).toEqual(['r1-3.ckpt', 'r1-4.ckpt']);
    expect(s.latestCheckpoint('r1')?.data[0]).toBe(3);
    const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { o: string });
    expect(lines[0]).toMatchObject({ o: 'journal', format: 1, experiment: 'x' });
    expect(lines.map((l) => l.o)).toContain('checkpoint');
    expect(existsSync(join(dir, 'journal.jsonl.lock'))).toBe(false);
    // read-only handles (report, ui) see the same
    const ro = new JournalStore(dir, 'x', undefined, { readOnly: true });
    expect(ro.runs().map((r) => r.id)).toEqual(['r1']);
    expect(() => ro.insertRun({ ...ro.runs()[0], id: 'r9' })).toThrow(/reading only/);
  });

  it('skips a line torn by a crash, and the next writer cuts it off before appending', () => {
    const dir = tmp();
    const a = new JournalStore(dir, 'x');
    claimRun(a, { experiment: 'x', config: cfg, resume: false });
    a.activate('r1');
    a.append('candidates', { index: 0, score: 0.1 });
    appendFileSync(join(dir, 'journal.jsonl'), '{"o":"record","id":2,"run":"r1","stream":"cand');
    const reader = new JournalStore(dir, 'x', undefined, { readOnly: true });
    expect(reader.records('candidates', 'r1').map((r) => r.record.index)).toEqual([0]);
    const b = new JournalStore(dir, 'x');
    b.activate('r1');
    b.append('candidates', { index: 1, score: 0.2 });
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8').endsWith('"score":0.2}}\n')).toBe(true);
    expect(new JournalStore(dir, 'x', undefined, { readOnly: true }).records('candidates', 'r1').map((r) => [r.id, r.record.index])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(a.records('candidates', 'r1').length).toBe(2);
  });

  it('two processes appending at once: every record once, ids unique, no torn line', async () => {
    const dir = tmp();
    const s = new JournalStore(dir, 'x');
    claimRun(s, { experiment: 'x', config: cfg, resume: false });
    const script = (tag: string): string => `const s = new JournalStore(${JSON.stringify(dir)}, 'x'); s.activate('r1'); for (let i = 0; i < 150; i++) s.append('trials', { tag: '${tag}', i });`;
    const [p, q] = await Promise.all([child(script('p')), child(script('q'))]);
    expect([p.code, q.code], p.stderr + q.stderr).toEqual([0, 0]);
    const recs = s.records('trials', 'r1');
    expect(recs.length).toBe(300);
    expect(new Set(recs.map((r) => r.id)).size).toBe(300);
    for (const tag of ['p', 'q']) expect(recs.filter((r) => r.record.tag === tag).map((r) => r.record.i)).toEqual([...Array(150).keys()]);
    expect(new JournalStore(dir, 'x', undefined, { readOnly: true }).skipped).toBe(0);
  });

  it('a process killed holding the lock (mid-checkpoint) loses nothing committed; the next one takes the lock over', async () => {
    const dir = tmp();
    const s = new JournalStore(dir, 'x');
    claimRun(s, { experiment: 'x', config: cfg, resume: false });
    s.saveCheckpoint(ckpt('r1', 0, new Uint8Array([1])));
    const killed = await child(`const s = new JournalStore(${JSON.stringify(dir)}, 'x'); s.saveCheckpoint({ run: 'r1', estim: 's', kind: 'epoch', time: 'now', watermark: 5, ...${JSON.stringify(checkpointDigest(new Uint8Array([2])))}, data: new Uint8Array([2]) });`, { MODNAS_TEST_KILL_AT: 'checkpoint' });
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(dir, 'journal.jsonl.lock')), 'the dead process left its lock').toBe(true);
    // the payload was written but the journal never named it: the checkpoint before it stands
    expect(s.latestCheckpoint('r1')).toMatchObject({ seq: 1, watermark: 0, data: new Uint8Array([1]) });
    const c = s.saveCheckpoint(ckpt('r1', 7, new Uint8Array([3])));
    expect(c.seq).toBe(2);
    expect(new JournalStore(dir, 'x', undefined, { readOnly: true }).latestCheckpoint('r1')).toMatchObject({ seq: 2, watermark: 7, data: new Uint8Array([3]) });
  });

  it('a lock held by a live process: waits, then names the holder and the fix', () => {
    const dir = tmp();
    const s = new JournalStore(dir, 'x', journalStoreSchema.parse({ lock_timeout_ms: 50 }));
    // our parent is alive: its lock is not stale
    writeFileSync(join(dir, 'journal.jsonl.lock'), `${process.ppid} ${hostname()}`);
    let err: unknown;
    try {
      s.insertRun({ id: 'r1', experiment: 'x', configHash: 'h', config: cfg, status: 'running', start: 'now', heartbeat: 'now', pid: process.pid, host: 'h', resumes: 0 });
    } catch (e) {
      err = e;
    }
    expect(isModnasError(err) && err.code).toBe('MODNAS_E_STORE_BUSY');
    expect((err as Error).message).toContain(String(process.ppid));
    expect((err as Error).message).toContain('lock_timeout_ms');
    expect(s.runs()).toEqual([]);
  });

  it('names the folder and the fix when it cannot be written', () => {
    let err: unknown;
    try {
      new JournalStore('/dev/null/exp', 'x');
    } catch (e) {
      err = e;
    }
    expect(isModnasError(err) && err.code).toMatch(/^MODNAS_E_IO_/);
    expect((err as Error).message).toContain('/dev/null/exp');
  });
});

describe('JournalStore on a full disk (MODNAS_TEST_DISK_FULL_AT: a short write, then ENOSPC)', () => {
  /** A journal with run r1 and one record; returns its folder and the journal's bytes. */
  function seeded(): { dir: string; bytes: string } {
    const dir = tmp();
    const s = new JournalStore(dir, 'x');
    claimRun(s, { experiment: 'x', config: cfg, resume: false });
    s.activate('r1');
    s.append('candidates', { index: 0, score: 0.1 });
    s.saveCheckpoint(ckpt('r1', s.lastRecordId(), new Uint8Array(5000).fill(7)));
    return { dir, bytes: readFileSync(join(dir, 'journal.jsonl'), 'utf8') };
  }
  /** The error a child process got, as { code, message }. */
  const caught = (body: string): string => `try { ${body} } catch (e) { console.error(JSON.stringify({ code: e.code, message: e.message })); process.exit(1); }`;
  const errorOf = (stderr: string): { code: string; message: string } => JSON.parse(stderr.trim().split('\n').at(-1) ?? '{}');

  it('a transaction cut short leaves the journal as it was: no line of it, none torn; the next process appends', async () => {
    const { dir, bytes } = seeded();
    // two lines in one write: the short write takes half (the whole first line), then the disk is full
    const r = await child(caught(`const s = new JournalStore(${JSON.stringify(dir)}, 'x'); s.activate('r1'); s.transaction(() => { s.append('candidates', { index: 1, score: 0.2 }); s.append('candidates', { index: 2, score: 0.3 }); });`), { MODNAS_TEST_DISK_FULL_AT: 'store@1' });
    expect(r.code, r.stderr).toBe(1);
    const err = errorOf(r.stderr);
    expect(err.code).toBe('MODNAS_E_IO_DISK_FULL');
    expect(err.message).toContain(join(dir, 'journal.jsonl'));
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).toBe(bytes);
    expect(existsSync(join(dir, 'journal.jsonl.lock')), 'the lock is released').toBe(false);
    // space freed: the next process writes, and nothing before is lost
    const s = new JournalStore(dir, 'x');
    s.activate('r1');
    s.append('candidates', { index: 1, score: 0.2 });
    expect(s.records('candidates', 'r1').map((x) => x.record.index)).toEqual([0, 1]);
    expect(new JournalStore(dir, 'x', undefined, { readOnly: true }).skipped).toBe(0);
  });

  it('a checkpoint payload cut short is never recorded: its temporary file is removed and the checkpoint before stands', async () => {
    const { dir, bytes } = seeded();
    const r = await child(caught(`const s = new JournalStore(${JSON.stringify(dir)}, 'x'); const data = new Uint8Array(917337).fill(9); s.saveCheckpoint({ run: 'r1', estim: 's', kind: 'epoch', time: 'now', watermark: 1, ...${JSON.stringify(checkpointDigest(new Uint8Array(917337).fill(9)))}, data });`), { MODNAS_TEST_DISK_FULL_AT: 'checkpoint@1' });
    expect(r.code, r.stderr).toBe(1);
    expect(errorOf(r.stderr).code).toBe('MODNAS_E_IO_DISK_FULL');
    expect(errorOf(r.stderr).message).toContain('r1-2.ckpt');
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['r1-1.ckpt']);
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).toBe(bytes);
    const c = new JournalStore(dir, 'x', undefined, { readOnly: true }).latestCheckpoint('r1');
    expect(c?.seq).toBe(1);
    expect(c?.data.length).toBe(5000);
  });

  it('a lock file the disk had no room for is removed, so the next process does not wait for a holder it cannot name', async () => {
    const { dir } = seeded();
    const r = await child(caught(`const s = new JournalStore(${JSON.stringify(dir)}, 'x'); s.activate('r1'); s.append('candidates', { index: 1 });`), { MODNAS_TEST_DISK_FULL_AT: 'lock@1' });
    expect(r.code, r.stderr).toBe(1);
    expect(errorOf(r.stderr).code).toBe('MODNAS_E_IO_DISK_FULL');
    expect(errorOf(r.stderr).message).toContain('journal.jsonl.lock');
    expect(existsSync(join(dir, 'journal.jsonl.lock'))).toBe(false);
    const s = new JournalStore(dir, 'x', journalStoreSchema.parse({ lock_timeout_ms: 100 }));
    s.activate('r1');
    s.append('candidates', { index: 1 });
    expect(s.records('candidates', 'r1').length).toBe(2);
  });

  it('a payload recorded whole but cut short later (290,816 of 917,337 bytes) is skipped with the reason; the checkpoint before is used', () => {
    const { dir } = seeded();
    const s = new JournalStore(dir, 'x');
    const big = new Uint8Array(917337).map((_, i) => i % 256);
    s.saveCheckpoint(ckpt('r1', 1, big));
    truncateSync(join(dir, 'checkpoints', 'r1-2.ckpt'), 290816);
    const skipped: Parameters<JournalStore['latestCheckpoint']>[1] = [];
    const c = s.latestCheckpoint('r1', skipped);
    expect(c?.seq).toBe(1);
    expect(skipped).toEqual([{ run: 'r1', seq: 2, reason: 'checkpoints/r1-2.ckpt: 290,816 of 917,337 bytes' }]);
    // a payload file that is gone is skipped the same way
    s.saveCheckpoint(ckpt('r1', 1, big));
    rmSync(join(dir, 'checkpoints', 'r1-3.ckpt'));
    const again: typeof skipped = [];
    expect(s.latestCheckpoint('r1', again)?.seq).toBe(1);
    expect(again.map((k) => k.seq)).toEqual([3, 2]);
    expect(again[0].reason).toBe('checkpoints/r1-3.ckpt cannot be read (ENOENT)');
  });

  it('reads checkpoints written before sizes and checksums were recorded, as they are', () => {
    const dir = tmp();
    const s = new JournalStore(dir, 'x');
    claimRun(s, { experiment: 'x', config: cfg, resume: false });
    s.saveCheckpoint(ckpt('r1', 0, new Uint8Array([4, 5])));
    // the line as an older @modnas wrote it: no size, no sha256
    const f = join(dir, 'journal.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8').replace(/,"size":2,"sha256":"[0-9a-f]+"/, ''));
    expect(readFileSync(f, 'utf8')).not.toContain('sha256');
    const c = new JournalStore(dir, 'x', undefined, { readOnly: true }).latestCheckpoint('r1');
    expect(c?.seq).toBe(1);
    expect(c?.sha256).toBeUndefined();
    expect(Array.from(c?.data ?? [])).toEqual([4, 5]);
  });
});
