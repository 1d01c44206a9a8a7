import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { ExponentialMovingAverage, FlatOptimizer, gradLogProb, sampleIndex, softmax } from './policy.js';
import { REINFORCEOptim, reinforceOptim, reinforceOptimSchema } from './reinforce-optim.js';
import type { REINFORCEConfig } from './reinforce-optim.js';

export { REINFORCEOptim, reinforceOptim, reinforceOptimSchema, ExponentialMovingAverage, FlatOptimizer, gradLogProb, sampleIndex, softmax };
export type { REINFORCEConfig };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [reinforceOptim],
});
