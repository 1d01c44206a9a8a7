import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { mobileNetV2ElasticConstructor, mobileNetV2ElasticKernelConstructor, mobileNetV2ElasticSequentialConstructor, mobileNetV2ElasticSpatialConstructor } from './constructors.js';

export { applyElasticKernel, applyElasticSequential, applyElasticSpatial, elasticKernelSchema, elasticSchema, elasticSequentialSchema, elasticSpatialSchema, mobileNetV2ElasticConstructor, mobileNetV2ElasticKernelConstructor, mobileNetV2ElasticSequentialConstructor, mobileNetV2ElasticSpatialConstructor } from './constructors.js';
export type { ElasticKernelConfig, ElasticSequentialConfig, ElasticSpatialConfig } from './constructors.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [mobileNetV2ElasticConstructor, mobileNetV2ElasticSpatialConstructor, mobileNetV2ElasticSequentialConstructor, mobileNetV2ElasticKernelConstructor],
});
