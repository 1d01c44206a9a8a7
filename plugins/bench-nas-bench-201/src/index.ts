import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { nasBench201Estimator } from './nas-bench-201-estimator.js';
import { nasBench201Space } from './nas-bench-201-space.js';
import type { NB201Dataset, NB201SpaceInfo, NB201Table } from './nb201.js';

export { nasBench201Estimator, nasBench201EstimatorSchema } from './nas-bench-201-estimator.js';
export { nasBench201Space, nasBench201SpaceSchema } from './nas-bench-201-space.js';
export { NB201Benchmark, NB201_DATASETS, NB201_DEFAULT_BUDGET, NB201_EDGES, NB201_OPS, NB201_SIZE, NB201_SPACE_TOKEN, archCode, archOfIndex, archString, loadNB201, nb201Benchmark, nb201NetworkKey, parseArchString } from './nb201.js';
export type { NB201Dataset, NB201SpaceInfo, NB201Table };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [nasBench201Space, nasBench201Estimator],
});
