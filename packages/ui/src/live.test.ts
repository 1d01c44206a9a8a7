// Live updates under load, counted at the store: one read of new records per experiment and poll
// however many pages watch it, only the records after the last read when the store can give them
// (recordsAfter), the runs table's counts kept from the same reads, a resumed run sent afresh, and
// no SQLite connection held between polls (the run's own writer then removes its WAL on closing).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry, defineComponent, definePlugin, z } from '@modnas/core';
import type { ExperimentStore, StoreFactory, StoredRecord } from '@modnas/services';
import { JournalStore } from '@modnas/store-journal';
import { SqliteStore } from '@modnas/store-sqlite';
import type { LiveUpdate } from './data.js';
import { StoreSet } from './data.js';

const SQLITE_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'plugins', 'store-sqlite', 'dist', 'index.js');

/** A run writing trials from its own process: a line "n" appends n trials, "close" ends the run and closes the store. */
const WRITER = `
import { createInterface } from 'node:readline';
const [db, mod] = process.argv.slice(1);
const { SqliteStore } = await import(mod);
const s = new SqliteStore(db, 'live');
const t = new Date().toISOString();
s.insertRun({ id: 'r1', experiment: 'live', configHash: 'h', config: {}, status: 'running', start: t, heartbeat: t, pid: process.pid, host: (await import('node:os')).hostname(), resumes: 0 });
s.activate('r1');
let i = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'close') {
    s.updateRun('r1', { status: 'done', end: new Date().toISOString() });
    s.close();
    console.log('closed');
    break;
  }
  for (let k = 0; k < Number(line); k++, i++) s.append('candidates', { estim: 's', index: i, arch: { a: i }, status: 'done', score: i / 1e4 });
  console.log('ok ' + i);
}
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

interface Calls {
  /** Stores opened (existing()). */
  opens: number;
  /** Full reads (records()), with their run filter. */
  records: Array<string | undefined>;
  /** recordsAfter(afterId) calls. */
  after: number[];
}

/** A registry whose only store reads journals read-only and counts what the dashboard asks of them. */
function countingRegistry(withRecordsAfter: boolean, openMs = 0): { registry: Registry; calls: Calls } {
  const calls: Calls = { opens: 0, records: [], after: [] };
  const factory: StoreFactory = {
    open: () => {
      throw new Error('read-only test store');
    },
    existing: (dir) => {
      if (!existsSync(join(dir, 'journal.jsonl'))) return undefined;
      calls.opens++;
      if (openMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, openMs); // a slow opening (a long journal replays)
      const s = new JournalStore(dir, basename(dir), undefined, { readOnly: true });
      return new Proxy(s, {
        get(target, key) {
          if (key === 'records') {
            return (stream: string | undefined, run?: string): StoredRecord[] => {
              calls.records.push(run);
              return target.records(stream, run);
            };
          }
          if (key === 'recordsAfter') {
            if (!withRecordsAfter) return undefined;
            return (afterId: number, run?: string): StoredRecord[] => {
              calls.after.push(afterId);
              return target.records(undefined, run).filter((r) => r.id > afterId);
            };
          }
          const v = Reflect.get(target, key, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
  };
  const registry = new Registry();
  registry.register(definePlugin({ meta: { name: '@test/store-counting', version: '1.0.0' }, components: [defineComponent({ kind: 'store', id: 'CountingStore', description: 'journal stores, reads counted', schema: z.strictObject({}), create: () => factory })] }));
  return { registry, calls };
}

function runningExperiment(kind: 'journal' | 'sqlite', trials: number): { root: string; store: ExperimentStore; add: (n: number) => void } {
  const root = mkdtempSync(join(tmpdir(), 'modnas-ui-live-'));
  roots.push(root);
  mkdirSync(join(root, 'live'));
  const store = kind === 'journal' ? new JournalStore(join(root, 'live'), 'live') : new SqliteStore(join(root, 'live', 'modnas.db'), 'live');
  const t = new Date().toISOString();
  store.insertRun({ id: 'r1', experiment: 'live', configHash: 'h', config: {}, status: 'running', start: t, heartbeat: t, pid: process.pid, host: 'here', resumes: 0 });
  store.activate('r1');
  let i = 0;
  const add = (n: number): void => {
    for (let k = 0; k < n; k++, i++) store.append('candidates', { estim: 's', index: i, arch: { a: i }, status: 'done', score: i / 1e4 });
  };
  add(trials);
  return { root, store, add };
}

/** Ten pages watching r1: the updates each one got. */
async function tenPages(stores: StoreSet): Promise<{ got: LiveUpdate[][]; stop(): void }> {
  const got: LiveUpdate[][] = [];
  const stops: Array<() => void> = [];
  for (let p = 0; p < 10; p++) {
    const mine: LiveUpdate[] = [];
    got.push(mine);
    stops.push(stores.follow('live', 'r1', 0, (u) => mine.push(u)));
  }
  return { got, stop: () => stops.forEach((s) => s()) };
}

const trialIds = (us: LiveUpdate[]): number[] => us.flatMap((u) => u.records.map((r) => r.id));

describe('live updates', () => {
  for (const withRecordsAfter of [true, false]) {
    it(`ten pages share one read per poll${withRecordsAfter ? ', which reads only the new records' : ' (a store without recordsAfter: one full read per poll, not ten)'}`, async () => {
      const { root, store, add } = runningExperiment('journal', 200);
      const { registry, calls } = countingRegistry(withRecordsAfter);
      const pollMs = 40;
      const stores = await StoreSet.open(root, registry, { pollMs });
      try {
        const pages = await tenPages(stores);
        // each page got the 200 trials once, at once
        for (const g of pages.got) expect(trialIds(g)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        calls.records.length = 0;
        calls.after.length = 0;
        const t0 = Date.now();
        for (let k = 0; k < 10; k++) {
          add(5);
          await sleep(30);
        }
        await sleep(4 * pollMs);
        const polls = (Date.now() - t0) / pollMs;
        // every page got every new trial exactly once, in order
        for (const g of pages.got) expect(trialIds(g)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
        const reads = withRecordsAfter ? calls.after.length : calls.records.length;
        expect(reads).toBeGreaterThan(2);
        expect(reads).toBeLessThanOrEqual(Math.ceil(polls) + 2); // one per poll; a read per page would be ten
        if (withRecordsAfter) {
          expect(calls.records).toEqual([]); // no full read once the experiment was read
          // each read starts where the one before ended
          for (let k = 1; k < calls.after.length; k++) expect(calls.after[k]).toBeGreaterThan(calls.after[k - 1]);
          expect(calls.after[0]).toBe(200);
        }
        // the runs table counts from the same reads
        const before = calls.records.length;
        const [exp] = await stores.experiments();
        expect(exp.runs[0]).toMatchObject({ id: 'r1', status: 'running', trials: 250, best: 249 / 1e4 });
        if (withRecordsAfter) expect(calls.records.length).toBe(before);
        pages.stop();
      } finally {
        stores.close();
        store.close();
      }
    });
  }

  it('a store that opens fast is opened for each read; one slow to open (a long journal) is kept', async () => {
    const { root, store, add } = runningExperiment('journal', 20);
    try {
      for (const [openMs, kept] of [
        [0, false],
        [40, true],
      ] as const) {
        const { registry, calls } = countingRegistry(true, openMs);
        const stores = await StoreSet.open(root, registry, { pollMs: 20 });
        const stop = stores.follow('live', 'r1', 0, () => undefined);
        const before = calls.opens;
        for (let k = 0; k < 10; k++) {
          add(1);
          await sleep(25);
        }
        const opened = calls.opens - before;
        if (kept) expect(opened).toBeLessThanOrEqual(1);
        else expect(opened).toBeGreaterThanOrEqual(8); // one per poll
        stop();
        stores.close();
      }
    } finally {
      store.close();
    }
  });

  it('a resumed run is sent afresh (its records after the checkpoint were rewritten) and recounted', async () => {
    const { root, store, add } = runningExperiment('journal', 20);
    const { registry } = countingRegistry(true);
    const stores = await StoreSet.open(root, registry, { pollMs: 30 });
    try {
      const got: LiveUpdate[] = [];
      const stop = stores.follow('live', 'r1', 0, (u) => got.push(u));
      expect((await stores.experiments())[0].runs[0].trials).toBe(20);
      store.truncateRecords('r1', 10);
      store.updateRun('r1', { resumes: 1 });
      add(3);
      await sleep(200);
      expect(got.some((u) => u.reset)).toBe(true);
      expect((await stores.experiments())[0].runs[0]).toMatchObject({ trials: 13, resumes: 1 });
      stop();
    } finally {
      stores.close();
      store.close();
    }
  });

  it('holds no SQLite connection between polls, so the writer removes its WAL when it closes', async () => {
    // the run writes from its own process, as a search does (in one process SQLite defers closing a
    // second connection's file while the first holds locks, which would blur the count)
    const root = mkdtempSync(join(tmpdir(), 'modnas-ui-live-'));
    roots.push(root);
    mkdirSync(join(root, 'live'));
    const db = join(root, 'live', 'modnas.db');
    const writer = spawn(process.execPath, ['--input-type=module', '-e', WRITER, db, pathToFileURL(SQLITE_DIST).href], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: writer.stdout });
    const said: string[] = [];
    lines.on('line', (l) => said.push(l));
    const tell = async (cmd: string): Promise<void> => {
      const n = said.length;
      writer.stdin.write(cmd + '\n');
      const deadline = Date.now() + 20_000;
      while (said.length === n && Date.now() < deadline) await sleep(5);
      expect(said.length, `writer answered ${cmd}`).toBe(n + 1);
    };
    const open = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === db;
        } catch {
          return false;
        }
      }).length;
    try {
      await tell('50');
      // the count sees a read-only connection when there is one
      const reader = new SqliteStore(db, 'live', undefined, { readOnly: true });
      reader.lastRecordId();
      expect(open()).toBe(1);
      reader.close();
      expect(open()).toBe(0);
      const stores = await StoreSet.open(root, undefined, { pollMs: 20 });
      const got: LiveUpdate[] = [];
      const stop = stores.follow('live', 'r1', 0, (u) => got.push(u));
      for (let k = 0; k < 10; k++) {
        await tell('20');
        await sleep(15);
        expect(open()).toBe(0);
      }
      await sleep(100);
      expect(trialIds(got)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
      expect((await stores.experiments())[0].runs[0]).toMatchObject({ trials: 250, status: 'running' });
      expect(existsSync(`${db}-wal`)).toBe(true);
      stop();
      await tell('close');
      expect(existsSync(`${db}-wal`)).toBe(false);
      expect((await stores.experiments())[0].runs[0]).toMatchObject({ trials: 250, status: 'done' });
      stores.close();
    } finally {
      writer.kill();
    }
  });
});
