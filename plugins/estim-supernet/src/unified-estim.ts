import type { Assignment, EstimContext, EstimResult, Loss, StateEstimator, TrialResult } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import {
  buildCriterion,
  criterionField,
  trainingWith,
  applyCandidate,
  estimCheckpoints,
  formatMetrics,
  isAborted,
  isBetterTrial,
  reportCandidate,
  reportEpoch,
  scoreOf,
  stepsPerEpoch,
  trainEpoch,
  validateWithMetrics,
} from '@modnas/kit-estim';

export const unifiedEstimSchema = z.strictObject({
  epochs: z.number().int().min(1).default(1).describe('Passes over the train split, the weight steps of all candidates together'),
  train_epochs: z.number().int().min(1).default(1).describe('Passes over the train split per candidate; used only with train_steps 0 (otherwise 1, as the original)'),
  train_steps: z
    .number()
    .int()
    .min(-1)
    .default(-1)
    .describe('Weight steps per candidate: -1 = the train/valid batch ratio, 0 = a whole pass (times train_epochs); a pass ending cuts a candidate short'),
  reset_training: z.boolean().default(false).describe("Reset the trainer (optimizer slots, LR schedule over the candidate's own steps) before each candidate"),
  eval_steps: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe('A candidate is validated only when the weight steps done in the current pass are a multiple of this (or the pass ended); the others are trained, not scored'),
  arch_update_epoch_start: z.number().int().min(0).default(0).describe('First epoch (0-based) in which results are fed to the optimizer'),
  arch_update_epoch_intv: z.number().int().positive().default(1).describe('Feed results in every this many epochs from the start epoch (results in between are kept and fed later)'),
  arch_update_batch: z.number().int().positive().default(1).describe('Candidates asked of the optimizer per round (optim.next(n))'),
  valid_batches: z.number().int().min(0).default(0).describe('Validation batches per candidate (0 = the whole valid split)'),
  score: z.string().default('acc').describe("Metric that scores a candidate (a leading '-' means lower is better)"),
  reset_trainer: z.boolean().default(true).describe('Start with fresh optimizer slots (momentum) and warmup, as the original does for every estimator'),
  criterion: criterionField,
});
export type UnifiedEstimConfig = z.output<typeof unifiedEstimSchema>;

interface Position {
  /** Passes over the train split completed (the estimator's epoch). */
  epoch: number;
  /** Weight steps done in the current pass. */
  pos: number;
  n: number;
  unscored: number;
  steps: number;
  best?: TrialResult;
  pending: TrialResult[];
  /** Loss and accuracy sums over the current pass, for its epoch record. */
  passLoss: number;
  passAcc: number;
  passSteps: number;
}

/**
 * Unified supernet training and search (the original's UnifiedEstim): each candidate the optimizer
 * proposes is applied to the shared supernet, trained for a few weight steps, then validated and
 * measured; the weights carry over to the next candidate, so training and evaluation interleave.
 * The weight steps of all candidates together make passes over the train split (the estimator's
 * epochs); the optimizer gets the results after each round. Returns the best candidate.
 */
export class UnifiedEstim implements StateEstimator {
  constructor(
    readonly config: UnifiedEstimConfig,
    /** Its criterion, built (loss components). */
    readonly losses: readonly Loss[] = [],
  ) {}

  private feeds(epoch: number): boolean {
    const c = this.config;
    return epoch >= c.arch_update_epoch_start && (epoch - c.arch_update_epoch_start) % c.arch_update_epoch_intv === 0;
  }

  /** Weight steps per candidate and passes per candidate, by the original's rule. */
  stepsPerCandidate(ctx: EstimContext): { steps: number; passes: number; nTrain: number } {
    const c = this.config;
    const bs = ctx.trainer.batchSize;
    const nTrain = stepsPerEpoch(ctx.data.train, bs);
    const nValid = stepsPerEpoch(ctx.data.valid, bs);
    if (c.train_steps === 0) return { steps: nTrain, passes: c.train_epochs, nTrain };
    const steps = c.train_steps === -1 ? Math.max(Math.round(nTrain / (nValid || 1)), 1) : c.train_steps;
    return { steps, passes: 1, nTrain };
  }

  run(ctx: EstimContext): Promise<EstimResult> {
    return trainingWith(ctx, this.losses, () => this.search(ctx));
  }

  private async search(ctx: EstimContext): Promise<EstimResult> {
    const c = this.config;
    const optim = ctx.optim;
    if (!optim) ctx.logger.warn(`${ctx.name}: UnifiedEstim without a search optimizer trains and validates the network as it is`);
    const { steps, passes, nTrain } = this.stepsPerCandidate(ctx);
    const ckpt = estimCheckpoints(ctx);
    const at = ckpt.resumed<Position>();
    if (c.reset_trainer && !at) ctx.trainer.reset();
    const p: Position = at ?? { epoch: 0, pos: 0, n: 0, unscored: 0, steps: 0, pending: [], passLoss: 0, passAcc: 0, passSteps: 0 };
    const task = ctx.progress.start(`${ctx.name} epochs`, c.epochs);
    if (at) task.tick(at.epoch);

    /** Train the applied candidate; returns whether a pass ended during it. */
    const train = async (index: number): Promise<boolean> => {
      let ended = false;
      if (c.reset_training) ctx.trainer.reset();
      for (let e = 0; e < passes && !isAborted(ctx); e++) {
        const take = Math.min(steps, nTrain - p.pos);
        const tr = await trainEpoch(ctx, {
          // the LR follows the estimator's epochs, or the candidate's own passes after a reset
          epoch: c.reset_training ? e : p.epoch,
          epochs: c.reset_training ? passes : c.epochs,
          maxSteps: take,
          label: `${ctx.name} candidate ${index + 1}`,
        });
        p.pos += tr.steps;
        p.steps += tr.steps;
        p.passLoss += tr.loss * tr.steps;
        p.passAcc += tr.acc * tr.steps;
        p.passSteps += tr.steps;
        if (p.pos >= nTrain) {
          const metrics = { train_loss: p.passSteps ? p.passLoss / p.passSteps : 0, train_acc: p.passSteps ? p.passAcc / p.passSteps : 0, lr: tr.lr, candidates: p.n + 1 };
          await reportEpoch(ctx, p.epoch, c.epochs, metrics);
          ctx.logger.info(`${ctx.name} epoch ${p.epoch + 1}/${c.epochs}: ${formatMetrics(metrics)}`);
          Object.assign(p, { epoch: p.epoch + 1, pos: 0, passLoss: 0, passAcc: 0, passSteps: 0 });
          task.tick(1);
          ended = true;
          if (p.epoch >= c.epochs) break;
        }
        if (tr.aborted) break;
      }
      return ended;
    };

    while (p.epoch < c.epochs && !isAborted(ctx)) {
      if (optim && !optim.hasNext()) break;
      const epoch = p.epoch;
      const cands: Assignment[] = optim ? optim.next(c.arch_update_batch) : [{}];
      if (cands.length === 0) break;
      for (const arch of cands) {
        if (isAborted(ctx)) break;
        const index = p.n++;
        applyCandidate(ctx, arch);
        const ended = await train(index);
        if (!ended && p.pos % c.eval_steps !== 0) {
          p.unscored++;
          ctx.logger.debug(`${ctx.name} candidate ${index + 1}: ${JSON.stringify(arch)} trained, not validated (eval_steps ${c.eval_steps})`);
          continue;
        }
        const metrics = await validateWithMetrics(ctx, { maxBatches: c.valid_batches > 0 ? c.valid_batches : undefined });
        const r: TrialResult = { arch, score: scoreOf(metrics, c.score), metrics };
        await reportCandidate(ctx, r, index);
        ctx.logger.info(`${ctx.name} candidate ${index + 1}: ${JSON.stringify(arch)} score=${r.score} ${formatMetrics(metrics)}`);
        p.pending.push(r);
        if (isBetterTrial(r, p.best, (t) => optim?.isFeasible?.(t) ?? true)) p.best = r;
      }
      if (optim && this.feeds(epoch) && p.pending.length > 0) {
        await optim.step({ results: p.pending });
        p.pending = [];
      }
      await ckpt.save('candidate', { ...p });
    }
    if (optim && p.pending.length > 0) {
      await optim.step({ results: p.pending });
      p.pending = [];
    }
    task.done(p.best ? { best: p.best.score, candidates: p.n } : { candidates: p.n });
    const counts = { candidates: p.n, weight_steps: p.steps, ...(p.unscored > 0 ? { unscored: p.unscored } : {}) };
    if (!p.best) return { metrics: counts };
    applyCandidate(ctx, p.best.arch);
    return { best: p.best, metrics: { ...p.best.metrics, score: p.best.score, ...counts } };
  }
}

export const unifiedEstim = defineComponent({
  kind: 'estim',
  id: 'UnifiedEstim',
  aliases: ['UnifiedEstimator'],
  description: 'Per candidate: a few weight steps of the shared supernet with that candidate applied, then its validation metrics; training and search interleave',
  schema: unifiedEstimSchema,
  async create(config, ctx) {
    return new UnifiedEstim(config, await buildCriterion(config.criterion, ctx));
  },
});
