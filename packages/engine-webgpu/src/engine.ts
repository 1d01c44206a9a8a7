/**
 * The `webgpu` engine: tfjs' WebGPU backend with the kernels of ./kernels.ts. It is chosen only
 * where a hardware adapter answers: in a browser through navigator.gpu, in Node through Dawn's
 * optional `webgpu` package. A CPU or software adapter (SwiftShader, llvmpipe, lavapipe) does not
 * count: on one, the native engine is faster, so the automatic choice passes this engine over, and
 * `backend: webgpu` fails with the reason (MODNAS_E_BACKEND_SETUP, exit 2).
 */
import { defineEngine, kernelNames } from '@modnas/core';
import { WEBGPU_BACKEND } from './name.js';

/** What identifies an adapter, as GPUAdapterInfo gives it. */
export interface AdapterFacts {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The adapter says it is a fallback (software) adapter. */
  fallback: boolean;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render|\bcpu\b/i;

/** The adapter's name: vendor, architecture, device and description, those it gives. */
export function adapterName(a: AdapterFacts): string {
  return [a.vendor, a.architecture, a.device, a.description].filter((s) => s.trim() !== '').join(' ').replace(/\s+/g, ' ');
}

/** Why an adapter is not a hardware GPU, or undefined when it is one. */
export function softwareReason(a: AdapterFacts): string | undefined {
  if (a.fallback) return 'it is a fallback (software) adapter';
  const named = adapterName(a);
  return SOFTWARE.test(named) ? `it is a software renderer (${named})` : undefined;
}

interface GpuLike {
  requestAdapter(o?: { powerPreference?: string }): Promise<{ info?: Partial<Record<string, string>>; isFallbackAdapter?: boolean } | null>;
}

/** navigator.gpu where there is one (a browser), else Dawn's through the `webgpu` package (Node). */
async function gpuOf(): Promise<GpuLike> {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  if (nav?.gpu) return nav.gpu;
  let dawn: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  try {
    const name = 'webgpu';
    dawn = (await import(/* @vite-ignore */ name)) as typeof dawn;
  } catch (e) {
    throw new Error(`no WebGPU in this Node: the optional package "webgpu" (Dawn) is not installed (${(e as Error).message.split('\n')[0]}); npm i webgpu on a machine with a GPU`);
  }
  const gpu = dawn.create([]);
  // tfjs' webgpu backend reads navigator.gpu and the GPU* constants from the global scope
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { ...(nav ?? {}), gpu }, configurable: true, writable: true });
  return gpu;
}

let chosen: AdapterFacts | undefined;

/** The hardware adapter, or an Error that says why there is none. */
export async function hardwareAdapter(): Promise<AdapterFacts> {
  const gpu = await gpuOf();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter: this machine has no GPU that WebGPU can use (or its driver lacks what WebGPU needs)');
  const info = adapter.info ?? {};
  const facts: AdapterFacts = { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '', fallback: adapter.isFallbackAdapter === true };
  const soft = softwareReason(facts);
  if (soft) throw new Error(`the WebGPU adapter is not a hardware GPU: ${soft}; the native engine is faster on a CPU`);
  return facts;
}

/**
 * `webgpu`: preferred after an installed tfjs-node-gpu (100) and before the native engine (50),
 * where a hardware adapter answers.
 */
export const webgpuEngine = defineEngine({
  name: WEBGPU_BACKEND,
  priority: 70,
  needs: 'a hardware GPU with WebGPU',
  description: "tensor backend webgpu: tfjs' WebGPU backend with the training kernels it lacks in WGSL (fused batch norm and its gradient, the ReLU6 gradient), on a hardware GPU",
  async setup(tf) {
    const facts = await hardwareAdapter();
    // tfjs' webgpu backend and the kernels load only here: an engine passed over costs no import
    const { registerWebGpuKernels } = await import('./kernels.js');
    registerWebGpuKernels(tf);
    kernelNames.registerKernelGradients(tf);
    chosen = facts;
  },
  describe: () => (chosen ? `adapter ${adapterName(chosen)}` : 'no hardware WebGPU adapter'),
});
