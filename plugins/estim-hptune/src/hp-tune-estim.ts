import type { Assignment, EstimContext, EstimResult, NumericParam, StateEstimator, TrialResult, TrialRunner } from '@modnas/core';
import { ModnasError, Tokens, defineComponent, isModnasError, resolveToken, z } from '@modnas/core';
import { formatNum, isAborted, isBetterTrial, isDivergedError, reportCandidate } from '@modnas/kit-estim';

export const hpTuneEstimSchema = z.strictObject({
  trial_config: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .describe("The experiment each trial runs: a config file inside the experiment's config folder, or the config itself"),
  trial_args: z
    .strictObject({
      name: z.string().default('trial').describe('Trials are named <name>_<index> (index from 1) and run in <experiment folder>/trials/<name>_<index>'),
    })
    .default({ name: 'trial' })
    .describe("The trials' run arguments"),
  epochs: z.number().int().min(-1).default(-1).describe('Rounds of batch_size trials; -1 = until the optimizer has proposed every candidate'),
  batch_size: z.number().int().positive().default(1).describe('Hyperparameter sets asked of the optimizer per round (optim.next(n))'),
  early_stopping: z.number().int().positive().nullable().default(null).describe('Stop after this many rounds without a better score (null = never)'),
  is_async: z.boolean().default(false).describe("The original's asynchronous trials: accepted for its configs; trials run one after another here"),
  metric: z.string().nullable().default(null).describe("A trial's score: null = its best score (its last estimator's best, else its acc); else this metric of its last estimator"),
});
export type HPTuneEstimConfig = z.output<typeof hpTuneEstimSchema>;

/** Trial errors that every trial would meet alike: the search stops with them instead of going on. */
const CONFIG_ERRORS = /^MODNAS_E_(TRIAL|CONFIG|REGISTRY)_/;

/** "trainer.lr=0.1 trainer.momentum=0.5" for the log. */
function formatHp(hp: Assignment): string {
  return Object.entries(hp)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNum(v) : v}`)
    .join(' ');
}

/**
 * The original's HPTuneEstim: each hyperparameter set the optimizer proposes (names are dotted
 * config keys) runs as a trial experiment, the trial config with those keys overridden, in a
 * sub-folder of this experiment's; the trial's best score is the candidate's score. Numeric
 * hyperparameters, which the categorical optimizers do not search, are drawn uniformly in their
 * range for each trial (as is everything when the space has no categorical param).
 */
export class HPTuneEstim implements StateEstimator {
  constructor(readonly config: HPTuneEstimConfig) {}

  async run(ctx: EstimContext): Promise<EstimResult> {
    const { epochs, batch_size, early_stopping } = this.config;
    const runner = resolveToken(ctx.container, Tokens.TrialRunner);
    if (!runner) {
      throw new ModnasError('MODNAS_E_HPTUNE_RUNNER', `HPTuneEstim (estim.${ctx.name}) needs a trial runner, and none is bound`, {
        fix: 'run the experiment with the modnas runtime (modnas run), which binds Tokens.TrialRunner',
        where: `estim.${ctx.name}`,
      });
    }
    const discrete = ctx.space.discrete().length > 0;
    const optim = discrete ? ctx.optim : undefined;
    if (epochs === -1 && !optim) {
      throw new ModnasError('MODNAS_E_CONFIG_INVALID', `estim.${ctx.name}.epochs is -1 (until the optimizer is done), but ${discrete ? 'no optimizer is configured' : 'the space has no categorical hyperparameter for an optimizer to walk'}`, {
        fix: `set estim.${ctx.name}.epochs to the number of rounds${discrete ? ', or configure an optimizer (e.g. optim: { type: GridSearchOptim })' : ''}`,
        where: `estim.${ctx.name}.epochs`,
      });
    }
    const numeric = ctx.space.all().filter((p): p is NumericParam => p.type === 'numeric');
    let best: TrialResult | undefined;
    let bestRound = 0;
    let index = 0;
    let done = 0;
    for (let round = 0; epochs === -1 || round < epochs; round++) {
      if (isAborted(ctx)) break;
      if (optim && !optim.hasNext()) {
        ctx.logger.info(`${ctx.name}: every candidate was proposed`);
        break;
      }
      const proposed: Assignment[] = optim ? optim.next(batch_size) : Array.from({ length: batch_size }, () => ctx.space.random(ctx.rng));
      if (proposed.length === 0) break;
      const results: TrialResult[] = [];
      for (const proposal of proposed) {
        const hp: Assignment = { ...proposal };
        for (const p of numeric) if (!(p.name in hp)) hp[p.name] = p.low + (p.high - p.low) * ctx.rng.next();
        index += 1;
        const r = await this.trial(ctx, runner, hp, index);
        if (r.status === undefined) done += 1;
        await reportCandidate(ctx, r, index - 1);
        results.push(r);
        if (isBetterTrial(r, best, (t) => optim?.isFeasible?.(t) ?? true)) {
          best = r;
          bestRound = round;
        }
        if (isAborted(ctx)) break;
      }
      if (optim) await optim.step({ results });
      if (early_stopping !== null && round >= bestRound + early_stopping) {
        ctx.logger.info(`${ctx.name}: early stopped at round ${round + 1}: no better score in ${early_stopping} rounds`);
        break;
      }
    }
    if (index > 0 && done === 0 && !isAborted(ctx)) {
      throw new ModnasError('MODNAS_E_HPTUNE_ALL_FAILED', `HPTuneEstim (estim.${ctx.name}): all ${index} trials failed`, {
        fix: "read the trials' logs under trials/ in the experiment folder",
        where: `estim.${ctx.name}`,
      });
    }
    return { best, metrics: { best_score: best?.score ?? Number.NaN, trials: index } };
  }

  private async trial(ctx: EstimContext, runner: TrialRunner, hp: Assignment, index: number): Promise<TrialResult> {
    const name = `${this.config.trial_args.name}_${index}`;
    const t0 = Date.now();
    try {
      const s = await runner.run({ name, config: this.config.trial_config, overrides: hp });
      const metric = this.config.metric;
      const score = metric === null ? s.bestScore : (s.metrics[metric] ?? Number.NaN);
      ctx.logger.info(`${ctx.name}: trial ${name} ${formatHp(hp)} -> score ${score}`);
      return { arch: hp, score, metrics: s.metrics, seconds: (Date.now() - t0) / 1000 };
    } catch (e) {
      if (isModnasError(e) && CONFIG_ERRORS.test(e.code)) throw e;
      const diverged = isDivergedError(e);
      ctx.logger.warn(`${ctx.name}: trial ${name} ${diverged ? 'diverged' : 'failed'}: ${(e as Error).message}`);
      return { arch: hp, score: Number.NaN, metrics: {}, status: diverged ? 'diverged' : 'failed', error: (e as Error).message, seconds: (Date.now() - t0) / 1000 };
    }
  }
}

export const hpTuneEstim = defineComponent({
  kind: 'estim',
  id: 'HPTuneEstim',
  description: 'Hyperparameter tuning: each proposed set runs the trial config as an experiment of its own, scored by its best score',
  schema: hpTuneEstimSchema,
  create: (c) => new HPTuneEstim(c),
});
