import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { gridSearchOptim } from './grid-search-optim.js';

export { GridSearchOptim, gridSearchOptim, gridSearchOptimSchema } from './grid-search-optim.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [gridSearchOptim],
});
