import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { latencyTableMetrics } from './latency-table-metrics.js';
import { targetLatencyMetrics } from './target-latency-metrics.js';

export { targetLatencyMetrics, targetLatencyMetricsFn, targetLatencyMetricsSchema } from './target-latency-metrics.js';
export type { TargetLatencyMetricsConfig } from './target-latency-metrics.js';
export { latencyTableMetrics, latencyTableMetricsFn, latencyTableMetricsSchema } from './latency-table-metrics.js';
export type { LatencyTableMetricsConfig } from './latency-table-metrics.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [targetLatencyMetrics, latencyTableMetrics],
});
