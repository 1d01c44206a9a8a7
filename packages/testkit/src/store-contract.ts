import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { isModnasError } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import type { ExperimentStore, NewCheckpoint, SkippedCheckpoint } from '@modnas/services';
import { checkpointDigest, claimRun, effectiveStatus } from '@modnas/services';

const cfg = { name: 'x', seed: 1, estim: { s: { type: 'E', epochs: 2 } }, log_level: 'info' };

/** A pid that is not running: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** A checkpoint as the runner hands it to saveCheckpoint: the payload's size and SHA-256 (hex) beside it. */
function checkpoint(run: string, watermark: number, data: Uint8Array, digestOf: Uint8Array = data): NewCheckpoint {
  return { run, estim: 's', kind: 'epoch', time: new Date().toISOString(), watermark, ...checkpointDigest(digestOf), data };
}

export interface StoreContractOptions {
  /**
   * Damage the stored payload of a checkpoint as a disk or another program could (cut it short,
   * flip a byte), so the contract checks that the store catches it on read. Without it only a
   * payload whose recorded size or SHA-256 differs from its bytes is checked.
   */
  corruptCheckpoint?: (s: ExperimentStore, run: string, seq: number) => void;
}

/**
 * The ExperimentStore contract, for store plugins' own tests: records per run and stream with
 * watermark truncation, run claiming (a second live process refused with its pid, a dead one
 * killed and resumed), config-change refusal on resume, checkpoint keeping, and checkpoints that
 * verify: a store keeps each checkpoint's size and SHA-256 as given and `latestCheckpoint` passes
 * over one whose data does not match them (reporting it in `skipped`) for the one before. `another`
 * opens a second handle on the same storage, as another process would.
 */
export function describeStoreContract(name: string, make: () => ExperimentStore, another?: (s: ExperimentStore) => ExperimentStore, opts: StoreContractOptions = {}): void {
  describe(`the ExperimentStore contract: ${name}`, () => {
    it('keeps records per run and stream, in order, and drops those after a watermark', () => {
      const s = make();
      const a = claimRun(s, { experiment: 'x', config: cfg, resume: false });
      expect(a.kind).toBe('new');
      if (a.kind !== 'new') return;
      expect(a.run.id).toBe('r1');
      s.activate('r1');
      s.append('candidates', { estim: 's', index: 0, arch: { op: 'a' }, status: 'done', score: 0.5, metrics: { acc: 0.5 } });
      s.append('metrics', { estim: 's', epoch: 0, loss: 1.5 });
      const mark = s.lastRecordId();
      s.append('candidates', { estim: 's', index: 1, arch: { op: 'b' }, status: 'diverged', score: null, metrics: { diverged: 1, loss: Number.NaN } });
      s.append('notes', { text: 'hello' });
      expect(s.read('candidates').map((r) => r.index)).toEqual([0, 1]);
      expect(s.read('candidates')[1].status).toBe('diverged');
      expect(s.records(undefined, 'r1').map((r) => r.stream)).toEqual(['candidates', 'metrics', 'candidates', 'notes']);
      expect(s.truncateRecords('r1', mark)).toBe(2);
      expect(s.records(undefined, 'r1').map((r) => r.stream)).toEqual(['candidates', 'metrics']);
      s.updateRun('r1', { status: 'done' });
      const b = claimRun(s, { experiment: 'x', config: cfg, resume: false });
      expect(b.kind === 'new' && b.run.id).toBe('r2');
      s.activate('r2');
      expect(s.read('candidates')).toEqual([]);
      expect(s.records('candidates').map((r) => r.run)).toEqual(['r1']);
      s.close();
    });

    it('recordsAfter(k) gives the records newer than k, of every run or of one, as records() has them', () => {
      const s = make();
      const a = claimRun(s, { experiment: 'x', config: cfg, resume: false });
      if (a.kind !== 'new') throw new Error('expected a new run');
      s.activate('r1');
      for (let i = 0; i < 5; i++) s.append(i % 2 ? 'metrics' : 'candidates', i % 2 ? { estim: 's', epoch: i, loss: i } : { estim: 's', index: i, arch: { op: 'a' }, status: 'done', score: i / 10, metrics: { acc: i / 10 } });
      s.updateRun('r1', { status: 'done' });
      claimRun(s, { experiment: 'x', config: cfg, resume: false });
      s.activate('r2');
      s.append('notes', { text: 'r2' });
      const all = s.records(undefined);
      expect(all.length).toBe(6);
      for (const k of [0, all[0].id, all[2].id, all[5].id]) {
        expect(s.recordsAfter(k)).toEqual(all.filter((r) => r.id > k));
        expect(s.recordsAfter(k, 'r1')).toEqual(all.filter((r) => r.id > k && r.run === 'r1'));
      }
      s.close();
    });

    it('refuses a second live process, naming its pid; a dead one becomes killed and its run resumes', () => {
      const s = make();
      const now = new Date().toISOString();
      // a live process: our parent
      s.insertRun({ id: 'r1', experiment: 'x', configHash: 'h', config: cfg, status: 'running', start: now, heartbeat: now, pid: process.ppid, host: 'elsewhere', resumes: 0 });
      const busy = claimRun(s, { experiment: 'x', config: cfg, resume: true });
      expect(busy.kind).toBe('busy');
      if (busy.kind === 'busy') expect(busy.other.pid).toBe(process.ppid);
      // stale heartbeat: killed
      const old = new Date(Date.now() - 120_000).toISOString();
      s.updateRun('r1', { heartbeat: old });
      expect(effectiveStatus(s.runs()[0])).toBe('killed');
      const c = claimRun(s, { experiment: 'x', config: cfg, resume: true });
      expect(c.kind).toBe('resume');
      expect(c.kind === 'resume' && c.run.id).toBe('r1');
      expect(s.runs()[0]).toMatchObject({ status: 'running', pid: process.pid, resumes: 1 });
      s.close();
    });

    it('marks a run whose process is gone as killed at once (same host)', () => {
      const s = make();
      const now = new Date().toISOString();
      const c0 = claimRun(s, { experiment: 'x', config: cfg, resume: false });
      expect(c0.kind).toBe('new');
      s.updateRun('r1', { pid: deadPid(), heartbeat: now });
      expect(effectiveStatus(s.runs()[0])).toBe('killed');
      const c = claimRun(s, { experiment: 'x', config: cfg, resume: false });
      expect(c.kind === 'new' && c.run.id).toBe('r2');
      expect(s.runs().map((r) => r.status)).toEqual(['killed', 'running']);
      s.close();
    });

    it('refuses to resume with a changed config, listing the keys; force accepts; log_level may change', () => {
      const s = make();
      claimRun(s, { experiment: 'x', config: cfg, resume: false });
      s.updateRun('r1', { status: 'interrupted' });
      const changed = { ...cfg, seed: 2, estim: { s: { type: 'E', epochs: 3 } }, log_level: 'debug' };
      let err: unknown;
      try {
        claimRun(s, { experiment: 'x', config: changed, resume: true });
      } catch (e) {
        err = e;
      }
      expect(isModnasError(err) && err.code).toBe('MODNAS_E_RESUME_CONFIG_CHANGED');
      expect((err as Error).message).toContain('estim.s.epochs, seed');
      expect((err as Error).message).not.toContain('log_level');
      expect((err as Error).message).toContain('--force');
      const ok = claimRun(s, { experiment: 'x', config: { ...cfg, log_level: 'debug' }, resume: true });
      expect(ok.kind === 'resume' && ok.changedKeys).toEqual([]);
      s.updateRun('r1', { status: 'interrupted' });
      const forced = claimRun(s, { experiment: 'x', config: changed, resume: true, force: true });
      expect(forced.kind === 'resume' && forced.changedKeys).toEqual(['estim.s.epochs', 'seed']);
      s.close();
    });

    it('keeps the newest checkpoints of a run', () => {
      const s = make();
      claimRun(s, { experiment: 'x', config: cfg, resume: false });
      for (let i = 0; i < 4; i++) s.saveCheckpoint(checkpoint('r1', i, new Uint8Array([i, 1, 2])));
      s.pruneCheckpoints('r1', 2);
      const c = s.latestCheckpoint('r1');
      expect(c?.seq).toBe(4);
      expect(Array.from(c?.data ?? [])).toEqual([3, 1, 2]);
      expect(c?.watermark).toBe(3);
      expect(c?.size).toBe(3);
      expect(c?.sha256).toBe(createHash('sha256').update(new Uint8Array([3, 1, 2])).digest('hex'));
      s.close();
    });

    it('passes over a checkpoint whose data does not match its recorded size or SHA-256, naming it in skipped, for the one before', () => {
      const s = make();
      claimRun(s, { experiment: 'x', config: cfg, resume: false });
      const good = new Uint8Array(4096).map((_, i) => i % 251);
      s.saveCheckpoint(checkpoint('r1', 1, good));
      // written short, as a full disk leaves a payload: 2,048 of the 4,096 bytes the writer hashed
      s.saveCheckpoint(checkpoint('r1', 2, good.slice(0, 2048), good));
      // the right length, one byte different
      const flipped = good.slice();
      flipped[100] ^= 1;
      s.saveCheckpoint(checkpoint('r1', 3, flipped, good));
      const skipped: SkippedCheckpoint[] = [];
      const c = s.latestCheckpoint('r1', skipped);
      expect(c?.seq).toBe(1);
      expect(c?.watermark).toBe(1);
      expect(Array.from(c?.data ?? [])).toEqual(Array.from(good));
      expect(skipped.map((k) => [k.run, k.seq])).toEqual([
        ['r1', 3],
        ['r1', 2],
      ]);
      expect(skipped[0].reason).toMatch(/SHA-256/);
      expect(skipped[1].reason).toMatch(/2,048 of 4,096 bytes/);
      // without the list: the same checkpoint
      expect(s.latestCheckpoint('r1')?.seq).toBe(1);
      // a new checkpoint follows the newest seq, verified or not
      expect(s.saveCheckpoint(checkpoint('r1', 4, good)).seq).toBe(4);
      expect(s.latestCheckpoint('r1')?.seq).toBe(4);
      // none verifies: undefined, every one named
      s.updateRun('r1', { status: 'done' });
      expect(claimRun(s, { experiment: 'x', config: cfg, resume: false }).kind).toBe('new');
      s.saveCheckpoint(checkpoint('r2', 0, new Uint8Array([1]), new Uint8Array([2])));
      const none: SkippedCheckpoint[] = [];
      expect(s.latestCheckpoint('r2', none)).toBeUndefined();
      expect(none.map((k) => k.seq)).toEqual([1]);
      s.close();
    });

    it.skipIf(!opts.corruptCheckpoint)('passes over a checkpoint whose stored payload was damaged after it was written', () => {
      const s = make();
      claimRun(s, { experiment: 'x', config: cfg, resume: false });
      const data = (k: number): Uint8Array => new Uint8Array(2048).fill(k);
      for (let i = 1; i <= 3; i++) s.saveCheckpoint(checkpoint('r1', i, data(i)));
      opts.corruptCheckpoint!(s, 'r1', 3);
      const skipped: SkippedCheckpoint[] = [];
      const c = s.latestCheckpoint('r1', skipped);
      expect(c?.seq).toBe(2);
      expect(c?.data[0]).toBe(2);
      expect(skipped.map((k) => k.seq)).toEqual([3]);
      expect(skipped[0].reason.length).toBeGreaterThan(0);
      s.close();
    });

    it.skipIf(!another)('a second handle (another process) sees every change and cannot claim a live run', () => {
      const a = make();
      claimRun(a, { experiment: 'x', config: cfg, resume: false });
      a.activate('r1');
      a.append('candidates', { estim: 's', index: 0, arch: { op: 'a' }, status: 'done', score: 0.5 });
      a.updateRun('r1', { heartbeat: new Date().toISOString(), pid: process.ppid, host: 'elsewhere' });
      const b = another!(a);
      expect(b.runs().map((r) => r.id)).toEqual(['r1']);
      expect(b.records('candidates', 'r1').map((r) => r.record.score)).toEqual([0.5]);
      expect(claimRun(b, { experiment: 'x', config: cfg, resume: false }).kind).toBe('busy');
      b.activate('r1');
      b.append('notes', { from: 'b' });
      expect(a.records('notes', 'r1').map((r) => r.record)).toEqual([{ from: 'b' }]);
      expect(a.lastRecordId()).toBe(b.lastRecordId());
      a.close();
      b.close();
    });
  });
}
