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
