import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { mbconvComponents } from './mbconv.js';
import { m3bComponents } from './mbv3.js';

export { EXPANSION_RATIOS, KERNEL_SIZES, mbconvComponents } from './mbconv.js';
export { M3B_VARIANTS, m3bComponents, m3bFixedSchema, m3bSchema } from './mbv3.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [...mbconvComponents, ...m3bComponents],
});
