/**
 * The one tfjs that every @modnas package uses. Plugins import `tf` from here, never tfjs
 * directly, so that one copy exists at run time and the engine under it (tensorflow, wasm,
 * native, cpu) can be swapped without touching them. Only @tensorflow/tfjs-core: its gradients and
 * chained ops are registered here (tsup.config.ts bundles tfjs-core's own).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;

/**
 * Read every variable (weights, batch-norm statistics, optimizer slots) to the host without
 * blocking the backend. A GPU backend keeps what it read, so synchronous reads after this
 * (encoding a checkpoint, tracing a network for export) read no GPU memory until a variable
 * changes: tfjs' WebGPU backend cannot read synchronously in Node, and in a page only through a
 * canvas copy that stalls the GPU.
 */
export async function readVariables(): Promise<void> {
  await Promise.all(Object.values(tf.engine().state.registeredVariables).map((v) => v.data()));
}
