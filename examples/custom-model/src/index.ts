import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { tinyCNN } from './tiny-cnn.js';

export { TinyCNN, tinyCNN } from './tiny-cnn.js';
export type { TinyCNNOptions } from './tiny-cnn.js';

/** Registered like any plugin: the package.json `modnas` field lets discovery find it. */
export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [tinyCNN],
});
