import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultMixedOpExporter } from './mixed-op.js';
import { defaultSlotTraversalExporter } from './slot-traversal.js';

export { defaultMixedOpExporter, defaultMixedOpExporterSchema, mixedOpDesc } from './mixed-op.js';
export { defaultSlotTraversalExporter, slotTraversalDesc } from './slot-traversal.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultSlotTraversalExporter, defaultMixedOpExporter],
});
