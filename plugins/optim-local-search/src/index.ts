import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { localSearchOptim } from './local-search-optim.js';
import type { LocalSearchConfig } from './local-search-optim.js';

export { LocalSearchOptim, localSearchOptim, localSearchOptimSchema } from './local-search-optim.js';
export type { LocalSearchConfig };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [localSearchOptim],
});
