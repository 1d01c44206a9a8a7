import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { webgpuEngine } from './engine.js';

export { webgpuEngine, hardwareAdapter, adapterName, softwareReason } from './engine.js';
export type { AdapterFacts } from './engine.js';
export { WEBGPU_BACKEND } from './name.js';
// the kernels themselves (and tfjs' webgpu backend they load): import '@modnas/engine-webgpu/kernels'

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [webgpuEngine],
});
