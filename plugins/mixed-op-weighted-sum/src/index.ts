import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { weightedSum } from './weighted-sum.js';

export { WeightedSumOp, weightedSum, weightedSumSchema } from './weighted-sum.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [weightedSum],
});
