import { defineEngine } from '@modnas/core';
import { installEagerBackprop } from './eager-backprop.js';
import { registerGradients, registerKernels, stats } from './kernels.js';
import { NATIVE_BACKEND, registerNativeBackend } from './native-backend.js';
import { loadNative } from './native.js';
import type { NativeStatus } from './native.js';

export { BN_TRAIN, BN_TRAIN_GRAD, RELU6_GRAD, engineOptions, stats as kernelStats } from './kernels.js';
export type { KernelStats } from './kernels.js';
export { installEagerBackprop } from './eager-backprop.js';
export { NATIVE_BACKEND } from './native-backend.js';
export { loadNative } from './native.js';
export type { KernelChoice, NativeStatus } from './native.js';

let ready: Promise<void> | undefined;

/**
 * Two tfjs backends fit for training. `native` (preferred): tfjs' cpu backend with its tensors in
 * Node's memory (no heap ceiling, a caching allocator) and the engine's native kernels
 * (convolutions and their gradients, batch norm, ReLU6, elementwise ops, reductions; the
 * project's own C++ compiled at install, or oneDNN with MODNAS_ENGINE_KERNELS=dnnl); registered
 * only where the addon built. `wasm`: tfjs' wasm backend with the gradient kernels it lacks, a
 * correct MaxPoolGrad and fused batch norm, on the native kernels too where they built. Both
 * free activations and gradients as backprop goes (eager-backprop.ts).
 */
export default defineEngine({
  name: 'wasm',
  priority: 50,
  setup(tf) {
    ready ??= (async () => {
      await import('@tensorflow/tfjs-backend-wasm');
      const native = loadNative();
      registerKernels(tf, native.kernels, 'wasm');
      if (native.kernels) {
        registerNativeBackend(tf, native.kernels);
        registerKernels(tf, native.kernels, NATIVE_BACKEND);
      }
      registerGradients(tf);
      installEagerBackprop(tf);
    })();
    return ready;
  },
  describe() {
    const n = loadNative();
    return n.kernels ? nativeDetail(n) : `${n.detail}; training runs on the wasm backend's kernels (slower, tensors capped by the 4 GiB wasm heap)`;
  },
  threads(n) {
    loadNative().kernels?.setThreads(n);
  },
});

/** What the kernels run on, read now rather than at load (threads() changes the thread count), or why none loaded. */
function nativeDetail(n: NativeStatus): string {
  return n.kernels ? n.kernels.info().version : n.detail;
}

/** What the engine runs on (own kernels, oneDNN, or the fallback), and per-kernel call counts. */
export function engineStatus(): { native: boolean; detail: string; stats: typeof stats } {
  const n = loadNative();
  return { native: n.loaded, detail: nativeDetail(n), stats };
}
