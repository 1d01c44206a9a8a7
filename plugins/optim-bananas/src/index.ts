import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { bananasOptim } from './bananas-optim.js';
import type { BANANASConfig } from './bananas-optim.js';
import type { Encoder } from './encoding.js';
import type { EnsembleOptions, FittedEnsemble, Prediction } from './ensemble.js';

export { BANANASOptim, bananasOptim, bananasOptimSchema } from './bananas-optim.js';
export { MAX_PATH_FEATURES, adjacencyEncoder, pathEncoder } from './encoding.js';
export { fitEnsemble } from './ensemble.js';
export type { BANANASConfig, Encoder, EnsembleOptions, FittedEnsemble, Prediction };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [bananasOptim],
});
