import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { buildMixedOp, candidatesOf, defaultMixedOpConstructor, mixedOpConstructorRefs, mixedOpSpec, primitiveId } from './mixed-op.js';

export { buildMixedOp, candidatesOf, defaultMixedOpConstructor, mixedOpConstructorRefs, mixedOpSpec, primitiveId };
export type { DefaultMixedOpConstructorConfig } from './mixed-op.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultMixedOpConstructor],
});
