import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The native addon (src/native: module.cc + own_conv.cc or dnnl_conv.cc), built by scripts/build-native.mjs. */
/** Every tensor is passed as a Float32Array over its data (a wasm heap view or the tensor's own array); the kernels run in place. */
export interface NativeKernels {
  /** kind 0: c = conv(x = a, w = b); 1: c = dx from (dy = a, w = b); 2: c = dw from (x = a, dy = b). p = [N, C, H, W, O, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, groups]. */
  conv(kind: number, a: Float32Array, b: Float32Array, c: Float32Array, p: Int32Array): void;
  /** Training batch norm over the last axis of an [m, c] view: y, batch mean, biased batch variance. */
  bnForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, m: number, c: number, eps: number): void;
  /** Its gradient w.r.t. x, gamma and beta. */
  bnBackward(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, m: number, c: number, eps: number): void;
  /** dx = dy where 0 < x <= 6, else 0. */
  relu6Grad(dy: Float32Array, x: Float32Array, dx: Float32Array, n: number): void;
  /** Eval-mode batch norm over the last axis. */
  bnInfer(x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null, scale: Float32Array | null, y: Float32Array, m: number, c: number, eps: number): void;
  /** y = min(max(x, 0), 6). */
  relu6(x: Float32Array, y: Float32Array, n: number): void;
  /** c = big op small (op 0 add, 1 sub, 2 mul, 3 div), big as [outer, mid, inner], small as [outer, inner]; swap: c = small op big. */
  binary(op: number, big: Float32Array, small: Float32Array, c: Float32Array, outer: number, mid: number, inner: number, swap: boolean): void;
  /** y[o, i] = mean or sum of x[o, :, i] over an [outer, mid, inner] view. */
  reduceMid(x: Float32Array, y: Float32Array, outer: number, mid: number, inner: number, mean: boolean): void;
  /** An uninitialised external ArrayBuffer from the addon's caching allocator. */
  alloc(bytes: number): ArrayBuffer;
  /** Detach a buffer from alloc() and return its block to the pool now; false if it is not one. */
  release(buf: ArrayBuffer): boolean;
  poolInfo(): { liveBytes: number; pooledBytes: number };
  info(): { version: string; cacheEntries: number; threads: number };
  /** The OpenMP threads of kernels called from this thread from now on (per calling thread). */
  setThreads(n: number): void;
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

/** MODNAS_ENGINE_KERNELS=own|dnnl|js picks the kernels (MODNAS_ENGINE_NATIVE=0 only turns oneDNN off). */
export function kernelChoice(env: NodeJS.ProcessEnv = process.env): KernelChoice {
  const v = (env.MODNAS_ENGINE_KERNELS ?? 'own').toLowerCase();
  if (v === 'dnnl' && env.MODNAS_ENGINE_NATIVE === '0') return 'own';
  if (v === 'own' || v === 'dnnl' || v === 'js') return v;
  throw new Error(`@modnas/engine-native: MODNAS_ENGINE_KERNELS=${v} is not one of own, dnnl, js`);
}

let status: NativeStatus | undefined;

/** Load the chosen addon once. */
export function loadNative(): NativeStatus {
  if (status) return status;
  const choice = kernelChoice();
  if (choice === 'js') return (status = { loaded: false, choice, detail: 'native kernels turned off (MODNAS_ENGINE_KERNELS=js)' });
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
