/**
 * The runner's side of the experiment store: open the store the config names for the experiment
 * folder, claim a run (new or resumed; a live other process is refused or waited for), keep its
 * heartbeat, hand estimators a ResultStore that also appends the JSONL exports live, rewrite the
 * exports from the store, and close the run with its status. The contract, the run policy and
 * opening a store are the store's (@modnas/services); this is where the runner uses them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentPlan } from '@modnas/config';
import { configInvalid, parseComponentConfig } from '@modnas/config';
import type { Logger, Registry, ResultStore } from '@modnas/core';
import { ModnasError } from '@modnas/core';
import { DISK_SITES, appendFileWhole, guardedWrite, testKillPoint, writeFileAtomic } from '@modnas/kit-io';
import type { CheckpointRecord, ExperimentStore, RunRecord, RunStatus, SkippedCheckpoint } from '@modnas/services';
import { HEARTBEAT_INTERVAL_MS, MemoryExperimentStore, busyError, claimRun, experimentStoreOf, jsonSafe } from '@modnas/services';

export interface RunSessionOptions {
  plan: ExperimentPlan;
  registry: Registry;
  outputDir: string;
  persist: boolean;
  logger: Logger;
  /** The experiment store to use instead of the one the config names (a caller's, through the container). */
  store?: ExperimentStore;
  resume?: boolean;
  force?: boolean;
  /** Wait for another live process on the experiment instead of refusing (ms between polls). */
  wait?: boolean;
  signal?: AbortSignal;
}

/** Streams written live as logs/<stream>.jsonl (and rewritten from the store). */
const EXPORTED_STREAMS = ['candidates', 'trials', 'metrics'];

export class RunSession {
  private timer: NodeJS.Timeout | undefined;
  private heartbeatFailed = false;
  /** What estimators write to (EstimContext.store). */
  readonly recorder: ResultStore;

  constructor(
    readonly store: ExperimentStore,
    readonly run: RunRecord,
    readonly resumed: boolean,
    readonly checkpoint: CheckpointRecord | undefined,
    private readonly logsDir: string | undefined,
    private readonly logger: Logger,
    /** false for a store the caller provided (it closes its own). */
    private readonly ownsStore = true,
  ) {
    store.activate(run.id);
    const logs = logsDir;
    this.recorder = {
      append: (stream, record) => {
        store.append(stream, record);
        if (logs && EXPORTED_STREAMS.includes(stream)) {
          const file = join(logs, `${stream}.jsonl`);
          // whole lines only: a full disk cuts the file back and fails the run (the record is in the store)
          guardedWrite(`logs/${stream}.jsonl`, file, () => appendFileWhole(file, JSON.stringify({ run: run.id, ...record }, jsonSafe) + '\n', { site: `${DISK_SITES.append}:${stream}.jsonl` }));
        }
      },
      read: (stream) => store.read(stream),
    };
  }

  startHeartbeat(): void {
    this.timer = setInterval(() => {
      try {
        this.store.updateRun(this.run.id, { heartbeat: new Date().toISOString() });
      } catch (e) {
        if (!this.heartbeatFailed) {
          this.heartbeatFailed = true;
          try {
            this.logger.warn(`heartbeat of run ${this.run.id} not written: ${(e as Error).message.split('\n')[0]}`);
          } catch {
            // the log is on the same full disk: the run's next write fails it with the coded error
          }
        }
      }
    }, HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Drop the records written after the checkpoint being resumed (they are computed again). */
  truncateAfter(watermark: number): number {
    return this.store.truncateRecords(this.run.id, watermark);
  }

  /**
   * Rewrite logs/<stream>.jsonl from the store: this run's records only, each tagged with the run id.
   * Each file is written whole to a temporary file and renamed (kit-io's writeFileAtomic): a full
   * disk leaves the file before and fails the run with MODNAS_E_IO_DISK_FULL.
   */
  exportStreams(): void {
    if (!this.logsDir) return;
    for (const stream of EXPORTED_STREAMS) {
      const recs = this.store.records(stream, this.run.id);
      const file = join(this.logsDir, `${stream}.jsonl`);
      if (recs.length === 0 && !existsSync(file)) continue;
      const text = recs.map((r) => JSON.stringify({ run: r.run, ...r.record }, jsonSafe) + '\n').join('');
      guardedWrite(`logs/${stream}.jsonl`, file, () => writeFileAtomic(file, text, { site: `${DISK_SITES.export}:${stream}.jsonl`, beforeRename: () => testKillPoint('export') }));
    }
  }

  end(status: RunStatus): void {
    if (this.timer) clearInterval(this.timer);
    try {
      this.store.updateRun(this.run.id, { status, end: new Date().toISOString(), heartbeat: new Date().toISOString() });
    } finally {
      if (this.ownsStore) this.store.close();
    }
  }
}

/**
 * The store the config names (store.type; default SQLite where @modnas/store-sqlite is installed,
 * else the journal), opened for the experiment folder `outputDir`; a memory store, with a warning,
 * when none is installed. The caller closes it.
 */
export async function openExperimentStore(o: Pick<RunSessionOptions, 'plan' | 'registry' | 'outputDir' | 'logger'>): Promise<ExperimentStore> {
  const cfg = o.plan.config;
  // The default: SQLite where @modnas/store-sqlite is installed, else the journal (no native module).
  const fallback = ['SqliteStore', 'JournalStore'].find((id) => o.registry.has(id));
  const spec = cfg.store ?? (fallback ? { type: fallback } : undefined);
  if (!spec) {
    o.logger.warn('no experiment store is installed (@modnas/store-journal or @modnas/store-sqlite): this run is kept in memory and exported as JSONL, and cannot be resumed; npm i @modnas/store-journal');
    return new MemoryExperimentStore();
  }
  const rc = o.plan.components.get('store');
  const def = rc?.def ?? (await o.registry.resolve('store', spec.type, 'store.type'));
  let config = rc?.config;
  if (config === undefined) {
    const parsed = parseComponentConfig(def, spec, 'store');
    if (!parsed.ok) throw configInvalid(parsed.issues);
    config = parsed.config;
  }
  const made = (await def.create(config, undefined as never, undefined)) as unknown;
  return experimentStoreOf(made, { dir: o.outputDir, experiment: cfg.name }, spec.type);
}

/** Open the experiment's store and claim a run for this process. */
export async function openRunSession(o: RunSessionOptions): Promise<RunSession> {
  const cfg = o.plan.config;
  const store = o.store ?? (o.persist ? await openExperimentStore(o) : new MemoryExperimentStore());
  const where = `${o.outputDir} (${store.location})`;
  let waiting = false;
  for (;;) {
    const claim = claimRun(store, { experiment: cfg.name, config: cfg, resume: o.resume ?? false, force: o.force, where });
    if (claim.kind === 'busy') {
      if (!o.wait) {
        if (!o.store) store.close();
        throw busyError(claim.other, cfg.name, where);
      }
      if (!waiting) o.logger.info(`waiting for run ${claim.other.id} (pid ${claim.other.pid}) to finish`);
      waiting = true;
      if (o.signal?.aborted) {
        if (!o.store) store.close();
        throw new ModnasError('MODNAS_E_RUN_INTERRUPTED', `interrupted while waiting for pid ${claim.other.pid}`, { fix: 'run again when it is done' });
      }
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const logs = o.persist ? join(o.outputDir, 'logs') : undefined;
    if (claim.kind === 'new') {
      if (claim.note) o.logger.info(claim.note);
      o.logger.info(`run ${claim.run.id} of experiment ${cfg.name} (store: ${store.location})`);
      return new RunSession(store, claim.run, false, undefined, logs, o.logger, !o.store);
    }
    if (claim.changedKeys.length) o.logger.warn(`--force: resuming run ${claim.run.id} with a changed config (${claim.changedKeys.join(', ')})`);
    return new RunSession(store, claim.run, true, verifiedCheckpoint(store, claim.run.id, o.logger), logs, o.logger, !o.store);
  }
}

/**
 * The checkpoint a resumed run continues from: the newest that verifies (size and SHA-256), each
 * newer one the store passed over named in a warning.
 */
function verifiedCheckpoint(store: ExperimentStore, runId: string, logger: Logger): CheckpointRecord | undefined {
  const skipped: SkippedCheckpoint[] = [];
  const c = store.latestCheckpoint(runId, skipped);
  for (const s of skipped) {
    logger.warn(`checkpoint ${s.seq} of run ${runId} does not verify and is skipped: ${s.reason}; ${c ? `resuming from checkpoint ${c.seq}` : 'no older checkpoint verifies, so the run starts again from its beginning'} (${store.location})`);
  }
  return c;
}
