import type { CategoricalParam, Tensor } from '@modnas/core';
import type { MixedOpCandidate } from '@modnas/kit-mixed-op';
import { z } from '@modnas/core';
import { CategoricalMixedOp, categoricalArchParam, defineMixedOp, mixedOpConfigShape } from '@modnas/kit-mixed-op';

export const indexSchema = z.strictObject({
  ...mixedOpConfigShape('c'),
  init: z.enum(['random', 'first']).default('random').describe('Initial choice: random (seeded; the original) or the first primitive'),
});

/**
 * Runs only the candidate that a categorical arch param names (SPOS, CARS, evolution, random and
 * grid search): the search sets the param, the op follows. Unused candidates stay out of the
 * gradient tape, so their weights get no gradient.
 */
export class IndexOp extends CategoricalMixedOp {
  constructor(candidates: readonly MixedOpCandidate[], param: CategoricalParam) {
    super(candidates, param);
  }

  override get sampledIndex(): number {
    return this.param.index;
  }

  forward(x: Tensor): Tensor {
    return this.candidates()[this.param.index].call(x);
  }
}

export const indexMixedOp = defineMixedOp({
  id: 'Index',
  aliases: ['IndexMixedOp'],
  description: 'Returns the output of the one candidate that a categorical arch param selects, as in SPOS and evolution search',
  schema: indexSchema,
  make(candidates, config, ctx) {
    const param = categoricalArchParam(ctx, candidates.map((c) => c.name), { name: config.param, prefix: config.prefix, initial: config.init === 'first' ? 0 : undefined });
    return new IndexOp(candidates, param);
  },
});
