import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultRecursiveArchDescConstructor } from './recursive-arch-desc.js';

export { RecursiveArchDescBuilder, defaultRecursiveArchDescConstructor } from './recursive-arch-desc.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultRecursiveArchDescConstructor],
});
