import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultRecursiveExporter, recursiveDesc } from './recursive.js';

export { defaultRecursiveExporter, recursiveDesc };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultRecursiveExporter],
});
