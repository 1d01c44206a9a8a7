import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { directGradOptim, directGradOptimBiLevel } from './direct-grad-optim.js';
import { gumbelAnnealingOptim } from './gumbel-annealing-optim.js';

export { DirectGradOptim, directGradOptim, directGradOptimBiLevel, directGradOptimSchema } from './direct-grad-optim.js';
export type { DirectGradOptimConfig, DirectGradSplit } from './direct-grad-optim.js';
export { GumbelAnnealingOptim, gumbelAnnealingOptim, gumbelAnnealingOptimSchema } from './gumbel-annealing-optim.js';
export type { GumbelAnnealingOptimConfig } from './gumbel-annealing-optim.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [directGradOptim, directGradOptimBiLevel, gumbelAnnealingOptim],
});
