import type { Assignment, EstimContext, EstimResult, StateEstimator, TrialResult } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { applyCandidate, createGradientAccess, estimCheckpoints, evaluate, formatMetrics, isAborted, reportCandidate, reportEpoch, scoreOf, stepsPerEpoch, trainEpoch, validateWithMetrics } from '@modnas/kit-estim';

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
  constructor(readonly config: SuperNetEstimatorConfig) {}

  /** Does `epoch` update arch params? */
  updatesArch(epoch: number): boolean {
    const c = this.config;
    return epoch >= c.arch_update_epoch_start && (epoch - c.arch_update_epoch_start) % c.arch_update_epoch_intv === 0;
  }

  async run(ctx: EstimContext): Promise<EstimResult> {
    const c = this.config;
    const optim = ctx.optim;
    if (!optim) ctx.logger.warn(`${ctx.name}: SuperNetEstimator without a search optimizer trains weights only`);
    // Resumed: the checkpoint restored weights, trainer and optimizer states and the RNGs; it holds
    // the epoch to continue from and where the optimizer's batch streams were.
    const ckpt = estimCheckpoints(ctx);
    const at = ckpt.resumed<{ epoch: number; archUpdates: number; last: Record<string, number>; grad: unknown }>();
    if (c.reset_trainer && !at) ctx.trainer.reset();
    const rngAt = ctx.rng.getState();
    const grad = createGradientAccess(ctx);
    if (at) {
      // creating the access forked ctx.rng; the checkpoint's state is where the epoch loop continues
      ctx.rng.setState(rngAt);
      grad.restore(at.grad);
    }
    const bs = ctx.trainer.batchSize;
    let last: Record<string, number> = at?.last ?? {};
    let archUpdates = at?.archUpdates ?? 0;
    try {
      for (let epoch = at?.epoch ?? 0; epoch < c.epochs; epoch++) {
        if (isAborted(ctx)) break;
        await ctx.events.emit('epoch:begin', { estim: ctx.name, epoch, epochs: c.epochs });
        const nTrain = stepsPerEpoch(ctx.data.train, bs);
        const at = new Set(optim && this.updatesArch(epoch) ? archUpdateSteps(nTrain, stepsPerEpoch(ctx.data.valid, bs), c.arch_update_intv) : []);
        const tr = await trainEpoch(ctx, {
          epoch,
          epochs: c.epochs,
          beforeStep: async (step) => {
            if (!optim) return;
            if (at.has(step)) {
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
        });
        const metrics: Record<string, number> = { train_loss: tr.loss, train_acc: tr.acc, lr: tr.lr, arch_updates: archUpdates };
        if (epoch + 1 === c.epochs || tr.aborted || (c.valid_intv > 0 && (epoch + 1) % c.valid_intv === 0)) {
          const v = evaluate(ctx.model, ctx.trainer, ctx.data.valid);
          Object.assign(metrics, { loss: v.loss, acc: v.acc });
        }
        await reportEpoch(ctx, epoch, c.epochs, metrics);
        ctx.logger.info(`${ctx.name} epoch ${epoch + 1}/${c.epochs}: ${formatMetrics(metrics)}`);
        last = metrics;
        if (tr.aborted) break;
        if (epoch + 1 < c.epochs) ckpt.save('epoch', { epoch: epoch + 1, archUpdates, last, grad: grad.state() });
      }
    } finally {
      grad.release();
    }
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
  create(config) {
    return new SuperNetEstimator(config);
  },
});
