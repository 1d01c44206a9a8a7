import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { mbconvComponents } from './mbconv.js';

export { EXPANSION_RATIOS, KERNEL_SIZES, mbconvComponents } from './mbconv.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: mbconvComponents,
});
