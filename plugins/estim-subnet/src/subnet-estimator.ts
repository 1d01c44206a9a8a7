import type { Assignment, EstimContext, EstimResult, Loss, StateEstimator, TrialResult } from '@modnas/core';
import { defineComponent, ModnasError, z } from '@modnas/core';
import { SuccessiveHalving, earlyStopSchema } from './asha.js';
import { applyCandidate, buildCriterion, criterionField, trainingWith, divergedTrial, estimCheckpoints, evaluateJobs, openExecutor, formatMetrics, isAborted, isBetterTrial, isDivergedError, recalibrateBatchNorm, reportCandidate, restoreState, scoreOf, snapshotState, trainEpoch, validateWithMetrics } from '@modnas/kit-estim';
import type { CandidateEvaluator } from '@modnas/services';

export const subNetEstimatorSchema = z.strictObject({
  epochs: z.number().int().min(0).default(10).describe('Search rounds; each evaluates arch_update_batch candidates (0 = no limit by rounds)'),
  arch_update_batch: z.number().int().positive().default(1).describe('Candidates asked of the optimizer per round (optim.next(n))'),
  arch_update_epoch_start: z.number().int().min(0).default(0).describe('First round (0-based) after which results are fed to the optimizer'),
  arch_update_epoch_intv: z.number().int().positive().default(1).describe('Feed results every this many rounds (results in between are kept and fed later)'),
  num_candidates: z.number().int().min(0).default(0).describe('Stop after this many evaluated candidates (0 = no cap)'),
  num_bn_batch: z.number().int().min(0).default(100).describe('Training batches forwarded to recompute batch-norm statistics per candidate (0 = keep the supernet statistics)'),
  clear_subnet_bn: z.boolean().default(true).describe('Reset batch-norm statistics before recomputing them'),
  bn_average: z.enum(['cumulative', 'ema']).default('cumulative').describe("How recomputed statistics average batches: 'cumulative' (exact mean) or 'ema' (each layer's momentum, as the original)"),
  train_epochs: z.number().int().min(0).default(0).describe("Epochs of weight training per candidate before validation (the original's subnet_epochs)"),
  restore_weights: z.boolean().default(true).describe('Put the supernet weights back after each candidate that was trained, so candidates do not affect each other'),
  valid_batches: z.number().int().min(0).default(0).describe('Validation batches per candidate (0 = the whole valid split)'),
  score: z.string().default('acc').describe("Metric that scores a candidate (a leading '-' means lower is better, e.g. '-latency')"),
  early_stop: earlyStopSchema
    .nullable()
    .default(null)
    .describe("Successive halving (ASHA) over train_epochs: validate at rungs of min_epochs·η^k epochs and stop a candidate outside the top 1/η of that rung (null: every candidate trains all train_epochs)"),
  criterion: criterionField,
});
export type SubNetEstimatorConfig = z.output<typeof subNetEstimatorSchema>;

/**
 * Evaluates candidates one by one: each proposal of the optimizer is applied to the arch space,
 * batch-norm statistics are recomputed for it, it is optionally trained briefly, then validated
 * and measured; the results go back to the optimizer. Every candidate is appended to the store
 * ('candidates') as soon as it is done.
 */
export class SubNetEstimator implements StateEstimator, CandidateEvaluator {
  /** The rungs' records of the current run (early_stop only). */
  private halving?: SuccessiveHalving;

  constructor(
    readonly config: SubNetEstimatorConfig,
    /** Its criterion (loss components): what each candidate's train_epochs train with. */
    readonly losses: readonly Loss[] = [],
  ) {}

  private feeds(round: number): boolean {
    const c = this.config;
    return round >= c.arch_update_epoch_start && (round - c.arch_update_epoch_start) % c.arch_update_epoch_intv === 0;
  }

  /** Why a remote executor (workers with networks of their own) cannot evaluate these candidates. */
  remoteBlocker(): string | undefined {
    const c = this.config;
    if (c.early_stop) return 'early_stop (successive halving) ranks candidates against each other as they train';
    if (c.train_epochs > 0 && !c.restore_weights) return 'restore_weights: false carries the weights trained on one candidate over to the next';
    return undefined;
  }

  /** Evaluate one candidate on the network in ctx (weights restored afterwards when trained). */
  async evaluateCandidate(ctx: EstimContext, arch: Assignment, index: number): Promise<TrialResult> {
    const c = this.config;
    try {
      applyCandidate(ctx, arch);
    } catch (e) {
      ctx.logger.warn(`${ctx.name}: candidate ${index} could not be applied: ${(e as Error).message}`);
      return { arch, score: -Infinity, metrics: { error: 1 } };
    }
    const snap = c.train_epochs > 0 && c.restore_weights ? snapshotState(ctx.model) : undefined;
    try {
      const measure = async (): Promise<Record<string, number>> => {
        recalibrateBatchNorm(ctx.model, ctx.data.train, {
          batches: c.num_bn_batch,
          batchSize: ctx.trainer.batchSize,
          rng: ctx.rng,
          reset: c.clear_subnet_bn,
          average: c.bn_average,
        });
        return validateWithMetrics(ctx, { maxBatches: c.valid_batches > 0 ? c.valid_batches : undefined });
      };
      if (c.train_epochs > 0) {
        ctx.trainer.reset();
        const stopped = await trainingWith(ctx, this.losses, async (): Promise<TrialResult | undefined> => {
          for (let e = 0; e < c.train_epochs && !isAborted(ctx); e++) {
            await trainEpoch(ctx, { epoch: e, epochs: c.train_epochs, label: `${ctx.name} candidate ${index + 1} epoch ${e + 1}/${c.train_epochs}` });
            const rung = this.halving?.rungAt(e + 1) ?? -1;
            if (rung >= 0) {
              const metrics = await measure();
              const score = scoreOf(metrics, c.score);
              if (!this.halving!.promote(rung, score)) {
                ctx.logger.info(`${ctx.name}: candidate ${index + 1} stopped after ${e + 1} of ${c.train_epochs} epochs (rung ${rung + 1}, score ${score})`);
                return { arch, score, metrics: { ...metrics, epochs_trained: e + 1, early_stopped: 1 } };
              }
            }
          }
          return undefined;
        });
        if (stopped) return stopped;
      }
      const metrics = await measure();
      return { arch, score: scoreOf(metrics, c.score), metrics: this.halving ? { ...metrics, epochs_trained: c.train_epochs, early_stopped: 0 } : metrics };
    } catch (e) {
      // A diverged candidate is a result (status diverged, no score), not the end of the search.
      if (!isDivergedError(e)) throw e;
      ctx.logger.warn(`${ctx.name}: candidate ${index + 1} diverged: ${e.message.split('\n')[0]}`);
      return divergedTrial(arch);
    } finally {
      if (snap) restoreState(ctx.model, snap);
    }
  }

  async run(ctx: EstimContext): Promise<EstimResult> {
    const c = this.config;
    const optim = ctx.optim;
    try {
      this.halving = c.early_stop ? new SuccessiveHalving(c.early_stop, c.train_epochs) : undefined;
    } catch (e) {
      if (e instanceof ModnasError) throw new ModnasError(e.code, e.message, { fix: e.fix, where: `estim.${ctx.name}.early_stop` });
      throw e;
    }
    if (!optim) {
      // Nothing proposes candidates: evaluate the network as it is.
      const r = await this.evaluateCandidate(ctx, {}, 0);
      await reportCandidate(ctx, r, 0);
      return { best: r, metrics: r.metrics };
    }
    const planned = c.num_candidates > 0 ? c.num_candidates : c.epochs > 0 ? c.epochs * c.arch_update_batch : 0;
    const task = ctx.progress.start(`${ctx.name} candidates`, planned);
    // Resumed: the checkpoint restored weights, optimizer state and RNGs; it holds the loop's position
    // (with the rest of the round's candidates, which the optimizer proposed already).
    const ckpt = estimCheckpoints(ctx);
    const at = ckpt.resumed<{ round: number; n: number; diverged: number; failed?: number; best?: TrialResult; pending: TrialResult[]; rest: Assignment[] }>();
    let best: TrialResult | undefined = at?.best;
    let pending: TrialResult[] = at?.pending ?? [];
    let n = at?.n ?? 0;
    let diverged = at?.diverged ?? 0;
    let failed = at?.failed ?? 0;
    if (at) task.tick(n, best ? { best: best.score } : {});
    const session = await openExecutor(ctx, this);
    try {
      const budgetLeft = (): number => (c.num_candidates > 0 ? c.num_candidates - n : Infinity);
      for (let round = at?.round ?? 0; c.epochs === 0 || round < c.epochs; round++) {
        let cands: Assignment[];
        if (at && round === at.round && at.rest.length > 0) cands = at.rest;
        else {
          if (isAborted(ctx) || budgetLeft() <= 0 || !optim.hasNext()) break;
          await ctx.events.emit('epoch:begin', { estim: ctx.name, epoch: round, epochs: c.epochs });
          cands = optim.next(Math.min(c.arch_update_batch, budgetLeft()));
        }
        if (cands.length === 0) break;
        // The round's candidates go to the executor (several at once when it has several workers);
        // each is stored as it finishes. A mid-round checkpoint is saved only while the finished
        // candidates are a prefix of the round, so a resume evaluates exactly the rest.
        const first = n;
        const finished = new Set<number>();
        const jobs = cands.map((arch, ci) => ({ estim: ctx.name, index: first + ci, arch }));
        await evaluateJobs(
          session,
          jobs,
          async (job, r, ci) => {
            await reportCandidate(ctx, r, job.index);
            const verdict = r.status === 'diverged' ? 'diverged (no score)' : r.status === 'failed' ? `failed: ${r.error ?? ''}` : `score=${r.score}`;
            ctx.logger.info(`${ctx.name} candidate ${job.index + 1}: ${JSON.stringify(job.arch)} ${verdict} ${formatMetrics(r.metrics)}${r.worker ? ` (${r.worker})` : ''}`);
            n++;
            finished.add(ci);
            if (r.status === 'diverged') diverged++;
            if (r.status === 'failed') failed++;
            pending.push(r);
            if (isBetterTrial(r, best, (t) => optim.isFeasible?.(t) ?? true)) best = r;
            task.tick(1, best ? { best: best.score } : { diverged });
            if (finished.size < cands.length) {
              if (finished.size === Math.max(...finished) + 1) await ckpt.save('candidate', { round, n, diverged, failed, best, pending, rest: cands.slice(finished.size) });
            } else {
              if (this.feeds(round) && pending.length > 0) {
                await optim.step({ results: pending });
                pending = [];
              }
              await ckpt.save('candidate', { round: round + 1, n, diverged, failed, best, pending, rest: [] });
            }
          },
          () => isAborted(ctx),
        );
      }
    } finally {
      await session.close();
    }
    if (pending.length > 0) await optim.step({ results: pending });
    task.done(best ? { best: best.score, candidates: n } : { candidates: n });
    if (n > 0 && diverged + failed === n && failed > 0) {
      throw new ModnasError('MODNAS_E_EXECUTOR_ALL_FAILED', `${ctx.name}: every one of the ${n} candidates failed or diverged (${failed} failed on the workers), so there is no best architecture`, {
        fix: 'read the errors of the failed candidates (logs/candidates.jsonl, key "error") and fix their cause; run without the executor key to see the error in-process',
        where: `estim.${ctx.name}`,
      });
    }
    if (n > 0 && diverged === n) {
      throw new ModnasError('MODNAS_E_TRAIN_DIVERGED', `${ctx.name}: every one of the ${n} candidates diverged (NaN or infinite loss), so there is no best architecture. The usual causes are a learning rate too high for the network, or data with NaN/infinite values or without normalisation`, {
        fix: `lower trainer.lr (now ${ctx.trainer.currentLr()}), keep trainer.grad_clip on (e.g. 5), and check that the dataset's inputs are finite and normalised`,
        where: `estim.${ctx.name}`,
      });
    }
    if (!best) return { metrics: { candidates: n, diverged, ...(failed > 0 ? { failed } : {}) } };
    // Leave the network as the best candidate, with its own batch-norm statistics.
    applyCandidate(ctx, best.arch);
    recalibrateBatchNorm(ctx.model, ctx.data.train, { batches: c.num_bn_batch, batchSize: ctx.trainer.batchSize, rng: ctx.rng, reset: c.clear_subnet_bn, average: c.bn_average });
    return { best, metrics: { ...best.metrics, score: best.score, candidates: n, ...(diverged > 0 ? { diverged } : {}), ...(failed > 0 ? { failed } : {}) } };
  }
}

export const subNetEstimator = defineComponent({
  kind: 'estim',
  id: 'SubNetEstimator',
  aliases: ['SubNetEstim'],
  description: 'Evaluates each proposed candidate separately (BN recalibration, optional short training, validation, metrics) and feeds the results back',
  schema: subNetEstimatorSchema,
  async create(config, ctx) {
    return new SubNetEstimator(config, await buildCriterion(config.criterion, ctx));
  },
});
