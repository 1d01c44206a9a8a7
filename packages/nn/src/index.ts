export * from './layers.js';
export { CELU, ELU, HardSigmoid, HardSwish, Hardshrink, Hardtanh, LeakyReLU, LogSigmoid, PReLU, RReLU, SELU, Sigmoid, Softplus, Softshrink, Softsign, Swish, Tanh, Tanhshrink, Threshold } from './activations.js';
export type { MobileInvertedConvOptions } from './blocks.js';
export { MobileInvertedConv } from './blocks.js';
export * from './loss.js';
export { addMacs, countMacs, profiling } from './profile.js';
export { BATCH_NORM_TRAIN_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL, backendHasKernel, batchNormTrain } from './fused.js';
export type { MobileInvertedConvV3Options } from './squeeze-excite.js';
export { MobileInvertedConvV3, SpatialMeanKeepDims, SqueezeExcite, makeDivisible } from './squeeze-excite.js';
