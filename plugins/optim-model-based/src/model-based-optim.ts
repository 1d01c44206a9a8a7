import type { ArchSpace, Assignment, Logger, Rng, SearchFeedback } from '@modnas/core';
import { ModnasError, defineComponent, silentLogger, z } from '@modnas/core';
import { CategoricalSpaceOptim, componentRng } from '@modnas/kit-optim';
import type { ModelOptim, ModelOptimHost } from './model-optim.js';
import { MODEL_OPTIMS, buildModelOptim, specSchema } from './model-optim.js';
import type { EnsembleScoreModel } from './score-model.js';
import { ENSEMBLE_SCORE_MODEL, buildScoreModel } from './score-model.js';

export const modelBasedOptimSchema = z.strictObject({
  model_config: specSchema
    .default(ENSEMBLE_SCORE_MODEL)
    .describe(
      `Score model: a name or { type, args }. ${ENSEMBLE_SCORE_MODEL} (args ensemble_size, layers, width, steps, lr, weight_decay, loss); the original's XGBoostScoreModel and SKLearnScoreModel are accepted and replaced by the same ensemble (logged)`,
    ),
  model_optim_config: specSchema
    .default('SimulatedAnnealingModelOptim')
    .describe(`Finder of the score model's optima: a name or { type, args }, one of ${MODEL_OPTIMS.join(', ')}`),
  greedy_e: z.number().min(0).max(1).default(0.05).describe('Fraction of each batch of n_next_pts proposals drawn at random instead of from the model (exploration)'),
  n_next_pts: z.number().int().min(1).default(32).describe('The model is refitted after every this many results, and proposes this many points'),
  seed: z.number().int().nonnegative().default(0).describe("Seed of the random draws, the annealing and the MLP initialisation, mixed with the experiment's seed"),
});
export type ModelBasedConfig = z.output<typeof modelBasedOptimSchema>;

interface Scored {
  arch: Assignment;
  score: number;
}

/**
 * Model-based search (the original's ModelBasedOptim): random points until n_next_pts results are
 * in; then, after every n_next_pts results, a score model is fitted on every (architecture, score)
 * pair and a model optimizer proposes its best n_next_pts unvisited points, of which the last
 * greedy_e fraction is replaced by random ones. No network is proposed twice (equivalent architectures, by the space's networkKey, count as one).
 */
export class ModelBasedOptim extends CategoricalSpaceOptim {
  private visited = new Set<string>();
  private train: Scored[] = [];
  private nextXs: Assignment[] = [];
  private nextPt = 0;
  private trainCt = 0;
  private built?: EnsembleScoreModel;
  readonly modelOptim: ModelOptim;

  constructor(
    space: ArchSpace,
    rng: Rng,
    readonly config: ModelBasedConfig,
    private readonly logger: Logger = silentLogger,
  ) {
    super('ModelBasedOptim', space, rng);
    const host: ModelOptimHost = {
      params: () => this.params,
      rng: this.rng,
      key: (a) => space.networkKey(a),
      randomUnseen: (taken) => this.randomUnseen(taken),
    };
    this.modelOptim = buildModelOptim(config.model_optim_config, host);
    // fail at build time on a bad score-model name or args, not at the first fit
    buildScoreModel(config.model_config, [], silentLogger);
  }

  /** The score model, built at first use (its encoder needs the params, read lazily). */
  private get model(): EnsembleScoreModel {
    return (this.built ??= buildScoreModel(this.config.model_config, this.params, this.logger));
  }

  /** Score-model fits so far. */
  get fits(): number {
    return this.trainCt;
  }

  override hasNext(): boolean {
    return BigInt(this.visited.size) < this.spaceSize();
  }

  next(n: number): Assignment[] {
    const out: Assignment[] = [];
    const random = Math.trunc(this.config.greedy_e * this.config.n_next_pts);
    while (out.length < n && this.hasNext()) {
      while (this.nextPt < this.nextXs.length && this.visited.has(this.space.networkKey(this.nextXs[this.nextPt]))) this.nextPt++;
      let arch: Assignment | undefined;
      if (this.nextPt < this.nextXs.length - random) arch = this.nextXs[this.nextPt++];
      else arch = this.randomUnseen((k) => this.visited.has(k));
      if (!arch) break;
      this.visited.add(this.space.networkKey(arch));
      out.push(arch);
    }
    return out;
  }

  override step(feedback: SearchFeedback): void {
    for (const r of feedback.results) if (Number.isFinite(r.score)) this.train.push({ arch: { ...r.arch }, score: r.score });
    if (this.train.length < this.config.n_next_pts * (this.trainCt + 1)) return;
    this.model.fit(
      this.train.map((t) => t.arch),
      this.train.map((t) => t.score),
      this.rng,
    );
    try {
      this.nextXs = this.modelOptim.getOptimums(this.model, this.config.n_next_pts, this.visited);
    } finally {
      this.model.dispose();
    }
    this.nextPt = 0;
    this.trainCt++;
  }

  protected saveState(): Record<string, unknown> {
    return {
      visited: [...this.visited],
      train: this.train.map((t) => ({ arch: { ...t.arch }, score: t.score })),
      next_xs: this.nextXs.map((a) => ({ ...a })),
      next_pt: this.nextPt,
      train_ct: this.trainCt,
      model_optim: this.modelOptim.state(),
    };
  }

  protected loadState(s: Record<string, unknown>): void {
    if (!Array.isArray(s.visited) || !Array.isArray(s.train) || !Array.isArray(s.next_xs)) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', 'ModelBasedOptim: the state has no visited/train/next_xs lists', { fix: 'restore a state saved by ModelBasedOptim' });
    }
    this.visited = new Set((s.visited as unknown[]).map(String));
    this.train = (s.train as Scored[]).map((t) => ({ arch: { ...t.arch }, score: Number(t.score) }));
    this.nextXs = (s.next_xs as Assignment[]).map((a) => ({ ...a }));
    this.nextPt = Number(s.next_pt ?? 0);
    this.trainCt = Number(s.train_ct ?? 0);
    this.modelOptim.restore((s.model_optim ?? {}) as Record<string, unknown>);
  }
}

export const modelBasedOptim = defineComponent({
  kind: 'optim',
  id: 'ModelBasedOptim',
  description: 'Fits a score model (an MLP ensemble) on the evaluated architectures every n_next_pts results and proposes its predicted optima, found by simulated annealing or random sampling',
  schema: modelBasedOptimSchema,
  create: (c, ctx) => new ModelBasedOptim(ctx.space, componentRng(c.seed, ctx.rng), c, ctx.logger),
});
