/**
 * @modnas/runtime, the search routine: runner.ts runs an experiment; scope.ts is its DI container
 * (services registered once, the contexts components get read from it; a caller's container
 * replaces a service); build.ts builds data, model, trainer and metrics into it; backend.ts picks
 * the tensor engine, by declared priority, among the registry's components of kind "engine";
 * run-store.ts and checkpoint.ts are a run's session over the experiment store (@modnas/services);
 * executors/ holds the worker-thread executor and the binding of the one the config names;
 * in-memory.ts runs a search with no files. browser.ts is the part a browser gets.
 */
export * from './browser.js';
export type { BackendChoice, SelectBackendOptions } from './backend.js';
export { backendNames, selectBackend } from './backend.js';
export type { PrepareOptions, PreparedExperiment } from './experiment.js';
export { prepareExperiment } from './experiment.js';
export { configJsonSchema, optionsJsonSchema } from './json-schema.js';
export type { PipelineStepResult, PipelineOptions } from './pipeline.js';
export { isPipelineFile, runSeedPipeline } from './pipeline.js';
export type { RepeatOptions, RepeatRun, RepeatSummary } from './repeat.js';
export { runRepeated } from './repeat.js';
export type { RunOptions, EstimSummary, RunSummary } from './runner.js';
export { runExperiment } from './runner.js';
export type { CheckpointPolicy } from './checkpoint.js';
export { Checkpointer } from './checkpoint.js';
export type { RunSessionOptions } from './run-store.js';
export { RunSession, openRunSession } from './run-store.js';
export type { LoadTrainedOptions, TrainedNetwork } from './trained.js';
export { loadTrainedNetwork } from './trained.js';
export { runtimePlugin, registerRuntimeComponents, bindExecutor, experimentImage, planPackages } from './executors/bind.js';
export { inProcessExecutor } from './executors/in-process.js';
export type { WorkerThreadsExecutorConfig } from './executors/worker-threads.js';
export { WorkerThreadsExecutor, workerThreadsExecutor, workerThreadsExecutorSchema } from './executors/worker-threads.js';
export type { RemoteEvaluatorOptions } from './remote-evaluator.js';
export { createRemoteEvaluator, WORKER_CODES } from './remote-evaluator.js';
export type { WorkerFolders } from './executors/job-paths.js';
export { WORKER_PATH_CODE, workerFolders } from './executors/job-paths.js';
