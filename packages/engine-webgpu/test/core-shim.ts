// The page of the kernel tests bundles the kernels without the rest of @modnas/core: only the
// kernel names they import from it.
export * as kernelNames from '../../core/src/kernel-names.js';
