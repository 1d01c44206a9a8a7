import type { Assignment, EstimContext, EstimResult, Loss, StateEstimator, TrialResult } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { applyCandidate, buildCriterion, createGradientAccess, criterionField, formatMetrics, reportCandidate, scoreOf, stepsPerEpoch, trainingWith, validateWithMetrics } from '@modnas/kit-estim';
import { trainSupernet } from './supernet-loop.js';

export const superNetEstimatorSchema = z.strictObject({
  epochs: z.number().int().min(0).default(1).describe('Epochs of alternating weight and arch updates'),
  arch_update_epoch_start: z.number().int().min(0).default(0).describe('First epoch (0-based) with arch updates'),
  arch_update_epoch_intv: z.number().int().positive().default(1).describe('Update arch params every this many epochs from the start epoch'),
  arch_update_intv: z
    .number()
    .int()
    .min(-1)
    .default(-1)
    .describe('Weight steps between arch updates: -1 = train/valid batch ratio (one pass over the valid split per epoch), 0 = once, at the last step'),
  arch_update_batch: z.number().int().positive().default(1).describe('optim.step calls per arch update'),
  valid_intv: z.number().int().min(0).default(1).describe('Validate the supernet every this many epochs (0 = only after the last)'),
  sample_subnet: z.boolean().default(false).describe('Before each weight step apply optim.next(1)[0] to the space (single-path training with a sampling optimizer, e.g. SPOS)'),
  score: z.string().default('acc').describe("Metric that scores the best architecture (a leading '-' means lower is better)"),
  reset_trainer: z.boolean().default(true).describe('Start with fresh optimizer slots (momentum) and warmup, as the original does for every estimator'),
  criterion: criterionField,
});
export type SuperNetEstimatorConfig = z.output<typeof superNetEstimatorSchema>;

/** Which steps of an epoch update arch params: the original's arch_update_intv rule. */
export function archUpdateSteps(nTrain: number, nValid: number, intv: number): number[] {
  let every = intv;
  if (intv === -1) every = nValid ? Math.max(nTrain / nValid, 1) : 1;
  else if (intv === 0) every = nTrain;
  const out: number[] = [];
  let archStep = 0;
  for (let step = 0; step < nTrain; step++) {
    if (Math.floor((step + 1) / every) > archStep) {
      out.push(step);
      archStep++;
    }
  }
  return out;
}

/**
 * Trains a supernet: weight steps on the train split alternate with arch-param updates by the
 * search optimizer (optim.step with a GradientAccess), as DARTS and ProxylessNAS do. At the end
 * the optimizer's best (optim.next(1)) is applied, validated and returned.
 */
export class SuperNetEstimator implements StateEstimator {
  constructor(
    readonly config: SuperNetEstimatorConfig,
    /** Its criterion, built (loss components). */
    readonly losses: readonly Loss[] = [],
  ) {}

  /** Does `epoch` update arch params? */
  updatesArch(epoch: number): boolean {
    const c = this.config;
    return epoch >= c.arch_update_epoch_start && (epoch - c.arch_update_epoch_start) % c.arch_update_epoch_intv === 0;
  }

  async run(ctx: EstimContext): Promise<EstimResult> {
    const c = this.config;
    const optim = ctx.optim;
    if (!optim) ctx.logger.warn(`${ctx.name}: SuperNetEstimator without a search optimizer trains weights only`);
    const last = await trainingWith(ctx, this.losses, () => trainSupernet(ctx, c, () => {
      // the optimizer's batch streams (the access forks ctx.rng) and the arch updates so far go into each checkpoint
      const grad = createGradientAccess(ctx);
      let archUpdates = 0;
      let updateAt = new Set<number>();
      return {
        beginEpoch: (epoch, steps) => {
          updateAt = new Set(optim && this.updatesArch(epoch) ? archUpdateSteps(steps, stepsPerEpoch(ctx.data.valid, ctx.trainer.batchSize), c.arch_update_intv) : []);
        },
        beforeStep: async (step) => {
          if (!optim) return;
          if (updateAt.has(step)) {
            for (let k = 0; k < c.arch_update_batch; k++) {
              try {
                await optim.step({ results: [], grad });
              } finally {
                grad.release();
              }
            }
            archUpdates++;
            await ctx.events.emit('arch:update', { estim: ctx.name, step: archUpdates });
          }
          if (c.sample_subnet) applyCandidate(ctx, optim.next(1)[0] ?? {});
        },
        epochMetrics: () => ({ arch_updates: archUpdates }),
        state: () => ({ archUpdates, grad: grad.state() }),
        restore: (s) => {
          archUpdates = s.archUpdates as number;
          grad.restore(s.grad);
        },
        release: () => grad.release(),
      };
    }));
    if (!optim) return { metrics: last };
    // The optimizer's current best, applied and validated (exported by the runner).
    const arch: Assignment = optim.next(1)[0] ?? {};
    applyCandidate(ctx, arch);
    const metrics = await validateWithMetrics(ctx);
    const best: TrialResult = { arch, score: scoreOf(metrics, c.score), metrics };
    await reportCandidate(ctx, best, 0);
    ctx.logger.info(`${ctx.name}: best ${JSON.stringify(arch)} ${formatMetrics(metrics)}`);
    return { best, metrics: { ...last, ...metrics } };
  }
}

export const superNetEstimator = defineComponent({
  kind: 'estim',
  id: 'SuperNetEstimator',
  aliases: ['SuperNetEstim'],
  description: 'Trains a supernet: weight steps alternate with arch-param updates by the search optimizer; returns the optimizer best, validated',
  schema: superNetEstimatorSchema,
  async create(config, ctx) {
    return new SuperNetEstimator(config, await buildCriterion(config.criterion, ctx));
  },
});
