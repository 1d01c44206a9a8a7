/**
 * The in-memory experiment store: the contract's reference implementation, the store of runs kept
 * in memory (benchmark repeats, `persist: false`), the result store of contexts that keep nothing
 * (remote workers, export, tests), and the state a journal replays into.
 */
import type { CheckpointRecord, ExperimentStore, RunRecord, SkippedCheckpoint, StoredRecord } from './contract.js';
import { checkpointFault } from './checkpoint.js';
import { jsonSafe } from './json.js';

/** Runs, records and checkpoints in arrays; a record is stored as JSON gives it back (jsonSafe), as a store on disk does. */
export class MemoryExperimentStore implements ExperimentStore {
  readonly location = 'memory';
  private readonly runList: RunRecord[] = [];
  private readonly recs: StoredRecord[] = [];
  private readonly ckpts: CheckpointRecord[] = [];
  private nextId = 1;
  private active: string | undefined;

  transaction<T>(fn: () => T): T {
    return fn();
  }
  runs(): RunRecord[] {
    return this.runList.map((r) => ({ ...r }));
  }
  insertRun(run: RunRecord): void {
    this.runList.push({ ...run });
  }
  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): void {
    const r = this.runList.find((x) => x.id === id);
    if (r) Object.assign(r, patch);
  }
  activate(runId: string): void {
    this.active = runId;
  }
  append(stream: string, record: Record<string, unknown>): void {
    this.recs.push({ id: this.nextId++, run: this.active ?? '', stream, record: JSON.parse(JSON.stringify(record, jsonSafe)) });
  }
  read(stream: string): Array<Record<string, unknown>> {
    return this.records(stream, this.active).map((r) => r.record);
  }
  records(stream: string | undefined, runId?: string): StoredRecord[] {
    return this.recs.filter((r) => (stream === undefined || r.stream === stream) && (runId === undefined || r.run === runId));
  }
  recordsAfter(afterId: number, runId?: string): StoredRecord[] {
    // ids increase along the array: the first one above afterId by halving
    let lo = 0;
    let hi = this.recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.recs[mid].id <= afterId) lo = mid + 1;
      else hi = mid;
    }
    return this.recs.slice(lo).filter((r) => runId === undefined || r.run === runId);
  }
  lastRecordId(): number {
    return this.nextId - 1;
  }
  truncateRecords(runId: string, watermark: number): number {
    let n = 0;
    for (let i = this.recs.length - 1; i >= 0; i--) {
      if (this.recs[i].run === runId && this.recs[i].id > watermark) {
        this.recs.splice(i, 1);
        n++;
      }
    }
    return n;
  }
  /** (Takes records without size and sha256 too: the journal replays checkpoints written before they were recorded.) */
  saveCheckpoint(c: Omit<CheckpointRecord, 'seq'>): CheckpointRecord {
    // after the newest, kept or pruned: seqs never repeat within a run
    const seq = (this.checkpoints(c.run).at(-1)?.seq ?? 0) + 1;
    const rec = { ...c, seq };
    this.ckpts.push(rec);
    return rec;
  }
  /** A run's kept checkpoints, oldest first, unverified. */
  checkpoints(runId: string): CheckpointRecord[] {
    return this.ckpts.filter((x) => x.run === runId);
  }
  latestCheckpoint(runId: string, skipped?: SkippedCheckpoint[]): CheckpointRecord | undefined {
    for (const c of this.checkpoints(runId).reverse()) {
      const reason = checkpointFault(c);
      if (reason === undefined) return c;
      skipped?.push({ run: runId, seq: c.seq, reason });
    }
    return undefined;
  }
  pruneCheckpoints(runId: string, keep: number): void {
    const mine = this.ckpts.filter((x) => x.run === runId);
    for (const c of mine.slice(0, Math.max(mine.length - keep, 0))) this.ckpts.splice(this.ckpts.indexOf(c), 1);
  }
  close(): void {}
}
