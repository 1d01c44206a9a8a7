import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { BANANASOptim, bananasOptim, bananasOptimSchema } from './bananas-optim.js';
import type { BANANASConfig } from './bananas-optim.js';
import { MAX_PATH_FEATURES, adjacencyEncoder, pathEncoder } from './encoding.js';
import type { Encoder } from './encoding.js';
import { fitEnsemble } from './ensemble.js';
import type { EnsembleOptions, FittedEnsemble, Prediction } from './ensemble.js';

export { BANANASOptim, bananasOptim, bananasOptimSchema, MAX_PATH_FEATURES, adjacencyEncoder, pathEncoder, fitEnsemble };
export type { BANANASConfig, Encoder, EnsembleOptions, FittedEnsemble, Prediction };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [bananasOptim],
});
