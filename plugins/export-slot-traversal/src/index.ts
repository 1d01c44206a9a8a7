import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultSlotTraversalExporter, slotTraversalDesc } from './slot-traversal.js';

export { defaultSlotTraversalExporter, slotTraversalDesc };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultSlotTraversalExporter],
});
