export type { SeedMapping, SeedPipelineStep } from './vega.js';
export { vegaFormat, isSeedFormat, mapSeedFormat, fillSeedDefaults, isSeedPipeline, seedPipelineSteps, isSeedOverride, SEED_DEFAULT_PRIMITIVES } from './vega.js';
