import type { TensorParam } from '@modnas/core';
import type { MixedOpCandidate } from '@modnas/kit-mixed-op';
import { defineComponent, tf, z } from '@modnas/core';
import { TensorMixedOp, buildCandidates, mixedOpRefs, tensorArchParam, tensorMixedOpConfigShape } from '@modnas/kit-mixed-op';

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

export const weightedSum = defineComponent({
  kind: 'mixed-op',
  id: 'WeightedSum',
  aliases: ['SoftmaxSumMixedOp'],
  description: 'Sum of all candidate outputs weighted by softmax(alpha), as in DARTS',
  schema: weightedSumSchema,
  refs: mixedOpRefs,
  async create(config, ctx, slot) {
    const candidates = await buildCandidates(ctx, config.primitives, slot);
    const alpha = tensorArchParam(ctx, candidates.length, { name: config.param, prefix: config.prefix, init: config.init });
    return new WeightedSumOp(candidates, alpha);
  },
});
