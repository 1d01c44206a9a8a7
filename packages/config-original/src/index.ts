export { originalFormat, isOriginalFormat, mapOriginalFormat } from './original.js';
export { TORCH_LR_SCHEDULERS, TORCH_OPTIMIZERS, findTorchClass, mapTorchClass } from './torch-optim.js';
export type { TorchClass, TorchClassMapping } from './torch-optim.js';
