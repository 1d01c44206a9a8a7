import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { pyramidNet, pyramidNetPredefinedConstructor } from './components.js';

export { pyramidCell, pyramidNet, pyramidNetPredefinedConstructor, pyramidNetSchema } from './components.js';
export { BottleneckBlock, GroupConv, PyramidNet, addZeroPadded, pyRound } from './model.js';
export type { PyramidNetOptions } from './model.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [pyramidNet, pyramidNetPredefinedConstructor],
});
