import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { mergeAggMetrics, prodAggMetrics, sumAggMetrics } from './agg-metrics.js';
import { flopsMetrics } from './flops-metrics.js';
import { latencyMetrics } from './latency-metrics.js';
import { paramsMetrics } from './params-metrics.js';
import { statsModelMetrics, statsRecordMetrics } from './stats-metrics.js';
import { mixedOpTraversalMetrics, moduleTraversalMetrics } from './traversal-metrics.js';
import { validateMetrics } from './validate-metrics.js';

export { mergeAggMetrics, mergeAggMetricsSchema, prodAggMetrics, prodAggMetricsSchema, sumAggMetrics, sumAggMetricsSchema } from './agg-metrics.js';
export { flopsMetrics, flopsMetricsFn, flopsMetricsSchema } from './flops-metrics.js';
export { latencyMetrics, latencyMetricsFn, latencyMetricsSchema, median, timeForward } from './latency-metrics.js';
export { metricValue } from './metric-value.js';
export { activeParams, paramsMetrics, paramsMetricsFn, paramsMetricsSchema } from './params-metrics.js';
export { moduleStats, statsModelMetrics, statsModelMetricsSchema, statsRecordMetrics, statsRecordMetricsSchema } from './stats-metrics.js';
export { inputShapes, mixedOpTraversal, mixedOpTraversalMetrics, mixedOpTraversalMetricsSchema, moduleTraversal, moduleTraversalMetrics, moduleTraversalMetricsSchema } from './traversal-metrics.js';
export { validateMetrics, validateMetricsFn, validateMetricsSchema } from './validate-metrics.js';
export type { LatencyMetricsConfig } from './latency-metrics.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [paramsMetrics, flopsMetrics, latencyMetrics, validateMetrics, sumAggMetrics, prodAggMetrics, mergeAggMetrics, statsRecordMetrics, statsModelMetrics, moduleTraversalMetrics, mixedOpTraversalMetrics],
});
