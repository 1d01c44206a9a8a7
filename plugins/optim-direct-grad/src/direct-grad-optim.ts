import type { ArchSpace, SearchFeedback } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { DARTS_ADAM_DEFAULTS, GradientSearchOptimizer, adamArgsFields, adamArgsOf } from '@modnas/kit-optim';

export const directGradOptimSchema = z.strictObject({ ...adamArgsFields(DARTS_ADAM_DEFAULTS) });
export type DirectGradOptimConfig = z.output<typeof directGradOptimSchema>;

/** Which split the α gradient comes from. */
export type DirectGradSplit = 'train' | 'valid';

/**
 * Straight-through gradient descent on α: Adam along ∇α of the loss of one batch, with the
 * weights as they are. On a training batch (DirectGradOptim: α and w learn from the same data,
 * single-level) or a validation batch (DirectGradOptimBiLevel). How ∂L/∂α reaches α (softmax
 * weights, Gumbel samples, straight-through gates) is the mixed op's business.
 */
export class DirectGradOptim extends GradientSearchOptimizer {
  constructor(
    space: ArchSpace,
    config: DirectGradOptimConfig,
    /** The split of the batch α learns from. */
    readonly split: DirectGradSplit = 'train',
    type = split === 'train' ? 'DirectGradOptim' : 'DirectGradOptimBiLevel',
  ) {
    super(space, adamArgsOf(config), type);
  }

  step(feedback: SearchFeedback): void {
    const g = this.gradAccess(feedback);
    const batch = this.split === 'train' ? g.trainBatch() : g.validBatch();
    this.update(this.archGrads(() => g.loss(batch)));
  }
}

export const directGradOptim = defineComponent({
  kind: 'optim',
  id: 'DirectGradOptim',
  aliases: ['DirectGrad'],
  description: 'Straight-through gradient descent (Adam) on α from the training batch',
  schema: directGradOptimSchema,
  create(config, ctx) {
    return new DirectGradOptim(ctx.space, config, 'train');
  },
});

export const directGradOptimBiLevel = defineComponent({
  kind: 'optim',
  id: 'DirectGradOptimBiLevel',
  aliases: ['DirectGradBiLevelOptim', 'DirectGradBiLevel'],
  description: 'Straight-through gradient descent (Adam) on α from a validation batch (bi-level)',
  schema: directGradOptimSchema,
  create(config, ctx) {
    return new DirectGradOptim(ctx.space, config, 'valid');
  },
});
