import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { defineComponent, z } from '@modnas/core';
import { DISK_SITES, guardedWrite, ioError, testDiskWrite, testKillPoint } from '@modnas/kit-io';
import type { CheckpointRecord, ExperimentStore, NewCheckpoint, RunRecord, SkippedCheckpoint, StoreFactory, StoredRecord } from '@modnas/services';
import { checkpointFault, jsonSafe } from '@modnas/services';

export const sqliteStoreSchema = z.strictObject({
  file: z.string().default('modnas.db').describe('Database file, relative to the experiment folder'),
  busy_timeout_ms: z.number().int().nonnegative().default(10_000).describe('How long a write waits for another process holding the lock'),
  synchronous: z.enum(['off', 'normal', 'full']).default('normal').describe("SQLite's synchronous pragma: 'normal' is safe in WAL mode against crashes of the process (kill -9), 'full' also against power loss"),
});
export type SqliteStoreConfig = z.output<typeof sqliteStoreSchema>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS experiments (name TEXT PRIMARY KEY, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, experiment TEXT NOT NULL REFERENCES experiments(name), config_hash TEXT NOT NULL, config TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running','done','failed','interrupted','killed')),
  start TEXT NOT NULL, end TEXT, heartbeat TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, resumes INTEGER NOT NULL DEFAULT 0,
  ord INTEGER NOT NULL
);
-- one id sequence over every stream, so a checkpoint's watermark covers them all
CREATE TABLE IF NOT EXISTS record_ids (id INTEGER PRIMARY KEY AUTOINCREMENT);
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY, run TEXT NOT NULL REFERENCES runs(id), stream TEXT NOT NULL, estim TEXT, idx INTEGER,
  arch TEXT, metrics TEXT, status TEXT, score REAL, seconds REAL, worker TEXT, record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS epoch_metrics (
  id INTEGER PRIMARY KEY, run TEXT NOT NULL REFERENCES runs(id), estim TEXT, epoch INTEGER, metrics TEXT, record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, run TEXT NOT NULL REFERENCES runs(id), stream TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
  run TEXT NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, estim TEXT NOT NULL, kind TEXT NOT NULL, time TEXT NOT NULL,
  watermark INTEGER NOT NULL, data BLOB NOT NULL, size INTEGER, sha256 TEXT, PRIMARY KEY (run, seq)
);
CREATE INDEX IF NOT EXISTS trials_run ON trials(run, stream, id);
CREATE INDEX IF NOT EXISTS epoch_metrics_run ON epoch_metrics(run, id);
CREATE INDEX IF NOT EXISTS records_run ON records(run, stream, id);
`;

/** Streams with a table of their own: the estimators' candidates and tabular trials, and epoch metrics. */
const TRIAL_STREAMS = new Set(['candidates', 'trials']);
const METRIC_STREAM = 'metrics';

interface RunRow {
  id: string;
  experiment: string;
  config_hash: string;
  config: string;
  status: RunRecord['status'];
  start: string;
  end: string | null;
  heartbeat: string;
  pid: number;
  host: string;
  resumes: number;
}

/**
 * The fault suite's full disk (MODNAS_TEST_DISK_FULL_AT=store@n / checkpoint@n, kit-io's fault points):
 * the error SQLite gives when a page cannot be written, thrown where SQLite would throw it, so the
 * transaction rolls back as it does on a real full disk.
 */
function testDiskFull(site: string): void {
  if (testDiskWrite(site, 1) === 0) throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
}

interface CheckpointRow extends Omit<CheckpointRecord, 'data' | 'size' | 'sha256'> {
  data: Buffer;
  size: number | null;
  sha256: string | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v, jsonSafe));

/**
 * The experiment store in one SQLite file per experiment folder (WAL mode: readers never block
 * the run, and a killed process leaves the last committed transaction intact). Runs, trials
 * (arch, metrics, status incl. diverged, seconds, worker), epoch metrics and checkpoints have
 * tables of their own; other streams go to `records`.
 */
export class SqliteStore implements ExperimentStore {
  readonly location: string;
  private readonly db: Database.Database;
  private active = '';
  private readonly stmts;

  constructor(
    readonly file: string,
    experiment: string,
    config: SqliteStoreConfig = sqliteStoreSchema.parse({}),
    opts: { readOnly?: boolean } = {},
  ) {
    this.location = `sqlite ${file}`;
    this.db = guardedWrite('the experiment store', file, () => {
      if (opts.readOnly) return new Database(file, { readonly: true, fileMustExist: true, timeout: config.busy_timeout_ms });
      const db = new Database(file, { timeout: config.busy_timeout_ms });
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${config.synchronous.toUpperCase()}`);
      db.pragma('foreign_keys = ON');
      db.exec(SCHEMA);
      // files made before checkpoints recorded their size and SHA-256: those rows keep NULL (not verified)
      const cols = (db.prepare('PRAGMA table_info(checkpoints)').all() as Array<{ name: string }>).map((c) => c.name);
      if (!cols.includes('sha256')) db.exec('ALTER TABLE checkpoints ADD COLUMN size INTEGER; ALTER TABLE checkpoints ADD COLUMN sha256 TEXT;');
      db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('format', '1');
      db.prepare('INSERT OR IGNORE INTO experiments (name, created) VALUES (?, ?)').run(experiment, new Date().toISOString());
      return db;
    });
    const db = this.db;
    this.stmts = {
      newId: db.prepare('INSERT INTO record_ids DEFAULT VALUES'),
      trial: db.prepare('INSERT INTO trials (id, run, stream, estim, idx, arch, metrics, status, score, seconds, worker, record) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)'),
      metric: db.prepare('INSERT INTO epoch_metrics (id, run, estim, epoch, metrics, record) VALUES (?,?,?,?,?,?)'),
      record: db.prepare('INSERT INTO records (id, run, stream, record) VALUES (?,?,?,?)'),
      lastId: db.prepare("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'record_ids'), 0) AS id"),
      runs: db.prepare('SELECT * FROM runs ORDER BY ord'),
      ckptSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM checkpoints WHERE run = ?'),
      ckptSeqs: db.prepare('SELECT seq FROM checkpoints WHERE run = ? ORDER BY seq DESC'),
      ckptAt: db.prepare('SELECT * FROM checkpoints WHERE run = ? AND seq = ?'),
    };
  }

  /** A write, its failure coded by kit-io (SQLITE_FULL: the disk is full). A simulated full disk fails it before it starts. */
  private write<T>(what: string, fn: () => T, site: string = DISK_SITES.store): T {
    return guardedWrite(what, this.file, () => {
      testDiskFull(site);
      return fn();
    });
  }

  transaction<T>(fn: () => T): T {
    // IMMEDIATE: take the write lock first, so two processes claiming a run serialise.
    return this.write('the experiment store', () => this.db.transaction(fn).immediate());
  }

  runs(): RunRecord[] {
    return (this.stmts.runs.all() as RunRow[]).map((r) => ({
      id: r.id,
      experiment: r.experiment,
      configHash: r.config_hash,
      config: JSON.parse(r.config),
      status: r.status,
      start: r.start,
      ...(r.end ? { end: r.end } : {}),
      heartbeat: r.heartbeat,
      pid: r.pid,
      host: r.host,
      resumes: r.resumes,
    }));
  }

  insertRun(run: RunRecord): void {
    this.write('a run', () =>
      this.db
        .prepare('INSERT INTO runs (id, experiment, config_hash, config, status, start, end, heartbeat, pid, host, resumes, ord) VALUES (?,?,?,?,?,?,?,?,?,?,?, (SELECT COUNT(*) FROM runs))')
        .run(run.id, run.experiment, run.configHash, JSON.stringify(run.config, jsonSafe), run.status, run.start, run.end ?? null, run.heartbeat, run.pid, run.host, run.resumes),
    );
  }

  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): void {
    const cols: Record<string, string> = { experiment: 'experiment', configHash: 'config_hash', config: 'config', status: 'status', start: 'start', end: 'end', heartbeat: 'heartbeat', pid: 'pid', host: 'host', resumes: 'resumes' };
    const sets: string[] = [];
    const vals: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (!(k in cols)) continue;
      sets.push(`${cols[k]} = ?`);
      vals.push(k === 'config' ? JSON.stringify(v, jsonSafe) : (v ?? null));
    }
    if (sets.length === 0) return;
    this.write('a run', () => this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...vals, id));
  }

  activate(runId: string): void {
    this.active = runId;
  }

  append(stream: string, record: Record<string, unknown>): void {
    const run = this.active;
    this.write(`the "${stream}" record`, () =>
      this.db.transaction(() => {
        const id = Number(this.stmts.newId.run().lastInsertRowid);
        const text = JSON.stringify(record, jsonSafe);
        if (TRIAL_STREAMS.has(stream)) {
          const r = record as { estim?: unknown; index?: unknown; query?: unknown; arch?: unknown; metrics?: unknown; status?: unknown; score?: unknown; fitness?: unknown; seconds?: unknown; worker?: unknown };
          const idx = num(r.index) ?? num(r.query);
          const { estim: _e, index: _i, query: _q, arch: _a, status: _s, score: _sc, seconds: _sec, worker: _w, time: _t, row: _r, ...rest } = record;
          const metrics = r.metrics ?? rest;
          this.stmts.trial.run(id, run, stream, typeof r.estim === 'string' ? r.estim : null, idx, json(r.arch), json(metrics), typeof r.status === 'string' ? r.status : 'done', num(r.score) ?? num(r.fitness), num(r.seconds), typeof r.worker === 'string' ? r.worker : `pid ${process.pid}`, text);
        } else if (stream === METRIC_STREAM) {
          const { estim, epoch, epochs: _n, time: _t, ...metrics } = record;
          this.stmts.metric.run(id, run, typeof estim === 'string' ? estim : null, num(epoch), json(metrics), text);
        } else {
          this.stmts.record.run(id, run, stream, text);
        }
      })(),
    );
  }

  read(stream: string): Array<Record<string, unknown>> {
    return this.records(stream, this.active).map((r) => r.record);
  }

  records(stream: string | undefined, runId?: string): StoredRecord[] {
    return this.select(stream, runId);
  }

  recordsAfter(afterId: number, runId?: string): StoredRecord[] {
    return this.select(undefined, runId, afterId);
  }

  /** One query over the three tables, in id order; `afterId`: only the newer records (a range on the primary keys). */
  private select(stream: string | undefined, runId?: string, afterId?: number): StoredRecord[] {
    const parts: string[] = [];
    const where = (extra: string[]): string => (extra.length ? `WHERE ${extra.join(' AND ')}` : '');
    const args: unknown[] = [];
    const cond: string[] = [];
    if (afterId !== undefined) cond.push('id > ?');
    if (runId !== undefined) cond.push('run = ?');
    const streamCond = stream === undefined ? [] : ['stream = ?'];
    // one query over the three tables, in id order
    const add = (sql: string, hasStream: boolean, fixedStream?: string): void => {
      if (stream !== undefined && fixedStream !== undefined && fixedStream !== stream) return;
      parts.push(`${sql} ${where([...cond, ...(hasStream ? streamCond : [])])}`);
      if (afterId !== undefined) args.push(afterId);
      if (runId !== undefined) args.push(runId);
      if (hasStream && stream !== undefined) args.push(stream);
    };
    add('SELECT id, run, stream, record FROM trials', true);
    add(`SELECT id, run, '${METRIC_STREAM}' AS stream, record FROM epoch_metrics`, false, METRIC_STREAM);
    add('SELECT id, run, stream, record FROM records', true);
    if (parts.length === 0) return [];
    const rows = this.db.prepare(`${parts.join(' UNION ALL ')} ORDER BY id`).all(...args) as Array<{ id: number; run: string; stream: string; record: string }>;
    return rows.map((r) => ({ id: r.id, run: r.run, stream: r.stream, record: JSON.parse(r.record) as Record<string, unknown> }));
  }

  lastRecordId(): number {
    return (this.stmts.lastId.get() as { id: number }).id;
  }

  truncateRecords(runId: string, watermark: number): number {
    return this.write('the experiment store', () =>
      this.db.transaction(() => {
        let n = 0;
        for (const t of ['trials', 'epoch_metrics', 'records']) n += this.db.prepare(`DELETE FROM ${t} WHERE run = ? AND id > ?`).run(runId, watermark).changes;
        return n;
      }).immediate(),
    );
  }

  saveCheckpoint(c: NewCheckpoint): CheckpointRecord {
    // IMMEDIATE: a transaction that reads, then writes, must take the write lock first (waiting up to
    // busy_timeout); a deferred one fails at once with "database is locked" when another process
    // wrote after its read (SQLite cannot upgrade a stale snapshot), e.g. a second `modnas run --wait`
    return guardedWrite('a checkpoint', this.file, () =>
      this.db.transaction(() => {
        const seq = (this.stmts.ckptSeq.get(c.run) as { seq: number }).seq + 1;
        // prepared here, not with the others: a file from before the size and sha256 columns opens read-only without them
        this.db.prepare('INSERT INTO checkpoints (run, seq, estim, kind, time, watermark, data, size, sha256) VALUES (?,?,?,?,?,?,?,?,?)').run(c.run, seq, c.estim, c.kind, c.time, c.watermark, Buffer.from(c.data), c.size, c.sha256);
        // The fault suite kills here, or fills the disk: inside the transaction, before it commits.
        testKillPoint('checkpoint');
        testDiskFull(DISK_SITES.checkpoint);
        return { ...c, seq };
      }).immediate(),
    );
  }

  latestCheckpoint(runId: string, skipped?: SkippedCheckpoint[]): CheckpointRecord | undefined {
    // one payload in memory at a time: the seqs first, then each row until one verifies
    for (const { seq } of this.stmts.ckptSeqs.all(runId) as Array<{ seq: number }>) {
      const r = this.stmts.ckptAt.get(runId, seq) as CheckpointRow | undefined;
      if (!r) continue;
      const { size, sha256, ...rest } = r;
      const c: CheckpointRecord = { ...rest, ...(size != null ? { size } : {}), ...(sha256 != null ? { sha256 } : {}), data: new Uint8Array(r.data) };
      const fault = checkpointFault(c);
      if (fault === undefined) return c;
      skipped?.push({ run: runId, seq, reason: `the checkpoints row (${fault})` });
    }
    return undefined;
  }

  pruneCheckpoints(runId: string, keep: number): void {
    this.write('the experiment store', () => this.db.prepare('DELETE FROM checkpoints WHERE run = ? AND seq <= (SELECT MAX(seq) FROM checkpoints WHERE run = ?) - ?').run(runId, runId, keep));
  }

  /** PRAGMA integrity_check: "ok" for a sound file. */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export const sqliteStore = defineComponent({
  kind: 'store',
  id: 'SqliteStore',
  description: 'The experiment store in one SQLite file (WAL) per experiment folder: runs, trials, epoch metrics and checkpoints',
  schema: sqliteStoreSchema,
  create(config): StoreFactory {
    return {
      open: ({ dir, experiment }) => {
        try {
          mkdirSync(dir, { recursive: true });
        } catch (e) {
          throw ioError(e, 'the experiment folder', dir);
        }
        return new SqliteStore(join(dir, config.file), experiment, config);
      },
      existing: (dir) => (existsSync(join(dir, config.file)) ? new SqliteStore(join(dir, config.file), basename(dir), config, { readOnly: true }) : undefined),
    };
  },
});
