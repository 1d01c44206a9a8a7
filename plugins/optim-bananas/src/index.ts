import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { bananasOptim } from './bananas-optim.js';
import type { BANANASConfig } from './bananas-optim.js';

export { BANANASOptim, bananasOptim, bananasOptimSchema } from './bananas-optim.js';
export type { BANANASConfig };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [bananasOptim],
});
