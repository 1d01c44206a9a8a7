import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { mnist } from './mnist.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [mnist],
});
