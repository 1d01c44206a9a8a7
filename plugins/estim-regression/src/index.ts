import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { regressionEstim } from './regression-estim.js';

export { RegressionEstim, fitPredictor, predictorSchema, readRecords, regressionEstim, regressionEstimSchema } from './regression-estim.js';
export type { PredictorConfig, RegressionEstimConfig, ScorePredictor, ScoreRecord } from './regression-estim.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [regressionEstim],
});
