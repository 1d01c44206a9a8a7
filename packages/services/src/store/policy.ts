/**
 * The run policy of the experiment store (the contract is contract.ts): claim a run for this
 * process atomically, refuse (or wait for) a second live process, tell a dead run by its process or
 * its heartbeat, resume the newest unfinished run only with the config it started with. Every store
 * gets the same policy: a store implements the contract, the policy is written once, here.
 */
import { ModnasError } from '@modnas/core';
import type { CheckpointRecord, ExperimentStore, RunRecord, RunStatus } from './contract.js';
import { jsonSafe } from './json.js';
import { hostName, isPidAlive, processId, sha256Hex } from './host.js';

// ---------------------------------------------------------------- config identity

/** JSON with object keys sorted, so equal configs hash equal. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v), jsonSafe);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * Keys a resume may change: log_level and writer (TensorBoard files) change nothing computed, and
 * output_dir/name only say where the experiment folder is (the store is that folder's, so they name
 * the same run either way).
 */
const VOLATILE_KEYS = new Set(['log_level', 'writer', 'output_dir', 'name']);

/** The part of a config that defines a run's results. */
export function runDefiningConfig(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !VOLATILE_KEYS.has(k)));
}

export function configHash(config: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(runDefiningConfig(config))).slice(0, 16);
}

/** Dotted keys whose values differ between two configs (leaves, sorted). */
export function diffConfigKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => (VOLATILE_KEYS.has(k) && prefix === '' ? [] : diffConfigKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k)));
  }
  return canonicalJson(a) === canonicalJson(b) ? [] : [prefix || '(top level)'];
}

// ---------------------------------------------------------------- run policy

/** A run whose heartbeat is older than this is dead (`killed`), whatever its status says. */
export const HEARTBEAT_STALE_MS = 30_000;
/** How often a live run writes its heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * The status a run really has: a `running` run whose process is gone (same host), or, on another
 * host, whose heartbeat is stale, was killed (kill -9, power loss, OOM killer).
 */
export function effectiveStatus(run: RunRecord, now = Date.now(), staleMs = HEARTBEAT_STALE_MS): RunStatus {
  if (run.status !== 'running') return run.status;
  // Same host: the process table is the truth (a long synchronous step may delay the heartbeat).
  if (run.host === hostName() && run.pid !== processId()) return isPidAlive(run.pid) ? 'running' : 'killed';
  if (now - Date.parse(run.heartbeat) > staleMs) return 'killed';
  return 'running';
}

export interface ClaimOptions {
  experiment: string;
  config: Record<string, unknown>;
  /** Continue the newest unfinished run instead of starting a new one. */
  resume: boolean;
  /** Accept a changed config on resume. */
  force?: boolean;
  /** Where the experiment is, for messages. */
  where?: string;
  now?: () => number;
}

export type ClaimResult =
  | { kind: 'new'; run: RunRecord; note?: string }
  | { kind: 'resume'; run: RunRecord; checkpoint?: CheckpointRecord; changedKeys: string[] }
  | { kind: 'busy'; other: RunRecord };

/**
 * Take the experiment for this process, atomically: refuse (busy) when another live process runs
 * it; mark runs whose process died as `killed`; then start a new run (id r<n+1>) or, with resume,
 * continue the newest unfinished one (status running again, pid this process).
 */
export function claimRun(store: ExperimentStore, opts: ClaimOptions): ClaimResult {
  const now = opts.now ?? Date.now;
  return store.transaction((): ClaimResult => {
    const runs = store.runs();
    for (const r of runs) {
      const st = effectiveStatus(r, now());
      if (st === 'running') return { kind: 'busy', other: r };
      if (st !== r.status) store.updateRun(r.id, { status: st });
    }
    const hash = configHash(opts.config);
    const t = new Date(now()).toISOString();
    const claim = { status: 'running' as const, heartbeat: t, pid: processId(), host: hostName() };
    if (opts.resume) {
      const last = [...store.runs()].reverse().find((r) => r.status !== 'done');
      if (last) {
        const changedKeys = last.configHash === hash ? [] : diffConfigKeys(runDefiningConfig(last.config as Record<string, unknown>), runDefiningConfig(opts.config));
        if (changedKeys.length > 0 && !opts.force) {
          throw new ModnasError(
            'MODNAS_E_RESUME_CONFIG_CHANGED',
            `cannot resume run ${last.id} of experiment ${opts.experiment}: the config differs from the one it started with in ${changedKeys.length} key${changedKeys.length > 1 ? 's' : ''}: ${changedKeys.join(', ')}. A resumed run must compute what the interrupted one would have`,
            { fix: `undo the change to ${changedKeys.join(', ')}, or pass --force to resume with the new config (the results then mix both), or run without --resume to start a new run`, where: opts.where },
          );
        }
        const patch = { ...claim, resumes: last.resumes + 1, end: undefined, ...(changedKeys.length ? { config: opts.config, configHash: hash } : {}) };
        store.updateRun(last.id, patch);
        return { kind: 'resume', run: { ...last, ...patch }, checkpoint: store.latestCheckpoint(last.id), changedKeys };
      }
    }
    const run: RunRecord = { id: `r${runs.length + 1}`, experiment: opts.experiment, configHash: hash, config: opts.config, start: t, resumes: 0, ...claim };
    store.insertRun(run);
    const done = runs.length > 0 && runs.every((r) => r.status === 'done');
    const note = opts.resume ? (runs.length === 0 ? 'nothing to resume (no earlier run): starting run r1' : done ? `nothing to resume (every run is done): starting run ${run.id}` : undefined) : undefined;
    return { kind: 'new', run, note };
  });
}

/** The error for a second process on a running experiment. */
export function busyError(other: RunRecord, experiment: string, where?: string): ModnasError {
  const age = Math.round((Date.now() - Date.parse(other.heartbeat)) / 1000);
  return new ModnasError(
    'MODNAS_E_STORE_BUSY',
    `experiment ${experiment} is being run by another process: run ${other.id}, pid ${other.pid} on ${other.host} (started ${other.start}, last heartbeat ${age}s ago). Two processes on one experiment would mix their trials`,
    { fix: `wait for pid ${other.pid} to finish (or pass --wait to wait for it), stop it (kill ${other.pid}), or use another --name`, where },
  );
}
