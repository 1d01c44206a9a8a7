import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { cifarMobileNetV2, cifarMobileNetV2Gpu, imageNetMobileNetV2, imageNetMobileNetV2Gpu, mobileNetV2 } from './backbones.js';
import { mobileNetV2ArchDescConstructor, mobileNetV2PredefinedConstructor, mobileNetV2SearchConstructor } from './constructors.js';

export { cifarMobileNetV2, cifarMobileNetV2Gpu, imageNetMobileNetV2, imageNetMobileNetV2Gpu, mobileNetV2 } from './backbones.js';
export { mobileNetV2ArchDescConstructor, mobileNetV2PredefinedConstructor, mobileNetV2SearchConstructor, predefinedBlock } from './constructors.js';
export { MBV2_GPU_TABLE, MBV2_ORIGINAL_TABLE, MobileInvertedResidualBlock, MobileNetV2, NamedSequential, cifarTable, roundFilters, roundRepeats } from './model.js';
export type { MobileNetV2Options, MobileNetV2Row } from './model.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [
    mobileNetV2,
    imageNetMobileNetV2,
    cifarMobileNetV2,
    imageNetMobileNetV2Gpu,
    cifarMobileNetV2Gpu,
    mobileNetV2SearchConstructor,
    mobileNetV2PredefinedConstructor,
    mobileNetV2ArchDescConstructor,
  ],
});
