import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { synthetic } from './synthetic.js';

export { synthetic } from './synthetic.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [synthetic],
});
