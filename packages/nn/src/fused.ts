import { kernelNames, tf } from '@modnas/core';

/**
 * Fused training ops that an engine may provide as kernels for its backend (e.g.
 * @modnas/engine-native on `native` and `wasm`); core names them (kernelNames). Where the active
 * backend has no such kernel, callers use the plain tfjs composition instead, so every backend
 * stays correct.
 */
export const BATCH_NORM_TRAIN_KERNEL = kernelNames.BatchNormTrain;
export const BATCH_NORM_TRAIN_GRAD_KERNEL = kernelNames.BatchNormTrainGrad;

/** Whether the active backend has a kernel named `name`. */
export function backendHasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}

/**
 * Batch norm over the last axis with batch statistics, in one kernel and one gradient kernel
 * (kernel inputs {x, scale, offset}, attr {epsilon}; outputs [y, mean, biased variance];
 * gradient kernel inputs {dy, x, scale, mean, variance} -> [dx, dscale, doffset]).
 * Returns y (differentiable w.r.t. x, gamma, beta) and the batch statistics, which the caller
 * owns and must dispose. Requires backendHasKernel(BATCH_NORM_TRAIN_KERNEL).
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, variance] = tf.engine().runKernel<tf.Tensor[]>(BATCH_NORM_TRAIN_KERNEL, { x: xi, scale: g, offset: b }, { epsilon: eps });
    save([xi, g, mean, variance]);
    // The statistics leave customGrad's scope; the caller disposes them.
    stats = [tf.keep(mean.clone()), tf.keep(variance.clone())];
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sg, sm, sv] = saved;
        return tf.engine().runKernel<tf.Tensor[]>(BATCH_NORM_TRAIN_GRAD_KERNEL, { dy: dy as tf.Tensor, x: sx, scale: sg, mean: sm, variance: sv }, { epsilon: eps });
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = (op)(x, gamma, beta);
  return { y, mean: stats[0], variance: stats[1] };
}
