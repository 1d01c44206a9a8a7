/**
 * Latency where a model will run: the targets (runtimes.ts, browser.ts and the page it loads),
 * how a latency is sampled and summarised (timing.ts), the lookup table of a search space
 * (table.ts) and the options every latency measurement takes (options.ts). The metrics components
 * are in @modnas/metrics-latency; BinaryGateOptim's latency term uses the table.
 */
export { latencyTableFields, latencyTargetFields, latencyTableSchema, tableFor, runtimeOf, timingOf } from './options.js';
export type { LatencyTableConfig, LatencyTargetConfig } from './options.js';
export { LATENCY_TARGETS, BROWSER_TARGETS, Passthrough, openRuntime, closeRuntimes, importFor, inferenceGraph, machineOf } from './runtimes.js';
export type { LatencyRuntime, LatencyTarget, RuntimeInfo, Net } from './runtimes.js';
export { LatencyCache, buildLatencyTable, currentChoice, defaultCacheDir, graphSignature, measureChoice, predictLatency, tableOps } from './table.js';
export type { LatencyTable, TableOptions } from './table.js';
export { DEFAULT_TIMING, sampleRuns, summarize, timingFields } from './timing.js';
export type { LatencyStats, Timing } from './timing.js';
