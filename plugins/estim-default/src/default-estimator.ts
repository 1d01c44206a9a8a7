import type { EstimContext, EstimResult, Loss, StateEstimator } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { buildCriterion, criterionField, estimCheckpoints, evaluate, formatMetrics, isAborted, measureMetrics, reportEpoch, trainEpoch, trainingWith } from '@modnas/kit-estim';

export const defaultEstimatorSchema = z.strictObject({
  epochs: z.number().int().min(0).default(1).describe('Training epochs (passes over the train split)'),
  valid_intv: z.number().int().min(0).default(1).describe('Validate every this many epochs (0 = only after the last epoch, which is always validated)'),
  reset_trainer: z.boolean().default(true).describe('Start with fresh optimizer slots (momentum) and warmup, as the original does for every estimator'),
  criterion: criterionField,
});
export type DefaultEstimatorConfig = z.output<typeof defaultEstimatorSchema>;

/** Trains the network weights only (no arch updates), validating as configured. */
export class DefaultEstimator implements StateEstimator {
  constructor(
    readonly config: DefaultEstimatorConfig,
    /** Its criterion, built (loss components). */
    readonly losses: readonly Loss[] = [],
  ) {}

  run(ctx: EstimContext): Promise<EstimResult> {
    return trainingWith(ctx, this.losses, () => this.train(ctx));
  }

  private async train(ctx: EstimContext): Promise<EstimResult> {
    const { epochs, valid_intv } = this.config;
    // Resumed: the checkpoint restored weights, trainer slots and RNGs; continue after its epoch.
    const ckpt = estimCheckpoints(ctx);
    const at = ckpt.resumed<{ epoch: number; last: Record<string, number> }>();
    if (this.config.reset_trainer && !at) ctx.trainer.reset();
    let last: Record<string, number> = at?.last ?? {};
    for (let epoch = at?.epoch ?? 0; epoch < epochs; epoch++) {
      if (isAborted(ctx)) break;
      await ctx.events.emit('epoch:begin', { estim: ctx.name, epoch, epochs });
      const tr = await trainEpoch(ctx, { epoch, epochs });
      const metrics: Record<string, number> = { train_loss: tr.loss, train_acc: tr.acc, lr: tr.lr };
      const isLast = epoch + 1 === epochs || tr.aborted;
      if (isLast || (valid_intv > 0 && (epoch + 1) % valid_intv === 0)) {
        const v = await evaluate(ctx.model, ctx.trainer, ctx.data.valid);
        Object.assign(metrics, { loss: v.loss, acc: v.acc });
      }
      await reportEpoch(ctx, epoch, epochs, metrics);
      ctx.logger.info(`${ctx.name} epoch ${epoch + 1}/${epochs}: ${formatMetrics(metrics)}`);
      last = metrics;
      if (tr.aborted) break;
      if (epoch + 1 < epochs) await ckpt.save('epoch', { epoch: epoch + 1, last });
    }
    if (epochs === 0) {
      const v = await evaluate(ctx.model, ctx.trainer, ctx.data.valid);
      last = { loss: v.loss, acc: v.acc };
    }
    return { metrics: { ...last, ...(await measureMetrics(ctx)) } };
  }
}

export const defaultEstimator = defineComponent({
  kind: 'estim',
  id: 'DefaultEstimator',
  aliases: ['DefaultEstim'],
  description: 'Trains the network weights only, for a number of epochs, validating each epoch (or every valid_intv) and at the end',
  schema: defaultEstimatorSchema,
  async create(config, ctx) {
    return new DefaultEstimator(config, await buildCriterion(config.criterion, ctx));
  },
});
