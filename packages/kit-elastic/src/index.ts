export { elasticArchDesc, elasticBlocks, elasticStages, ensureElasticBlock, resetElastic, syncElastic } from './elastic.js';
export type { RankFn } from './elastic-mbconv.js';
export { ELASTIC_BLOCK, ElasticMBConv, isElasticBlock, slicedBatchNorm } from './elastic-mbconv.js';
export { ELASTIC_STAGE, ElasticStage, isElasticStage } from './elastic-stage.js';
