import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultInitConstructor, torchInitConstructor } from './init-constructor.js';
import { defaultModelInitializer } from './model-initializer.js';

export { defaultInitConstructor, defaultInitConstructorSchema, torchInitConstructor, torchInitConstructorSchema } from './init-constructor.js';
export { DefaultModelInitializer, INIT_RULES, calculateGain, defaultModelInitializer, defaultModelInitializerSchema } from './model-initializer.js';
export type { DefaultModelInitializerConfig, InitRule } from './model-initializer.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultModelInitializer, defaultInitConstructor, torchInitConstructor],
});
