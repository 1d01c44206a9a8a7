import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { mobileNetV3, mobileNetV3Large, mobileNetV3Small } from './backbones.js';
import { mobileNetV3ArchDescConstructor, mobileNetV3PredefinedConstructor, mobileNetV3SearchConstructor } from './constructors.js';

export { mobileNetV3, mobileNetV3Large, mobileNetV3NamedSchema, mobileNetV3Schema, mobileNetV3Small } from './backbones.js';
export { MBV3_DEFAULT_PRIMITIVES, mobileNetV3ArchDescConstructor, mobileNetV3PredefinedConstructor, mobileNetV3SearchConstructor, predefinedBlock, withBlockConfig } from './constructors.js';
export { MBV3_LARGE_TABLE, MBV3_SMALL_TABLE, MobileInvertedResidualBlock, MobileNetV3 } from './model.js';
export type { MobileNetV3Mode, MobileNetV3Options, MobileNetV3Row } from './model.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [mobileNetV3, mobileNetV3Large, mobileNetV3Small, mobileNetV3SearchConstructor, mobileNetV3PredefinedConstructor, mobileNetV3ArchDescConstructor],
});
