import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import {
  applyElasticKernel,
  applyElasticSequential,
  applyElasticSpatial,
  elasticKernelSchema,
  elasticSchema,
  elasticSequentialSchema,
  elasticSpatialSchema,
  mobileNetV2ElasticConstructor,
  mobileNetV2ElasticKernelConstructor,
  mobileNetV2ElasticSequentialConstructor,
  mobileNetV2ElasticSpatialConstructor,
} from './constructors.js';
import { elasticArchDesc, elasticBlocks, elasticStages, ensureElasticBlock, resetElastic, syncElastic } from './elastic.js';
import { ELASTIC_BLOCK, ElasticMBConv, isElasticBlock, slicedBatchNorm } from './elastic-mbconv.js';
import { ELASTIC_STAGE, ElasticStage, isElasticStage } from './elastic-stage.js';

export {
  ELASTIC_BLOCK,
  ELASTIC_STAGE,
  ElasticMBConv,
  ElasticStage,
  applyElasticKernel,
  applyElasticSequential,
  applyElasticSpatial,
  elasticArchDesc,
  elasticBlocks,
  elasticKernelSchema,
  elasticSchema,
  elasticSequentialSchema,
  elasticSpatialSchema,
  elasticStages,
  ensureElasticBlock,
  isElasticBlock,
  isElasticStage,
  mobileNetV2ElasticConstructor,
  mobileNetV2ElasticKernelConstructor,
  mobileNetV2ElasticSequentialConstructor,
  mobileNetV2ElasticSpatialConstructor,
  resetElastic,
  slicedBatchNorm,
  syncElastic,
};
export type { ElasticKernelConfig, ElasticSequentialConfig, ElasticSpatialConfig } from './constructors.js';
export type { RankFn } from './elastic-mbconv.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [mobileNetV2ElasticConstructor, mobileNetV2ElasticSpatialConstructor, mobileNetV2ElasticSequentialConstructor, mobileNetV2ElasticKernelConstructor],
});
