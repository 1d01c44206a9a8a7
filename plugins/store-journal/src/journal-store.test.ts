import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isModnasError } from '@modnas/core';
import { MemoryExperimentStore } from '@modnas/kit-io';
import { claimRun } from '@modnas/runtime';
import { describeConformance, describeStoreContract } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { JournalStore, journalStore, journalStoreSchema } from './journal-store.js';

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

const tmp = (): string => mkdtempSync(join(tmpdir(), 'modnas-journal-'));
const cfg = { name: 'x', seed: 1, estim: { s: { type: 'E', epochs: 2 } }, log_level: 'info' };

describeStoreContract('MemoryExperimentStore', () => new MemoryExperimentStore());
describeStoreContract('JournalStore', () => new JournalStore(tmp(), 'x'), (s) => new JournalStore((s as JournalStore).dir, 'x'));

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
    for (let i = 0; i < 4; i++) s.saveCheckpoint({ run: 'r1', estim: 's', kind: 'epoch', time: new Date().toISOString(), watermark: i, data: new Uint8Array(1000).fill(i) });
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
    s.saveCheckpoint({ run: 'r1', estim: 's', kind: 'epoch', time: new Date().toISOString(), watermark: 0, data: new Uint8Array([1]) });
    const killed = await child(`const s = new JournalStore(${JSON.stringify(dir)}, 'x'); s.saveCheckpoint({ run: 'r1', estim: 's', kind: 'epoch', time: 'now', watermark: 5, data: new Uint8Array([2]) });`, { MODNAS_TEST_KILL_AT: 'checkpoint' });
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(dir, 'journal.jsonl.lock')), 'the dead process left its lock').toBe(true);
    // the payload was written but the journal never named it: the checkpoint before it stands
    expect(s.latestCheckpoint('r1')).toMatchObject({ seq: 1, watermark: 0, data: new Uint8Array([1]) });
    const c = s.saveCheckpoint({ run: 'r1', estim: 's', kind: 'epoch', time: new Date().toISOString(), watermark: 7, data: new Uint8Array([3]) });
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
