import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { EXPANSION_RATIOS, KERNEL_SIZES, MobileInvertedConv, mbconvComponents } from './mbconv.js';

export { EXPANSION_RATIOS, KERNEL_SIZES, MobileInvertedConv, mbconvComponents };
export type { MobileInvertedConvOptions } from './mbconv.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: mbconvComponents,
});
