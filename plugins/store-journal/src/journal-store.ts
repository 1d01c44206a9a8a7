/**
 * The experiment store as an append-only journal (Optuna's JournalFileStorage is the model): one
 * JSON line per change in `journal.jsonl`, checkpoint payloads as files beside it. No native
 * module, so it is the store of installs without @modnas/store-sqlite. Every process replays the
 * journal into a MemoryExperimentStore and appends its own changes under a lock file, so runs are
 * claimed atomically across processes; a process killed mid-write leaves a torn last line, which
 * readers skip and the next writer cuts off before appending.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { DISK_SITES, appendFileWhole, guardedWrite, ioError, testKillPoint, writeAll, writeFileAtomic } from '@modnas/kit-io';
import type { CheckpointRecord, ExperimentStore, NewCheckpoint, RunRecord, SkippedCheckpoint, StoreFactory, StoredRecord } from '@modnas/services';
import { MemoryExperimentStore, checkpointFault, isPidAlive, jsonSafe } from '@modnas/services';

export const journalStoreSchema = z.strictObject({
  file: z.string().min(1).default('journal.jsonl').describe('The journal file, relative to the experiment folder (checkpoints go to checkpoints/ beside it)'),
  fsync: z.boolean().default(false).describe('fsync after every change: safe against power loss too (a killed process loses nothing either way)'),
  lock_timeout_ms: z.number().int().nonnegative().default(10_000).describe('How long a change waits for another process holding the journal lock'),
  stale_lock_ms: z.number().int().positive().default(30_000).describe("A lock older than this is taken over (a crashed process on another host); on this host a dead holder's lock is taken over at once"),
});
export type JournalStoreConfig = z.output<typeof journalStoreSchema>;

const FORMAT = 1;

type Op =
  | { o: 'journal'; format: number; experiment: string; created: string }
  | { o: 'run'; run: RunRecord }
  | { o: 'update'; id: string; patch: Partial<Omit<RunRecord, 'id'>> }
  | { o: 'record'; id: number; run: string; stream: string; record: Record<string, unknown> }
  | { o: 'truncate'; run: string; watermark: number }
  // size and sha256: of the payload file (absent in lines written before they were recorded)
  | { o: 'checkpoint'; run: string; seq: number; estim: string; kind: string; time: string; watermark: number; file: string; size?: number; sha256?: string }
  | { o: 'prune'; run: string; keep: number };

const NO_DATA = new Uint8Array(0);

/** The payload file of a checkpoint, in checkpoints/ (the journal line names it too). */
const ckptName = (run: string, seq: number): string => `${run}-${seq}.ckpt`;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class JournalStore implements ExperimentStore {
  readonly location: string;
  readonly file: string;
  private readonly lockFile: string;
  private readonly ckptDir: string;
  private state = new MemoryExperimentStore();
  /** Bytes of the journal replayed into `state`. */
  private offset = 0;
  /** Lines in the journal that did not parse (torn by a crash) and were skipped. */
  skipped = 0;
  private depth = 0;
  private pending: string[] = [];
  private active = '';

  constructor(
    readonly dir: string,
    private readonly experiment: string,
    private readonly config: JournalStoreConfig = journalStoreSchema.parse({}),
    private readonly opts: { readOnly?: boolean } = {},
  ) {
    this.file = join(dir, config.file);
    this.lockFile = `${this.file}.lock`;
    this.ckptDir = join(dir, 'checkpoints');
    this.location = `journal ${this.file}`;
    if (opts.readOnly) {
      if (!existsSync(this.file)) throw new ModnasError('MODNAS_E_STORE_MISSING', `there is no journal at ${this.file}`, { fix: 'pass the folder of an experiment that has run', where: dir });
      this.sync(false);
      return;
    }
    guardedWrite('the experiment store', this.file, () => mkdirSync(dir, { recursive: true }));
    this.transaction(() => {
      if (this.offset === 0) this.mutate({ o: 'journal', format: FORMAT, experiment, created: new Date().toISOString() });
    });
  }

  // ------------------------------------------------------------ the journal

  /** Replay what other processes appended since the last call. With `repair` (lock held) cut off a torn tail. */
  private sync(repair: boolean): void {
    if (!existsSync(this.file)) return;
    const fd = openSync(this.file, repair ? 'r+' : 'r');
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        // shorter than what was read: only a repair of a torn tail does that, so start over
        this.rebuild();
        return;
      }
      if (size === this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      const end = buf.lastIndexOf(0x0a);
      if (end >= 0) {
        for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
          if (!line) continue;
          let op: Op;
          try {
            op = JSON.parse(line) as Op;
          } catch {
            this.skipped++;
            continue;
          }
          this.apply(op);
        }
        this.offset += end + 1;
      }
      if (repair && this.offset < size) ftruncateSync(fd, this.offset);
    } finally {
      closeSync(fd);
    }
  }

  private rebuild(): void {
    this.state = new MemoryExperimentStore();
    this.offset = 0;
    this.skipped = 0;
    this.sync(false);
  }

  private apply(op: Op): number | CheckpointRecord | undefined {
    const s = this.state;
    switch (op.o) {
      case 'journal':
        if (op.format !== FORMAT) {
          throw new ModnasError('MODNAS_E_STORE_FORMAT', `${this.file} is journal format ${op.format}; this @modnas reads format ${FORMAT}`, {
            fix: 'open it with the @modnas version that wrote it, or start the experiment in a new folder',
            where: this.file,
          });
        }
        return undefined;
      case 'run':
        s.insertRun(op.run);
        return undefined;
      case 'update':
        s.updateRun(op.id, op.patch);
        return undefined;
      case 'record':
        s.activate(op.run);
        s.append(op.stream, op.record);
        return undefined;
      case 'truncate':
        return s.truncateRecords(op.run, op.watermark);
      case 'checkpoint':
        return s.saveCheckpoint({ run: op.run, estim: op.estim, kind: op.kind, time: op.time, watermark: op.watermark, size: op.size, sha256: op.sha256, data: NO_DATA });
      case 'prune':
        s.pruneCheckpoints(op.run, op.keep);
        return undefined;
    }
  }

  /** Apply a change here and queue its line for the transaction's write. */
  private mutate(op: Op): ReturnType<JournalStore['apply']> {
    return this.transaction(() => {
      const r = this.apply(op);
      this.pending.push(JSON.stringify(op, jsonSafe));
      return r;
    });
  }

  private lock(): void {
    const deadline = Date.now() + this.config.lock_timeout_ms;
    for (;;) {
      let fd: number | undefined;
      try {
        fd = openSync(this.lockFile, 'wx');
        writeAll(fd, Buffer.from(`${process.pid} ${hostname()}`), DISK_SITES.lock, this.lockFile);
        closeSync(fd);
        return;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST') {
          // a lock file without its holder (a full disk took the line) would read as held by an unknown process
          if (fd !== undefined) {
            try {
              closeSync(fd);
              unlinkSync(this.lockFile);
            } catch {
              // left behind: taken over as stale (a dead holder on this host at once; it names none, so after stale_lock_ms)
            }
          }
          throw ioError(e, 'the journal lock', this.lockFile);
        }
      }
      if (this.lockIsStale()) {
        try {
          unlinkSync(this.lockFile);
        } catch {
          // another process took it over first
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new ModnasError('MODNAS_E_STORE_BUSY', `the journal ${this.file} stayed locked for ${this.config.lock_timeout_ms} ms (held by ${this.lockHolder() || 'an unknown process'})`, {
          fix: `wait for the other process, or raise store.lock_timeout_ms; if no process holds it, delete ${this.lockFile}`,
          where: this.lockFile,
        });
      }
      sleepSync(2);
    }
  }

  private lockHolder(): string {
    try {
      return readFileSync(this.lockFile, 'utf8');
    } catch {
      return '';
    }
  }

  private lockIsStale(): boolean {
    try {
      const [pid, host] = this.lockHolder().split(' ');
      if (host === hostname() && Number(pid) > 0 && !isPidAlive(Number(pid))) return true;
      return Date.now() - statSync(this.lockFile).mtimeMs > this.config.stale_lock_ms;
    } catch {
      return false;
    }
  }

  /** Append a transaction's lines whole (a full disk leaves the journal as it was: kit-io's appendFileWhole). */
  private write(lines: string[]): void {
    guardedWrite('the experiment store', this.file, () => {
      this.offset += appendFileWhole(this.file, lines.join('\n') + '\n', { site: DISK_SITES.store, fsync: this.config.fsync });
    });
  }

  transaction<T>(fn: () => T): T {
    if (this.opts.readOnly) throw new ModnasError('MODNAS_E_STORE_READONLY', `${this.location} is open for reading only`, { fix: 'open it without readOnly to change it' });
    if (this.depth > 0) return fn();
    this.lock();
    try {
      this.sync(true);
      this.depth++;
      let result: T;
      try {
        result = fn();
        if (this.pending.length) this.write(this.pending);
      } catch (e) {
        // what this transaction applied in memory is not in the file: replay the file instead
        this.pending = [];
        this.rebuild();
        throw e;
      } finally {
        this.depth--;
      }
      this.pending = [];
      return result;
    } finally {
      try {
        unlinkSync(this.lockFile);
      } catch {
        // taken over as stale: nothing to release
      }
    }
  }

  private fresh(): MemoryExperimentStore {
    if (this.depth === 0) this.sync(false);
    return this.state;
  }

  // ------------------------------------------------------------ ExperimentStore

  runs(): RunRecord[] {
    return this.fresh().runs();
  }

  insertRun(run: RunRecord): void {
    this.mutate({ o: 'run', run });
  }

  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): void {
    this.mutate({ o: 'update', id, patch });
  }

  activate(runId: string): void {
    this.active = runId;
  }

  append(stream: string, record: Record<string, unknown>): void {
    this.transaction(() => this.mutate({ o: 'record', id: this.state.lastRecordId() + 1, run: this.active, stream, record }));
  }

  read(stream: string): Array<Record<string, unknown>> {
    return this.records(stream, this.active).map((r) => r.record);
  }

  records(stream: string | undefined, runId?: string): StoredRecord[] {
    return this.fresh().records(stream, runId);
  }

  recordsAfter(afterId: number, runId?: string): StoredRecord[] {
    return this.fresh().recordsAfter(afterId, runId);
  }

  lastRecordId(): number {
    return this.fresh().lastRecordId();
  }

  truncateRecords(runId: string, watermark: number): number {
    return this.mutate({ o: 'truncate', run: runId, watermark }) as number;
  }

  saveCheckpoint(c: NewCheckpoint): CheckpointRecord {
    return this.transaction(() => {
      const seq = (this.state.checkpoints(c.run).at(-1)?.seq ?? 0) + 1;
      const file = ckptName(c.run, seq);
      guardedWrite('a checkpoint', join(this.ckptDir, file), () => writeFileAtomic(join(this.ckptDir, file), c.data, { site: DISK_SITES.checkpoint }));
      // The fault suite kills here: the payload is written, the journal does not name it yet.
      testKillPoint('checkpoint');
      this.mutate({ o: 'checkpoint', run: c.run, seq, estim: c.estim, kind: c.kind, time: c.time, watermark: c.watermark, file, size: c.size, sha256: c.sha256 });
      return { ...c, seq };
    });
  }

  latestCheckpoint(runId: string, skipped?: SkippedCheckpoint[]): CheckpointRecord | undefined {
    for (const c of this.fresh().checkpoints(runId).reverse()) {
      const name = `checkpoints/${ckptName(runId, c.seq)}`;
      let data: Uint8Array;
      try {
        data = new Uint8Array(readFileSync(join(this.ckptDir, ckptName(runId, c.seq))));
      } catch (e) {
        skipped?.push({ run: runId, seq: c.seq, reason: `${name} cannot be read (${(e as { code?: string }).code ?? (e as Error).message})` });
        continue;
      }
      const fault = checkpointFault({ data, size: c.size, sha256: c.sha256 });
      if (fault === undefined) return { ...c, data };
      skipped?.push({ run: runId, seq: c.seq, reason: `${name}: ${fault}` });
    }
    return undefined;
  }

  pruneCheckpoints(runId: string, keep: number): void {
    this.transaction(() => {
      this.mutate({ o: 'prune', run: runId, keep });
      // after the journal says so: a kill in between leaves files nothing names, removed next time
      const latest = this.state.checkpoints(runId).at(-1)?.seq ?? 0;
      for (const f of existsSync(this.ckptDir) ? readdirSync(this.ckptDir) : []) {
        const m = /^(.+)-(\d+)\.ckpt$/.exec(f);
        if (m && m[1] === runId && Number(m[2]) <= latest - keep) unlinkSync(join(this.ckptDir, f));
      }
    });
  }

  close(): void {}
}

export const journalStore = defineComponent({
  kind: 'store',
  id: 'JournalStore',
  description: 'The experiment store as an append-only JSON-lines journal per experiment folder (no native module): runs, trials, epoch metrics, checkpoints',
  schema: journalStoreSchema,
  create(config): StoreFactory {
    return {
      open: ({ dir, experiment }) => new JournalStore(dir, experiment, config),
      existing: (dir) => (existsSync(join(dir, config.file)) ? new JournalStore(dir, basename(dir), config, { readOnly: true }) : undefined),
    };
  },
});
