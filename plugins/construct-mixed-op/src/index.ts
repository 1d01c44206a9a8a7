import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultMixedOpConstructor } from './mixed-op.js';

export { defaultMixedOpConstructor } from './mixed-op.js';
export type { DefaultMixedOpConstructorConfig } from './mixed-op.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultMixedOpConstructor],
});
