import type { TensorParam } from '@modnas/core';
import type { MixedOpCandidate } from '@modnas/kit-mixed-op';
import { tf, z } from '@modnas/core';
import { TensorMixedOp, defineTensorMixedOp, tensorMixedOpConfigShape } from '@modnas/kit-mixed-op';

export const weightedSumSchema = z.strictObject(tensorMixedOpConfigShape('t'));

/**
 * DARTS' continuous relaxation: every candidate runs and the output is Σ softmax(α)_i · op_i(x),
 * the same in training and evaluation. α gets its exact gradient from autodiff.
 */
export class WeightedSumOp extends TensorMixedOp {
  constructor(candidates: readonly MixedOpCandidate[], alpha: TensorParam) {
    super(candidates, alpha);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const outputs = this.candidates().map((c) => c.call(x));
    return this.weightedSum(outputs, tf.softmax(this.alpha.variable));
  }
}

export const weightedSum = defineTensorMixedOp({
  id: 'WeightedSum',
  aliases: ['SoftmaxSumMixedOp'],
  description: 'Sum of all candidate outputs weighted by softmax(alpha), as in DARTS',
  schema: weightedSumSchema,
  make: (candidates, alpha) => new WeightedSumOp(candidates, alpha),
});
