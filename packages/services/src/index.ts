/**
 * The contracts of the services users replace by config: the experiment store and the executor,
 * with their DI tokens. Their component kinds ('store', 'executor') are typed here, as an
 * augmentation of core's KindOutput, so that core holds only the NAS operators and the registry.
 */
import type { ResultStore } from '@modnas/core';
import { token } from '@modnas/core';
import type { Executor, ExperimentImage } from './executor.js';

export type { RunStatus, RunRecord, CheckpointRecord, NewCheckpoint, SkippedCheckpoint, StoredRecord, ExperimentStore, StoreFactory } from './store.js';
export { isStoreFactory } from './store.js';
export type { CandidateJob, ExecutedTrial, CandidateEvaluator, ExecutorSession, Executor, ExperimentImage, RemoteCandidate, RemoteEvaluate, ServeOptions } from './executor.js';
export { isCandidateEvaluator } from './executor.js';

/** What the runner binds for the services (the store itself is core's Tokens.Store, as estimators see it). */
export const ServiceTokens = {
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
