import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { gumbelSum } from './gumbel-sum.js';
import type { GumbelSumOptions } from './gumbel-sum.js';

export { GumbelSumOp, gumbelSum, gumbelSumSchema } from './gumbel-sum.js';
export type { GumbelSumOptions };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [gumbelSum],
});
