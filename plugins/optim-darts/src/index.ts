import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { dartsOptim } from './darts-optim.js';

export { DARTSOptim, dartsOptim, dartsOptimSchema, trainableWeights } from './darts-optim.js';
export type { DARTSOptimConfig } from './darts-optim.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [dartsOptim],
});
