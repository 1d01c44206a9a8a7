import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The oneDNN addon (src/native/dnnl_kernels.cc), built by scripts/build-native.mjs. */
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
  info(): { version: string; cacheEntries: number };
}

export interface NativeStatus {
  loaded: boolean;
  /** oneDNN version, or why the addon is not in use. */
  detail: string;
  kernels?: NativeKernels;
}

let status: NativeStatus | undefined;

/** Load the addon once. MODNAS_ENGINE_NATIVE=0 turns it off. */
export function loadNative(): NativeStatus {
  if (status) return status;
  if (process.env.MODNAS_ENGINE_NATIVE === '0') return (status = { loaded: false, detail: 'turned off by MODNAS_ENGINE_NATIVE=0' });
  const file = fileURLToPath(new URL('../native/modnas_dnnl.node', import.meta.url));
  if (!existsSync(file)) {
    return (status = { loaded: false, detail: 'native kernels were not built (needs g++ and libdnnl-dev at build time: apt-get install libdnnl-dev, then rebuild)' });
  }
  try {
    // oneDNN runs on OpenMP: threads that sleep when idle leave the core to the wasm kernels
    // running between native calls on the main thread.
    process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
    const kernels = createRequire(import.meta.url)(file) as NativeKernels;
    return (status = { loaded: true, detail: `oneDNN ${kernels.info().version}`, kernels });
  } catch (e) {
    return (status = { loaded: false, detail: `native kernels failed to load: ${String((e as Error)?.message ?? e).split('\n')[0]}` });
  }
}
