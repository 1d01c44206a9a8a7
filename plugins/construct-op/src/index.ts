import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultOpConstructor } from './op.js';

export { defaultOpConstructor } from './op.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultOpConstructor],
});
