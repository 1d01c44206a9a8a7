/**
 * The experiment store: the service that keeps an experiment's runs, trials, epoch metrics and
 * checkpoints (STYLE: services users replace; Optuna's BaseStorage). This package owns the
 * contract; the run policy (claiming a run, refusing a second live process, resuming, staleness)
 * lives in @modnas/runtime, the in-memory store in @modnas/kit-io, the default storage in
 * @modnas/store-sqlite.
 * The runner binds the store the config names (`store: { type: ... }`) to core's Tokens.Store.
 */
import type { ResultStore } from '@modnas/core';

export type RunStatus = 'running' | 'done' | 'failed' | 'interrupted' | 'killed';

export interface RunRecord {
  /** r1, r2, ... in the order the runs started. */
  id: string;
  experiment: string;
  configHash: string;
  /** The validated experiment config, as JSON. */
  config: unknown;
  status: RunStatus;
  /** ISO times. */
  start: string;
  end?: string;
  heartbeat: string;
  pid: number;
  host: string;
  /** How many times the run was resumed. */
  resumes: number;
}

/** What a checkpoint says about where the run was (the payload is opaque to the store). */
export interface CheckpointRecord {
  run: string;
  /** Increasing within a run. */
  seq: number;
  estim: string;
  /** 'epoch' | 'candidate' (inside an estimator) or 'estim' (an estimator finished). */
  kind: string;
  time: string;
  /** The last record id of every stream when the checkpoint was taken: records after it are redone on resume. */
  watermark: number;
  data: Uint8Array;
}

/** A record of a stream with the id and run the store gave it. */
export interface StoredRecord {
  id: number;
  run: string;
  stream: string;
  record: Record<string, unknown>;
}

/**
 * The contract of an experiment store. Every method is synchronous (an embedded database or
 * memory); `append`/`read` (ResultStore) act on the run set active with `activate`.
 */
export interface ExperimentStore extends ResultStore {
  /** A short name for messages, e.g. "sqlite exp/x/modnas.db". */
  readonly location: string;
  /** Run fn atomically with respect to other processes on the same experiment. */
  transaction<T>(fn: () => T): T;
  runs(): RunRecord[];
  insertRun(run: RunRecord): void;
  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): void;
  /** The run that append/read use. */
  activate(runId: string): void;
  /** Records of a stream (of one run, or of every run), oldest first. */
  records(stream: string | undefined, runId?: string): StoredRecord[];
  /** The id of the newest record of any stream (0 when there is none). */
  lastRecordId(): number;
  /** Delete a run's records with an id above `watermark` (they are redone on resume). */
  truncateRecords(runId: string, watermark: number): number;
  saveCheckpoint(c: Omit<CheckpointRecord, 'seq'>): CheckpointRecord;
  latestCheckpoint(runId: string): CheckpointRecord | undefined;
  /** Keep only the newest `keep` checkpoints of a run. */
  pruneCheckpoints(runId: string, keep: number): void;
  close(): void;
}

/** What a store plugin's create() may also return: a factory that opens the store of one experiment folder. */
export interface StoreFactory {
  open(where: { dir: string; experiment: string }): ExperimentStore;
  /** The store an experiment folder already has, opened read-only (report, ui); undefined when it has none of this kind. */
  existing?(dir: string): ExperimentStore | undefined;
}

export function isStoreFactory(x: unknown): x is StoreFactory {
  return typeof x === 'object' && x !== null && typeof (x as StoreFactory).open === 'function';
}
