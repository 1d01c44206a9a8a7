import type { Batch, BuildContext, EstimContext, Loss, LossHost } from '@modnas/core';
import { ModnasError, z } from '@modnas/core';
import { supportsLossTerms } from './estim-base.js';

const lossSpec = z.union([z.string(), z.looseObject({ type: z.string() })]);

/** An estimator's `criterion` key: the loss components it trains with (the original's criterion). */
export const criterionField = z
  .union([lossSpec, z.array(lossSpec)])
  .nullable()
  .default(null)
  .describe(
    "Losses it trains with beside the trainer's task loss, or instead of it (the original's criterion): loss components, e.g. { type: KnowledgeDistillLoss } (@modnas/loss-distill), { type: MixUpLoss } or { type: MSELoss } (@modnas/loss-default)",
  );
export type CriterionConfig = z.output<typeof criterionField>;

/** Builds an estimator's criterion (its `criterion` key) as loss components. */
export async function buildCriterion(criterion: CriterionConfig, ctx: BuildContext): Promise<Loss[]> {
  const specs = criterion === null ? [] : Array.isArray(criterion) ? criterion : [criterion];
  const losses: Loss[] = [];
  for (const [i, spec] of specs.entries()) losses.push(await ctx.build('loss', spec, undefined, `${ctx.where}.criterion${Array.isArray(criterion) ? `.${i}` : ''}`));
  return losses;
}

/** Runs `body` with the losses started (startLosses), ending them however it ends. */
export async function trainingWith<T>(ctx: EstimContext, losses: readonly Loss[], body: () => Promise<T>, host: LossHost = {}): Promise<T> {
  const end = startLosses(ctx, losses, host);
  try {
    return await body();
  } finally {
    end();
  }
}

/** The batch preparers of the losses each estimator trains with now (see startLosses). */
const preparers = new WeakMap<EstimContext, Array<(batch: Batch) => void>>();

/** Runs the active losses' prepare on a training batch, before its step (trainEpoch calls it). */
export function prepareBatch(ctx: EstimContext, batch: Batch): void {
  for (const p of preparers.get(ctx) ?? []) p(batch);
}

/**
 * Starts the losses an estimator trains with (its `criterion` list, built as `loss` components):
 * each session's term goes to the trainer with its mode and task weight, its prepare runs on each
 * training batch of trainEpoch. Returns what ends them all (call it in a finally).
 */
export function startLosses(ctx: EstimContext, losses: readonly Loss[], host: LossHost = {}): () => void {
  if (losses.length === 0) return () => {};
  const trainer = ctx.trainer;
  if (!supportsLossTerms(trainer)) {
    throw new ModnasError('MODNAS_E_LOSS_TRAINER', `${ctx.name}: its criterion needs a trainer that takes extra loss terms, and this one does not`, {
      fix: 'use DefaultTrainer (trainer: { type: DefaultTrainer }), or leave criterion out',
      where: `estim.${ctx.name}.criterion`,
    });
  }
  const undo: Array<() => void> = [];
  const prep: Array<(batch: Batch) => void> = [];
  try {
    for (const [i, l] of losses.entries()) {
      const s = l.start(ctx, host);
      undo.push(() => s.end());
      undo.push(trainer.addLossTerm(s.term, { mode: s.mode ?? 'train', taskWeight: s.taskWeight, name: `criterion_${i}` }));
      if (s.prepare) prep.push((b) => s.prepare!(b));
    }
  } catch (e) {
    for (const u of undo.reverse()) u();
    throw e;
  }
  preparers.set(ctx, prep);
  return () => {
    preparers.delete(ctx);
    for (const u of undo.reverse()) u();
  };
}
