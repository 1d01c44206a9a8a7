import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { hpTuneEstim } from './hp-tune-estim.js';
import { defaultHParamSpaceConstructor } from './hparams.js';

export { HPTuneEstim, hpTuneEstim, hpTuneEstimSchema } from './hp-tune-estim.js';
export type { HPTuneEstimConfig } from './hp-tune-estim.js';
export { HParamSpaceConstructor, declareHParams, defaultHParamSpaceConstructor, hparamSpaceSchema } from './hparams.js';
export type { HParamSpaceConfig } from './hparams.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [hpTuneEstim, defaultHParamSpaceConstructor],
});
