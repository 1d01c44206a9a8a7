/**
 * The kernels @modnas adds to tfjs, named once (as tfjs' kernel_names.ts names its own): an engine
 * registers implementations under these names for its backends, and @modnas/nn runs them where
 * the active backend has them (else the plain tfjs composition). Each name comes with its inputs,
 * attributes and outputs.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type * as Tfjs from '@tensorflow/tfjs-core';

/**
 * Batch norm over the last axis with batch statistics (training mode).
 * Inputs {x, scale, offset}, attrs {epsilon}; outputs [y, mean, biased variance].
 */
export const BatchNormTrain = 'ModnasBatchNormTrain';
export type BatchNormTrainInputs = Record<'x' | 'scale' | 'offset', TensorInfo>;
export interface BatchNormTrainAttrs {
  epsilon: number;
}

/**
 * The gradient of BatchNormTrain w.r.t. x, scale and offset.
 * Inputs {dy, x, scale, mean, variance} (mean and variance as BatchNormTrain returned them), attrs {epsilon}; outputs [dx, dscale, doffset].
 */
export const BatchNormTrainGrad = 'ModnasBatchNormTrainGrad';
export type BatchNormTrainGradInputs = Record<'dy' | 'x' | 'scale' | 'mean' | 'variance', TensorInfo>;
export type BatchNormTrainGradAttrs = BatchNormTrainAttrs;

/** The gradient of ReLU6 in one kernel: inputs {dy, x}; output dx = dy where 0 < x <= 6, else 0. */
export const Relu6Grad = 'ModnasRelu6Grad';
export type Relu6GradInputs = Record<'dy' | 'x', TensorInfo>;

/** Every kernel name above. */
export const MODNAS_KERNELS = [BatchNormTrain, BatchNormTrainGrad, Relu6Grad] as const;
export type ModnasKernelName = (typeof MODNAS_KERNELS)[number];

/**
 * The gradients that use these kernels, registered once by every engine that provides them:
 * ReLU6's through Relu6Grad where the active backend has it, elsewhere exactly tfjs' own
 * composition (dy * (x <= 6) * step(x)), so other backends are unchanged. (BatchNormTrain's
 * gradient is its caller's custom gradient: @modnas/nn's batchNormTrain.)
 */
export function registerKernelGradients(tf: typeof Tfjs): void {
  tf.registerGradient({
    kernelName: 'Relu6',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return {
        x: () =>
          tf.getKernel(Relu6Grad, tf.getBackend())
            ? tf.engine().runKernel<Tfjs.Tensor>(Relu6Grad, { dy: dy as Tfjs.Tensor, x })
            : tf.mul(dy as Tfjs.Tensor, tf.cast(tf.mul(tf.lessEqual(x, 6), tf.step(x)), 'float32')),
      };
    },
  });
}
