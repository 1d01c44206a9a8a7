import type { tf as TF } from '@modnas/core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeKernels } from './native.js';

type Tfjs = typeof TF;
type DataId = object;
type Values = Float32Array | Int32Array | Uint8Array | Uint8Array[];

/** The backend name the engine registers for training on its native kernels. */
export const NATIVE_BACKEND = 'native';

/**
 * tfjs' cpu backend with its tensors in Node's memory (no 4 GiB wasm32 ceiling) and the outputs
 * of the native kernels in the addon's caching allocator: a pooled block goes back to the pool
 * the moment the last tensor viewing it is disposed (tfjs' Slice, for one, hands out views of its
 * input), not when V8's GC gets round to it. Arrays handed to user code (dataSync, data) are
 * copies, so nothing a user keeps can see a reused block.
 */
export class NativeBackend extends MathBackendCPU {
  /** Tensors viewing each pooled buffer. */
  private readonly views = new Map<ArrayBuffer, number>();

  constructor(private readonly kernels: NativeKernels) {
    super();
  }

  /** A new uninitialised float32 or int32 array from the pool (the kernel must write all of it). */
  allocate(size: number, dtype: 'float32' | 'int32'): Float32Array | Int32Array {
    const buf = this.kernels.alloc(size * 4);
    this.views.set(buf, 0);
    return dtype === 'int32' ? new Int32Array(buf, 0, size) : new Float32Array(buf, 0, size);
  }

  private pooled(values: unknown): ArrayBuffer | undefined {
    const buf = ArrayBuffer.isView(values) ? (values.buffer as ArrayBuffer) : undefined;
    return buf && this.views.has(buf) ? buf : undefined;
  }

  private track(values: unknown): void {
    const buf = this.pooled(values);
    if (buf) this.views.set(buf, this.views.get(buf)! + 1);
  }

  override write(values: Values, shape: number[], dtype: TF.DataType): DataId {
    const id = super.write(values, shape, dtype);
    this.track(values);
    return id;
  }

  override move(dataId: DataId, values: Values, shape: number[], dtype: TF.DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    this.track(values);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const gone = super.disposeData(dataId, force);
    const buf = gone ? this.pooled(values) : undefined;
    if (buf) {
      const left = this.views.get(buf)! - 1;
      if (left > 0) this.views.set(buf, left);
      else {
        this.views.delete(buf);
        this.kernels.release(buf);
      }
    }
    return gone;
  }

  override readSync(dataId: DataId): TF.backend_util.BackendValues {
    const v = super.readSync(dataId);
    return this.pooled(v) ? (v as Float32Array).slice() : v;
  }
}

/**
 * Register the `native` backend: NativeBackend with every cpu kernel registered under it, which
 * registerKernels then overrides with the native convolutions, batch norm, ReLU6 and elementwise
 * kernels. Registered only where the native addon loaded.
 */
export function registerNativeBackend(tf: Tfjs, kernels: NativeKernels, priority = 3): void {
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(kernels), priority);
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (!tf.getKernel(k.kernelName, NATIVE_BACKEND)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
}
