import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { randomSearchOptim } from './random-search-optim.js';

export { RandomSearchOptim, randomSearchOptim, randomSearchOptimSchema } from './random-search-optim.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [randomSearchOptim],
});
