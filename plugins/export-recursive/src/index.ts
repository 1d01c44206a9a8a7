import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultRecursiveExporter } from './recursive.js';

export { defaultRecursiveExporter, recursiveDesc } from './recursive.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultRecursiveExporter],
});
