import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { cifarShuffleNetV2, cifarShuffleNetV2Oneshot, shuffleNetV2, shuffleNetV2Oneshot } from './backbones.js';
import { shuffleNetV2PredefinedConstructor, shuffleNetV2SearchConstructor } from './constructors.js';
import { shuffleUnitComponents } from './primitives.js';

export { cifarShuffleNetV2, cifarShuffleNetV2Oneshot, shuffleNetV2, shuffleNetV2Oneshot, shuffleNetV2Schema } from './backbones.js';
export { SPOS_CANDIDATES, shuffleNetV2PredefinedConstructor, shuffleNetV2SearchConstructor, skippable } from './constructors.js';
export { CIFAR_SHUFFLENETV2_ONESHOT_TABLE, CIFAR_SHUFFLENETV2_TABLE, MaxPool3x3s2, SHUFFLENETV2_ONESHOT_TABLE, SHUFFLENETV2_TABLE, ShuffleNetV2 } from './model.js';
export type { ShuffleNetV2Options, ShuffleNetV2Row } from './model.js';
export { SHUFFLE_KERNEL_SIZES, shuffleUnitComponents } from './primitives.js';
export { ChannelShuffle, ShuffleUnit, channelShuffle, checkUnitSpec } from './shuffle-unit.js';
export type { ShuffleUnitOptions } from './shuffle-unit.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [...shuffleUnitComponents, shuffleNetV2, shuffleNetV2Oneshot, cifarShuffleNetV2, cifarShuffleNetV2Oneshot, shuffleNetV2PredefinedConstructor, shuffleNetV2SearchConstructor],
});
