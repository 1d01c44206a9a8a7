import { ModnasError, z } from '@modnas/core';

export const earlyStopSchema = z
  .strictObject({
    min_epochs: z.number().int().min(1).default(1).describe('First rung: epochs of training before the first comparison'),
    reduction_factor: z.number().gt(1).default(3).describe('η: rungs at min_epochs·η^k epochs; a candidate goes on past a rung only if it is in the top 1/η of the scores seen there'),
  })
  .describe('Successive halving (ASHA) of the candidates\' training epochs');
export type EarlyStopConfig = z.output<typeof earlyStopSchema>;

/**
 * Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
 * Tuning", MLSys 2020) over the training epochs of a stream of candidates. Rungs sit at
 * min_epochs·η^k epochs, below the full budget. A candidate that reaches a rung is validated; it
 * goes on training only if its score is among the top ⌊n/η⌋ (at least 1) of the n scores recorded
 * at that rung so far, itself included. Decisions use only what has been recorded, never wait for
 * other candidates, so candidates evaluated in parallel can share one instance.
 */
export class SuccessiveHalving {
  /** Scores recorded at each rung. */
  private readonly scores: number[][];
  /** Epoch count of each rung, ascending, all below the full budget. */
  readonly rungs: number[];

  constructor(
    readonly config: EarlyStopConfig,
    readonly maxEpochs: number,
  ) {
    if (maxEpochs <= config.min_epochs) {
      throw new ModnasError('MODNAS_E_ESTIM_EARLY_STOP', `early_stop: candidates train ${maxEpochs} epoch(s), so no rung of min_epochs ${config.min_epochs} lies below the full budget and nothing could stop early`, {
        fix: `set train_epochs above early_stop.min_epochs (e.g. train_epochs: ${config.min_epochs * 9}), or remove early_stop`,
      });
    }
    const rungs: number[] = [];
    for (let e = config.min_epochs; e < maxEpochs; e = Math.max(e + 1, Math.round(e * config.reduction_factor))) rungs.push(e);
    this.rungs = rungs;
    this.scores = rungs.map(() => []);
  }

  /** The rung index at `epochs` trained, or -1 when that count is not a rung. */
  rungAt(epochs: number): number {
    return this.rungs.indexOf(epochs);
  }

  /** Record a candidate's score at rung k; true when it should train on. Non-finite scores never go on. */
  promote(rung: number, score: number): boolean {
    const seen = this.scores[rung];
    const s = Number.isFinite(score) ? score : -Infinity;
    seen.push(s);
    if (s === -Infinity) return false;
    const keep = Math.max(1, Math.floor(seen.length / this.config.reduction_factor));
    let better = 0;
    for (const x of seen) if (x > s) better++;
    return better < keep;
  }

  /** Scores recorded per rung (copies), for state and reports. */
  recorded(): number[][] {
    return this.scores.map((s) => [...s]);
  }
}
