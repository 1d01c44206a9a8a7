import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { activations } from './activations.js';

export { activations } from './activations.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: activations,
});
