import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { resNetBackbones } from './backbones.js';
import { resNetPredefinedConstructor } from './constructors.js';

export { resNetBackbones, resNetFixedSchema, resNetSchema, resNeXtSchema } from './backbones.js';
export { predefinedConv, resNetPredefinedConstructor, resNetPredefinedConstructorSchema } from './constructors.js';
export { BasicBlock, Bottleneck, MaxPool2d, ResNet, bottleneckWidth } from './model.js';
export type { BlockType, ResNetOptions } from './model.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [...resNetBackbones, resNetPredefinedConstructor],
});
