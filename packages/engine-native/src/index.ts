// @modnas/engine-native: two tensor engines (components of kind "engine") for the runtime's backend
// choice: `native` (the engine's own C++ kernels, priority 50) and its fallback `wasm` (40).
import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { nativeEngine, wasmEngine } from './engines.js';

export { engineStatus, nativeEngine, wasmEngine } from './engines.js';
export { engineOptions, stats as kernelStats } from './kernels.js';
export type { KernelStats } from './kernels.js';
export { installEagerBackprop } from './eager-backprop.js';
export { NATIVE_BACKEND } from './native-backend.js';
export { loadNative } from './native.js';
export type { KernelChoice, NativeStatus } from './native.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [nativeEngine, wasmEngine],
});
