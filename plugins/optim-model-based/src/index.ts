import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { modelBasedOptim } from './model-based-optim.js';

export { ModelBasedOptim, modelBasedOptim, modelBasedOptimSchema } from './model-based-optim.js';
export type { ModelBasedConfig } from './model-based-optim.js';
export {
  MODEL_OPTIMS,
  RandomSamplingModelOptim,
  SimulatedAnnealingModelOptim,
  buildModelOptim,
  randomSamplingModelOptimSchema,
  simulatedAnnealingModelOptimSchema,
} from './model-optim.js';
export type { ModelOptim, ModelOptimHost, ScoreModel, Spec } from './model-optim.js';
export { ENSEMBLE_SCORE_MODEL, EnsembleScoreModel, REPLACED_SCORE_MODELS, SCORE_MODELS, buildScoreModel, ensembleArgsSchema } from './score-model.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [modelBasedOptim],
});
