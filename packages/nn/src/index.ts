export * from './layers.js';
export type { MobileInvertedConvOptions } from './blocks.js';
export { MobileInvertedConv } from './blocks.js';
export * from './loss.js';
export { addMacs, countMacs, profiling } from './profile.js';
export { BATCH_NORM_TRAIN_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL, backendHasKernel, batchNormTrain } from './fused.js';
