import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { WeightedSumOp, weightedSum, weightedSumSchema } from './weighted-sum.js';

export { WeightedSumOp, weightedSum, weightedSumSchema };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [weightedSum],
});
