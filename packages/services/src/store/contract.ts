/**
 * The experiment store's contract: the service that keeps an experiment's runs, trials, epoch
 * metrics and checkpoints (STYLE: services users replace; Optuna's BaseStorage), with its guards.
 * Everything else of the store lives beside it in this folder: the in-memory store (memory.ts), the
 * run policy (policy.ts), the checkpoint payload (checkpoint.ts), the weight codec (weights.ts),
 * opening a folder's store (open.ts); @modnas/store-sqlite and @modnas/store-journal implement it.
 * The runner binds the store the config names (`store: { type: ... }`) to ServiceTokens.ExperimentStore
 * and the run's records in it to core's Tokens.Store (what components record through).
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
  /**
   * Bytes of `data` and their SHA-256 (hex), computed by the writer before it hands the payload to
   * the store (`checkpointDigest`, checkpoint.ts) and kept by the store as given, so that a payload the
   * store lost bytes of is caught when it is read. Absent only in checkpoints written before they
   * were recorded (taken as they are).
   */
  size?: number;
  sha256?: string;
  data: Uint8Array;
}

/** What saveCheckpoint takes: a checkpoint without its seq, with its payload's size and SHA-256. */
export type NewCheckpoint = Omit<CheckpointRecord, 'seq' | 'size' | 'sha256'> & { size: number; sha256: string };

/** A checkpoint that latestCheckpoint passed over because its data did not verify. */
export interface SkippedCheckpoint {
  run: string;
  seq: number;
  /** What was wrong ("290,816 of 917,337 bytes", "its SHA-256 differs ...", "checkpoints/r1-2.ckpt cannot be read: ENOENT"). */
  reason: string;
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
  /** Records of every stream with an id above `afterId` (of one run, or of every run), oldest first: what a live reader has not seen yet. */
  recordsAfter(afterId: number, runId?: string): StoredRecord[];
  /** The id of the newest record of any stream (0 when there is none). */
  lastRecordId(): number;
  /** Delete a run's records with an id above `watermark` (they are redone on resume). */
  truncateRecords(runId: string, watermark: number): number;
  /** Keep a checkpoint (seq: one above the run's newest, kept or pruned), its size and sha256 as given. */
  saveCheckpoint(c: NewCheckpoint): CheckpointRecord;
  /**
   * The newest checkpoint of a run whose data verifies: as many bytes as its `size`, with its
   * `sha256` (`checkpointFault`, checkpoint.ts). One that does not, or whose data cannot be read, is
   * passed over for the one before it and pushed onto `skipped` with the reason (the runner warns
   * with it); undefined when none is left. A store checks on read, never refuses on save.
   */
  latestCheckpoint(runId: string, skipped?: SkippedCheckpoint[]): CheckpointRecord | undefined;
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

type MethodOf<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];

/** Every method of the contract (what the guard checks). */
const STORE_METHODS = ['transaction', 'runs', 'insertRun', 'updateRun', 'activate', 'append', 'read', 'records', 'recordsAfter', 'lastRecordId', 'truncateRecords', 'saveCheckpoint', 'latestCheckpoint', 'pruneCheckpoints', 'close'] as const satisfies ReadonlyArray<MethodOf<ExperimentStore>>;
// compiles only while STORE_METHODS names every method of the contract
const _everyMethodListed: [Exclude<MethodOf<ExperimentStore>, (typeof STORE_METHODS)[number]>] extends [never] ? true : false = true;

/** Does x have every method of ExperimentStore? (What a store component made, before the runner uses it.) */
export function isExperimentStore(x: unknown): x is ExperimentStore {
  return !!x && STORE_METHODS.every((m) => typeof (x as Record<string, unknown>)[m] === 'function');
}

/**
 * A record of the `slots` stream: one Slot of the searched network, in traversal order (written
 * by kit-estim's recordSlots, read by the dashboard and the report).
 */
export interface SlotRecord {
  path: string;
  chnIn: number;
  chnOut: number;
  stride: number;
  /** The arch param choosing the Slot's candidate, when a mixed op fills it. */
  param?: string;
  candidates?: string[];
}
