import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { SuccessiveHalving, earlyStopSchema } from './asha.js';
import { SubNetEstimator, subNetEstimator, subNetEstimatorSchema } from './subnet-estimator.js';

export { SubNetEstimator, subNetEstimator, subNetEstimatorSchema, SuccessiveHalving, earlyStopSchema };
export type { SubNetEstimatorConfig } from './subnet-estimator.js';
export type { EarlyStopConfig } from './asha.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [subNetEstimator],
});
