import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { simulatedAnnealingOptim } from './simulated-annealing-optim.js';

export { simulatedAnnealingOptim } from './simulated-annealing-optim.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [simulatedAnnealingOptim],
});
