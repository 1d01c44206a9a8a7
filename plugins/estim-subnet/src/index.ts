import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { SubNetEstimator, subNetEstimator, subNetEstimatorSchema } from './subnet-estimator.js';

export { SubNetEstimator, subNetEstimator, subNetEstimatorSchema };
export type { SubNetEstimatorConfig } from './subnet-estimator.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [subNetEstimator],
});
