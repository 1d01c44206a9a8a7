import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The native addon (src/native: module.cc + own_conv.cc or dnnl_conv.cc), built by scripts/build-native.mjs. */
export interface NativeKernels {
  /** kind 0 forward, 1 gradient w.r.t. input, 2 gradient w.r.t. filter; p = [3 byte offsets, N, C, H, W, O, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, groups]. */
  conv(heap: ArrayBuffer, kind: number, p: Int32Array): void;
  /** p = [x, gamma, beta, y, mean, var, N, C, H, W] (byte offsets then dims). */
  bnForward(heap: ArrayBuffer, p: Int32Array, eps: number): void;
  /** p = [dy, x, gamma, mean, var, dx, dgamma, dbeta, N, C, H, W]. */
  bnBackward(heap: ArrayBuffer, p: Int32Array, eps: number): void;
  /** p = [dy, x, dx, n]: dx = dy where 0 < x <= 6, else 0. */
  relu6Grad(heap: ArrayBuffer, p: Int32Array): void;
  /** p = [x, mean, var, offset or -1, scale or -1, y, M, C]: eval-mode batch norm over the last axis. */
  bnInfer(heap: ArrayBuffer, p: Int32Array, eps: number): void;
  info(): { version: string; cacheEntries: number; threads: number };
}

/** Which kernels run the convolutions: the project's own (default), oneDNN, or none (wasm/JavaScript). */
export type KernelChoice = 'own' | 'dnnl' | 'js';

export interface NativeStatus {
  loaded: boolean;
  /** What the kernels run on ("own kernels (AVX-512, 2 threads)", "oneDNN 2.7.3"), or why no addon is in use. */
  detail: string;
  choice: KernelChoice;
  kernels?: NativeKernels;
}

const FILES: Record<Exclude<KernelChoice, 'js'>, string> = { own: 'modnas_kernels.node', dnnl: 'modnas_dnnl.node' };

/** MODNAS_ENGINE_KERNELS=own|dnnl|js picks the kernels; MODNAS_ENGINE_NATIVE=0 is the same as js. */
export function kernelChoice(env: NodeJS.ProcessEnv = process.env): KernelChoice {
  if (env.MODNAS_ENGINE_NATIVE === '0') return 'js';
  const v = (env.MODNAS_ENGINE_KERNELS ?? 'own').toLowerCase();
  if (v === 'own' || v === 'dnnl' || v === 'js') return v;
  throw new Error(`@modnas/engine-wasm: MODNAS_ENGINE_KERNELS=${v} is not one of own, dnnl, js`);
}

let status: NativeStatus | undefined;

/** Load the chosen addon once. */
export function loadNative(): NativeStatus {
  if (status) return status;
  const choice = kernelChoice();
  if (choice === 'js') return (status = { loaded: false, choice, detail: 'native kernels turned off (MODNAS_ENGINE_KERNELS=js or MODNAS_ENGINE_NATIVE=0)' });
  const file = fileURLToPath(new URL(`../native/${FILES[choice]}`, import.meta.url));
  if (!existsSync(file)) {
    const why =
      choice === 'dnnl'
        ? 'the oneDNN kernels were not built (needs libdnnl-dev at install time: apt-get install libdnnl-dev, then reinstall)'
        : 'native kernels were not built (needs a C++ compiler, g++ or clang, at install time; reinstall after installing one)';
    return (status = { loaded: false, choice, detail: why });
  }
  try {
    // The kernels run on OpenMP: threads that sleep when idle leave the core to the wasm kernels
    // running between native calls on the main thread.
    process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
    const kernels = createRequire(import.meta.url)(file) as NativeKernels;
    return (status = { loaded: true, choice, detail: kernels.info().version, kernels });
  } catch (e) {
    return (status = { loaded: false, choice, detail: `native kernels failed to load: ${String((e as Error)?.message ?? e).split('\n')[0]}` });
  }
}
