import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { nasBenchMacroEstimator } from './nas-bench-macro-estimator.js';
import { nasBenchMacroSpace } from './nas-bench-macro-space.js';
import type { MacroFitness } from './macro.js';

export { MACRO_CHOICES, MACRO_LAYERS, MACRO_PARAMS, MACRO_SIZE, MACRO_SPACE_TOKEN, MacroBenchmark, archOfCode, loadMacro, macroCode, macroRow } from './macro.js';
export { nasBenchMacroEstimator, nasBenchMacroEstimatorSchema } from './nas-bench-macro-estimator.js';
export { nasBenchMacroSpace, nasBenchMacroSpaceSchema } from './nas-bench-macro-space.js';
export type { MacroFitness };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [nasBenchMacroSpace, nasBenchMacroEstimator],
});
