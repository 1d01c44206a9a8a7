import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { flopsMetrics, flopsMetricsFn, flopsMetricsSchema } from './flops-metrics.js';
import { latencyMetrics, latencyMetricsFn, latencyMetricsSchema, median, timeForward } from './latency-metrics.js';
import { activeParams, paramsMetrics, paramsMetricsFn, paramsMetricsSchema } from './params-metrics.js';

export { activeParams, flopsMetrics, flopsMetricsFn, flopsMetricsSchema, latencyMetrics, latencyMetricsFn, latencyMetricsSchema, median, paramsMetrics, paramsMetricsFn, paramsMetricsSchema, timeForward };
export type { LatencyMetricsConfig } from './latency-metrics.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [paramsMetrics, flopsMetrics, latencyMetrics],
});
