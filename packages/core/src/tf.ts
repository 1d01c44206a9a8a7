/**
 * The one tfjs that every @modnas package uses. Plugins import `tf` from here, never tfjs
 * directly, so that one copy exists at run time and the engine under it (tensorflow, wasm,
 * cpu, or custom kernels) can be swapped without touching them.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
