import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { dropPathConstructor, dropPathConverter, dropPathTransformer } from './constructors.js';

export { dropPathConstructor, dropPathConstructorSchema, dropPathConverter, dropPathConverterSchema, dropPathTransformer, dropPathTransformerSchema } from './constructors.js';
export { DropPath, DropPathOp, dropProbRange, scheduleDropPath, scheduledDropProb, setDropProb, wrapSlot } from './drop-path.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [dropPathConstructor, dropPathConverter, dropPathTransformer],
});
