import type { EstimContext } from '@modnas/core';
import { estimCheckpoints, evaluate, formatMetrics, isAborted, reportEpoch, stepsPerEpoch, trainEpoch } from '@modnas/kit-estim';

/** What a supernet estimator does around the shared weight-training loop. */
export interface SupernetSteps {
  /** An epoch of `steps` weight steps begins. */
  beginEpoch?(epoch: number, steps: number): void;
  /** Before weight step `step` of the epoch: update arch params, sample a path. */
  beforeStep(step: number): void | Promise<void>;
  /** Numbers added to the epoch's metrics record, after its weight steps. */
  epochMetrics(): Record<string, number>;
  /** JSON kept in the checkpoint's position at each epoch boundary (its keys sit beside `epoch` and `last`). */
  state(): Record<string, unknown>;
  /** Continue from what state() saved (a resumed run). */
  restore(state: Record<string, unknown>): void;
  /** Free what the steps hold: after the loop, also when it throws. */
  release?(): void;
}

export interface SupernetLoopOptions {
  epochs: number;
  valid_intv: number;
  reset_trainer: boolean;
}

/**
 * The loop both supernet estimators share: `epochs` passes of weight training with the steps'
 * hook before each weight step; the supernet validated every `valid_intv` epochs and after the
 * last; each epoch reported; a checkpoint at each epoch boundary holding the epoch, the last
 * metrics and the steps' state. `open` builds the steps and may fork ctx.rng: on resume the
 * stream is put back where the checkpoint left it, then the steps get their saved state.
 * Returns the last epoch's metrics.
 */
export async function trainSupernet(ctx: EstimContext, c: SupernetLoopOptions, open: () => SupernetSteps): Promise<Record<string, number>> {
  const ckpt = estimCheckpoints(ctx);
  // Resumed: the checkpoint restored weights, trainer and optimizer states and the RNGs.
  const at = ckpt.resumed<{ epoch: number; last: Record<string, number> } & Record<string, unknown>>();
  if (c.reset_trainer && !at) ctx.trainer.reset();
  const rngAt = ctx.rng.getState();
  const steps = open();
  if (at) {
    ctx.rng.setState(rngAt);
    steps.restore(at);
  }
  const bs = ctx.trainer.batchSize;
  let last: Record<string, number> = at?.last ?? {};
  try {
    for (let epoch = at?.epoch ?? 0; epoch < c.epochs; epoch++) {
      if (isAborted(ctx)) break;
      await ctx.events.emit('epoch:begin', { estim: ctx.name, epoch, epochs: c.epochs });
      steps.beginEpoch?.(epoch, stepsPerEpoch(ctx.data.train, bs));
      const tr = await trainEpoch(ctx, { epoch, epochs: c.epochs, beforeStep: (step) => steps.beforeStep(step) });
      const metrics: Record<string, number> = { train_loss: tr.loss, train_acc: tr.acc, lr: tr.lr, ...steps.epochMetrics() };
      if (epoch + 1 === c.epochs || tr.aborted || (c.valid_intv > 0 && (epoch + 1) % c.valid_intv === 0)) {
        await ctx.space.readTensors();
        const v = await evaluate(ctx.model, ctx.trainer, ctx.data.valid);
        Object.assign(metrics, { loss: v.loss, acc: v.acc });
      }
      await reportEpoch(ctx, epoch, c.epochs, metrics);
      ctx.logger.info(`${ctx.name} epoch ${epoch + 1}/${c.epochs}: ${formatMetrics(metrics)}`);
      last = metrics;
      if (tr.aborted) break;
      if (epoch + 1 < c.epochs) await ckpt.save('epoch', { ...steps.state(), epoch: epoch + 1, last });
    }
  } finally {
    steps.release?.();
  }
  return last;
}
