import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { reinforceOptim } from './reinforce-optim.js';
import type { REINFORCEConfig } from './reinforce-optim.js';

export { ExponentialMovingAverage, FlatOptimizer, gradLogProb, sampleIndex, softmax } from './policy.js';
export { REINFORCEOptim, reinforceOptim, reinforceOptimSchema } from './reinforce-optim.js';
export type { REINFORCEConfig };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [reinforceOptim],
});
