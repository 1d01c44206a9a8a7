import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultSlotArchDescConstructor } from './slot-arch-desc.js';

export { defaultSlotArchDescConstructor } from './slot-arch-desc.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultSlotArchDescConstructor],
});
