import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { randomSamplingEstimator } from './random-sampling-estimator.js';
import { superNetEstimator } from './supernet-estimator.js';
import { unifiedEstim } from './unified-estim.js';

export { SuperNetEstimator, archUpdateSteps, superNetEstimator, superNetEstimatorSchema } from './supernet-estimator.js';
export type { SuperNetEstimatorConfig } from './supernet-estimator.js';
export { RandomSamplingEstimator, randomSamplingEstimator, randomSamplingEstimatorSchema } from './random-sampling-estimator.js';
export type { RandomSamplingEstimatorConfig } from './random-sampling-estimator.js';
export { UnifiedEstim, unifiedEstim, unifiedEstimSchema } from './unified-estim.js';
export type { UnifiedEstimConfig } from './unified-estim.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [superNetEstimator, randomSamplingEstimator, unifiedEstim],
});
