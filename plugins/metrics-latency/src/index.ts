import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { latencyTableMetrics } from './latency-table-metrics.js';
import { targetLatencyMetrics } from './target-latency-metrics.js';

export { targetLatencyMetrics, targetLatencyMetricsFn, targetLatencyMetricsSchema } from './target-latency-metrics.js';
export type { TargetLatencyMetricsConfig } from './target-latency-metrics.js';
export { latencyTableMetrics, latencyTableMetricsFn, latencyTableMetricsSchema } from './latency-table-metrics.js';
export type { LatencyTableMetricsConfig } from './latency-table-metrics.js';
export { latencyTableFields, latencyTargetFields, latencyTableSchema, tableFor, runtimeOf, timingOf } from './options.js';
export type { LatencyTableConfig, LatencyTargetConfig } from './options.js';
export { LATENCY_TARGETS, BROWSER_TARGETS, openRuntime, closeRuntimes, inferenceGraph, machineOf } from './runtimes.js';
export type { LatencyRuntime, LatencyTarget, RuntimeInfo, Net } from './runtimes.js';
export { LatencyCache, buildLatencyTable, currentChoice, defaultCacheDir, graphSignature, measureChoice, predictLatency, tableOps } from './table.js';
export type { LatencyTable, TableOptions } from './table.js';
export { DEFAULT_TIMING, sampleRuns, summarize } from './timing.js';
export type { LatencyStats, Timing } from './timing.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [targetLatencyMetrics, latencyTableMetrics],
});
