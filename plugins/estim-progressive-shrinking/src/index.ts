import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { progressiveShrinkingEstimator } from './progressive-shrinking.js';

export { DEFAULT_PS_STAGES, ProgressiveShrinkingEstimator, RepeatLabelsSplit, SubnetBatch, progressiveShrinkingEstimator, progressiveShrinkingSchema, stageSchema, subnetKey } from './progressive-shrinking.js';
export type { PSStage, ProgressiveShrinkingConfig, SubnetConfig } from './progressive-shrinking.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [progressiveShrinkingEstimator],
});
