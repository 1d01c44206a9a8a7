import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { archDescRefs, defaultSlotArchDescConstructor, entrySpec, fillSlotsFromArchDesc, isOpSpec, resolveArchDesc, slotSpec } from './slot-arch-desc.js';

export { archDescRefs, defaultSlotArchDescConstructor, entrySpec, fillSlotsFromArchDesc, isOpSpec, resolveArchDesc, slotSpec };
export type { FillOptions } from './slot-arch-desc.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultSlotArchDescConstructor],
});
