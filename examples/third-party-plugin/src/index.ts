import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { simulatedAnnealing } from './annealing.js';

export { simulatedAnnealing } from './annealing.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [simulatedAnnealing],
});
