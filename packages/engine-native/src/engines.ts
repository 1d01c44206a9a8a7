import { defineEngine, kernelNames } from '@modnas/core';
import type { tf as TF } from '@modnas/core';
import { installEagerBackprop } from './eager-backprop.js';
import { registerKernels, stats } from './kernels.js';
import { NATIVE_BACKEND, registerNativeBackend } from './native-backend.js';
import { loadNative } from './native.js';
import type { NativeStatus } from './native.js';

let ready: Promise<void> | undefined;

/**
 * What both engines set up, once: tfjs' wasm backend with the gradient kernels it lacks, a correct
 * MaxPoolGrad and fused batch norm; where the native addon built, the `native` backend (tfjs' cpu
 * backend with its tensors in Node's memory) on the addon's kernels; and backprop that frees as it
 * goes (eager-backprop.ts).
 */
function setupBackends(tf: typeof TF): Promise<void> {
  ready ??= (async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    const native = loadNative();
    registerKernels(tf, native.kernels, 'wasm');
    if (native.kernels) {
      registerNativeBackend(tf, native.kernels);
      registerKernels(tf, native.kernels, NATIVE_BACKEND);
    }
    kernelNames.registerKernelGradients(tf);
    installEagerBackprop(tf);
  })();
  return ready;
}

const threads = (n: number): void => {
  loadNative().kernels?.setThreads(n);
};

/**
 * `native` (preferred): tfjs' cpu backend with its tensors in Node's memory (no heap ceiling, a
 * caching allocator) and the engine's native kernels (convolutions and their gradients, batch
 * norm, ReLU6, elementwise ops, reductions; the project's own C++, prebuilt per platform and ISA
 * level or compiled once on first use, or oneDNN with MODNAS_ENGINE_KERNELS=dnnl). Its backend
 * exists only where an addon loads; elsewhere its setup throws why and the fix, and the runtime
 * goes on to `wasm`.
 */
export const nativeEngine = defineEngine({
  name: NATIVE_BACKEND,
  priority: 50,
  description: "tensor backend native: tfjs' cpu backend on the engine's native C++ kernels, tensors in Node's memory",
  async setup(tf) {
    const n = loadNative();
    if (!n.kernels) throw new Error(`${n.detail}; the wasm backend runs instead`);
    await setupBackends(tf);
  },
  describe: () => nativeDetail(loadNative()),
  threads,
});

/** `wasm`: tfjs' wasm backend made fit for training, on the native kernels too where they built. */
export const wasmEngine = defineEngine({
  name: 'wasm',
  priority: 40,
  description: "tensor backend wasm: tfjs' wasm backend with the gradient kernels it lacks and fused batch norm (tensors in the 4 GiB wasm heap)",
  setup: setupBackends,
  describe() {
    const n = loadNative();
    return n.kernels ? nativeDetail(n) : `${n.detail}; training runs on the wasm backend's kernels (slower, tensors capped by the 4 GiB wasm heap)`;
  },
  threads,
});

/** What the kernels run on, read now rather than at load (threads() changes the thread count), with the ISA level of the build and where it came from; or why none loaded. */
function nativeDetail(n: NativeStatus): string {
  return n.kernels ? `${n.kernels.info().version}, ${n.isa} build from ${n.source}` : n.detail;
}

/** What the engine runs on (own kernels, oneDNN, or the fallback), and per-kernel call counts. */
export function engineStatus(): { native: boolean; detail: string; stats: typeof stats } {
  const n = loadNative();
  return { native: n.loaded, detail: nativeDetail(n), stats };
}
