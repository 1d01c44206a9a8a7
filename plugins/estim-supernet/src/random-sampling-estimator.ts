import type { EstimContext, EstimResult, Loss, StateEstimator } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { applyCandidate, buildCriterion, criterionField, trainingWith } from '@modnas/kit-estim';
import { componentRng } from '@modnas/kit-optim';
import { trainSupernet } from './supernet-loop.js';

export const randomSamplingEstimatorSchema = z.strictObject({
  epochs: z.number().int().min(0).default(1).describe('Epochs of supernet training; every weight step trains one uniformly sampled path'),
  seed: z.number().int().nonnegative().default(1).describe("Seed of the path sampling, mixed with the experiment's seed (the original's default: 1)"),
  valid_intv: z.number().int().min(0).default(1).describe('Validate the supernet (on the path sampled last) every this many epochs (0 = only after the last)'),
  save_best: z.boolean().default(true).describe("The original's flag, accepted for its configs: its DefaultEstim stored it and never read it; outputs are always written here"),
  reset_trainer: z.boolean().default(true).describe('Start with fresh optimizer slots (momentum) and warmup, as the original does for every estimator'),
  criterion: criterionField,
});
export type RandomSamplingEstimatorConfig = z.output<typeof randomSamplingEstimatorSchema>;

/**
 * Single-path one-shot supernet training (Guo et al. 2019, SPOS; the original's
 * RandomSamplingEstim): before each weight step every discrete arch param of the space takes a
 * uniformly random value from the estimator's own seeded stream, and that path is trained. It
 * searches nothing: a later estimator (SubNetEstimator with an evolution) ranks paths with the
 * trained weights. Each epoch's record counts the distinct paths it trained (`paths`).
 */
export class RandomSamplingEstimator implements StateEstimator {
  constructor(
    readonly config: RandomSamplingEstimatorConfig,
    /** Its criterion, built (loss components). */
    readonly losses: readonly Loss[] = [],
  ) {}

  async run(ctx: EstimContext): Promise<EstimResult> {
    const c = this.config;
    if (ctx.space.discrete().length === 0) ctx.logger.warn(`${ctx.name}: RandomSamplingEstimator: the search space has no categorical arch params to sample; it trains the network as it is`);
    const last = await trainingWith(ctx, this.losses, () => trainSupernet(ctx, c, () => {
      // the sampler's stream goes into each checkpoint, so a resumed run trains the same paths
      const rng = componentRng(c.seed, ctx.rng);
      let paths = new Set<string>();
      return {
        beginEpoch: () => {
          paths = new Set();
        },
        beforeStep: () => {
          const arch = ctx.space.random(rng);
          applyCandidate(ctx, arch);
          paths.add(ctx.space.networkKey(arch));
        },
        epochMetrics: () => ({ paths: paths.size }),
        state: () => ({ sampler: rng.getState() }),
        restore: (s) => rng.setState(s.sampler as number),
      };
    }));
    return { metrics: last };
  }
}

export const randomSamplingEstimator = defineComponent({
  kind: 'estim',
  id: 'RandomSamplingEstimator',
  aliases: ['RandomSamplingEstim'],
  description: 'Single-path supernet training (SPOS): every weight step trains one path sampled uniformly from the categorical arch params',
  schema: randomSamplingEstimatorSchema,
  async create(config, ctx) {
    return new RandomSamplingEstimator(config, await buildCriterion(config.criterion, ctx));
  },
});
