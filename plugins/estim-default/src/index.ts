import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultEstimator } from './default-estimator.js';

export { DefaultEstimator, defaultEstimator, defaultEstimatorSchema } from './default-estimator.js';
export type { DefaultEstimatorConfig } from './default-estimator.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultEstimator],
});
