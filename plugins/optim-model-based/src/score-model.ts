import type { Assignment, DiscreteParam, Logger, Rng } from '@modnas/core';
import { ModnasError, looseName, z } from '@modnas/core';
import { adjacencyEncoder, fitEnsemble } from '@modnas/kit-optim';
import type { Encoder, EnsembleOptions } from '@modnas/kit-optim';
import type { ScoreModel, Spec } from './model-optim.js';
import { specParts } from './model-optim.js';

/** The score model of this package: an ensemble of small MLPs on the one-hot encoding (the BANANAS predictor). */
export const ENSEMBLE_SCORE_MODEL = 'MLPEnsembleScoreModel';
/** The original's score models (sklearn, xgboost): accepted by name, replaced by the ensemble. */
export const REPLACED_SCORE_MODELS = ['XGBoostScoreModel', 'SKLearnScoreModel'] as const;
/** The names `model_config` accepts (matched ignoring case, `_` and `-`). */
export const SCORE_MODELS = [ENSEMBLE_SCORE_MODEL, ...REPLACED_SCORE_MODELS];

export const ensembleArgsSchema = z.strictObject({
  ensemble_size: z.number().int().min(1).default(5).describe('MLPs in the ensemble (the prediction is their mean)'),
  layers: z.number().int().min(1).default(1).describe('Hidden layers per MLP'),
  width: z.number().int().min(1).default(20).describe('Units per hidden layer'),
  steps: z.number().int().min(1).default(200).describe('Full-batch Adam steps per fit'),
  lr: z.number().positive().default(0.01).describe('Adam learning rate'),
  weight_decay: z.number().nonnegative().default(0).describe('L2 penalty on the MLP weights'),
  loss: z.enum(['mse', 'mae', 'mape']).default('mse').describe('Training loss on the standardised scores (mse: the regression objective of the original’s XGBoost model)'),
});

/** The original's args of the replaced models: accepted so its configs load, and logged as unused. */
const REPLACED_ARGS: Record<(typeof REPLACED_SCORE_MODELS)[number], string[]> = {
  XGBoostScoreModel: ['loss_type', 'xgb_kwargs'],
  SKLearnScoreModel: ['model_cls', 'module', 'model_kwargs'],
};

/** A score model fitted on (architecture, score) pairs and asked for predicted scores. */
export class EnsembleScoreModel implements ScoreModel {
  private readonly encoder: Encoder;
  private fitted?: ReturnType<typeof fitEnsemble>;

  constructor(
    params: DiscreteParam[],
    readonly options: EnsembleOptions,
  ) {
    this.encoder = adjacencyEncoder(params);
  }

  /** Refit from scratch on every pair so far (as the original refits its regressor). */
  fit(archs: Assignment[], scores: number[], rng: Rng): void {
    this.dispose();
    this.fitted = fitEnsemble(
      archs.map((a) => this.encoder.encode(a)),
      scores,
      this.options,
      rng,
    );
  }

  predict(archs: Assignment[]): Float64Array {
    if (!this.fitted) throw new ModnasError('MODNAS_E_OPTIM_PREDICTOR', 'ModelBasedOptim: the score model was asked to predict before any fit');
    return this.fitted.predict(archs.map((a) => this.encoder.encode(a))).mean;
  }

  dispose(): void {
    this.fitted?.dispose();
    this.fitted = undefined;
  }
}

/** Build the score model `model_config` names (the original's sklearn / xgboost names give the ensemble, and say so in the log). */
export function buildScoreModel(spec: Spec, params: DiscreteParam[], logger: Logger): EnsembleScoreModel {
  const { type, args } = specParts(spec);
  const name = SCORE_MODELS.find((n) => looseName(n) === looseName(type));
  if (!name) {
    throw new ModnasError('MODNAS_E_OPTIM_CONFIG', `ModelBasedOptim: unknown score model "${type}"`, {
      fix: `set model_config to ${ENSEMBLE_SCORE_MODEL} (${REPLACED_SCORE_MODELS.join(' and ')} are accepted and give the same ensemble)`,
      where: 'optim.model_config',
    });
  }
  let own = args;
  if (name !== ENSEMBLE_SCORE_MODEL) {
    const unused = REPLACED_ARGS[name as (typeof REPLACED_SCORE_MODELS)[number]];
    own = Object.fromEntries(Object.entries(args).filter(([k]) => !unused.includes(k)));
    const ignored = Object.keys(args).filter((k) => unused.includes(k));
    logger.info(
      `ModelBasedOptim: ${name} (python) is replaced by ${ENSEMBLE_SCORE_MODEL}, an ensemble of small MLPs on the one-hot encoding` +
        (ignored.length > 0 ? `; its args ${ignored.join(', ')} are not used` : ''),
    );
  }
  const parsed = ensembleArgsSchema.safeParse(own);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModnasError('MODNAS_E_OPTIM_CONFIG', `ModelBasedOptim: model_config.args.${issue.path.join('.') || '(args)'}: ${issue.message}`, {
      fix: `the score model takes ${Object.keys(ensembleArgsSchema.shape).join(', ')}`,
      where: 'optim.model_config.args',
    });
  }
  const a = parsed.data;
  return new EnsembleScoreModel(params, { size: a.ensemble_size, layers: a.layers, width: a.width, steps: a.steps, lr: a.lr, weightDecay: a.weight_decay, loss: a.loss });
}
