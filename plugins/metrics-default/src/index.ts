import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { flopsMetrics } from './flops-metrics.js';
import { latencyMetrics } from './latency-metrics.js';
import { paramsMetrics } from './params-metrics.js';

export { flopsMetrics, flopsMetricsFn, flopsMetricsSchema } from './flops-metrics.js';
export { latencyMetrics, latencyMetricsFn, latencyMetricsSchema, median, timeForward } from './latency-metrics.js';
export { activeParams, paramsMetrics, paramsMetricsFn, paramsMetricsSchema } from './params-metrics.js';
export type { LatencyMetricsConfig } from './latency-metrics.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [paramsMetrics, flopsMetrics, latencyMetrics],
});
