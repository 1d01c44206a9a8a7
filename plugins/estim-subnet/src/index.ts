import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { subNetEstimator } from './subnet-estimator.js';

export { SuccessiveHalving, earlyStopSchema } from './asha.js';
export { SubNetEstimator, subNetEstimator, subNetEstimatorSchema } from './subnet-estimator.js';
export type { SubNetEstimatorConfig } from './subnet-estimator.js';
export type { EarlyStopConfig } from './asha.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [subNetEstimator],
});
