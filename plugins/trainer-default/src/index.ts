import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultTrainer } from './default-trainer.js';

export { DefaultTrainer, LR_SCHEDULERS, OPTIMIZERS, clipByGlobalNorm, defaultTrainer, defaultTrainerSchema } from './default-trainer.js';
export type { DefaultTrainerConfig, LrSchedulerName, OptimizerName } from './default-trainer.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultTrainer],
});
