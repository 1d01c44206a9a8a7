import { defineEngine } from '@modnas/core';
import { registerGradients, registerKernels, stats } from './kernels.js';
import { loadNative } from './native.js';

export { BN_TRAIN, BN_TRAIN_GRAD, RELU6_GRAD, engineOptions, stats as kernelStats } from './kernels.js';
export type { KernelStats } from './kernels.js';
export { loadNative } from './native.js';
export type { KernelChoice, NativeStatus } from './native.js';

let ready: Promise<void> | undefined;

/**
 * The tfjs wasm backend, fit for training: the gradient kernels tfjs-backend-wasm 4.22 lacks,
 * a correct MaxPoolGrad, fused training batch norm, and convolutions and batch norm on native
 * kernels (the project's own, compiled at install; oneDNN where chosen) where they built; where
 * they didn't, JavaScript/wasm kernels and one log line.
 */
export default defineEngine({
  name: 'wasm',
  priority: 50,
  setup(tf) {
    ready ??= (async () => {
      await import('@tensorflow/tfjs-backend-wasm');
      const native = loadNative();
      registerKernels(tf, native.kernels);
      registerGradients(tf);
      if (!native.loaded) console.warn(`[@modnas/engine-wasm] ${native.detail}; training runs on the wasm/JavaScript kernels (slower)`);
    })();
    return ready;
  },
});

/** What the engine runs on (own kernels, oneDNN, or the fallback), and per-kernel call counts. */
export function engineStatus(): { native: boolean; detail: string; stats: typeof stats } {
  const n = loadNative();
  return { native: n.loaded, detail: n.detail, stats };
}
