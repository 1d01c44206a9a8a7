/**
 * The services users replace by config, the experiment store and the executor: their contracts, DI
 * tokens and component kinds ('store', 'executor', typed here as an augmentation of core's
 * KindOutput, so that core names no service), and the experiment store's code, all of it in
 * store/: the contract and its guards, the in-memory store, the run policy (claim, heartbeat,
 * status), opening a folder's store, the checkpoint payload and the weight codec. Store plugins
 * implement the contract and nothing more; the executors live in @modnas/runtime and plugins.
 */
import type { ResultStore } from '@modnas/core';
import { token } from '@modnas/core';
import type { Executor, ExperimentImage } from './executor.js';
import type { ExperimentStore } from './store/contract.js';

export type { RunStatus, RunRecord, CheckpointRecord, NewCheckpoint, SkippedCheckpoint, StoredRecord, ExperimentStore, StoreFactory, SlotRecord } from './store/contract.js';
export { isStoreFactory, isExperimentStore } from './store/contract.js';
export { MemoryExperimentStore } from './store/memory.js';
export type { ClaimOptions, ClaimResult } from './store/policy.js';
export { canonicalJson, runDefiningConfig, configHash, diffConfigKeys, HEARTBEAT_STALE_MS, HEARTBEAT_INTERVAL_MS, effectiveStatus, claimRun, busyError } from './store/policy.js';
export { isPidAlive } from './store/host.js';
export { experimentStoreOf, openExistingStore, existingStoreFactories } from './store/open.js';
export type { CheckpointPayload } from './store/checkpoint.js';
export { CHECKPOINT_FORMAT, checkpointDigest, checkpointFault, encodeCheckpoint, decodeCheckpoint } from './store/checkpoint.js';
export type { EncodedTensor, EncodedWeights } from './store/weights.js';
export { encodeWeights, loadWeights, weightBytes, loadWeightBytes } from './store/weights.js';
export { jsonSafe, reviveNonFinite } from './store/json.js';
export type { CandidateJob, ExecutedTrial, CandidateEvaluator, ExecutorSession, Executor, ExperimentImage, RemoteCandidate, RemoteEvaluate, ServeOptions } from './executor.js';
export { isCandidateEvaluator } from './executor.js';

/**
 * The services' tokens in an experiment's container (components record through core's
 * Tokens.Store, the run's records in the experiment store). Registering one of these in the
 * container an experiment's is a child of replaces the service the config names.
 */
export const ServiceTokens = {
  /** The experiment store (runs, records, checkpoints): the one `store: { type }` names, else SQLite or the journal. */
  ExperimentStore: token<ExperimentStore>('@modnas/services:ExperimentStore'),
  /** Where candidates are evaluated; the runner binds the one `executor: { type }` names. */
  Executor: token<Executor>('@modnas/services:Executor'),
  /** What remote executors ship to rebuild the experiment on a worker. */
  ExperimentImage: token<ExperimentImage>('@modnas/services:ExperimentImage'),
} as const;

declare module '@modnas/core' {
  interface KindOutput {
    /** An ExperimentStore, or a StoreFactory that opens one per experiment folder. */
    store: ResultStore | { open(where: { dir: string; experiment: string }): ResultStore };
    executor: Executor;
  }
  interface KindInput {
    store: undefined;
    executor: undefined;
  }
}
