import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { indexMixedOp } from './index-mixed-op.js';

export { IndexOp, indexMixedOp, indexSchema } from './index-mixed-op.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [indexMixedOp],
});
