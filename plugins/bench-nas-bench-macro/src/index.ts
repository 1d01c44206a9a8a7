import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { MACRO_CHOICES, MACRO_LAYERS, MACRO_PARAMS, MACRO_SIZE, MACRO_SPACE_TOKEN, MacroBenchmark, archOfCode, loadMacro, macroCode, macroRow } from './macro.js';
import type { MacroFitness } from './macro.js';
import { nasBenchMacroEstimator, nasBenchMacroEstimatorSchema } from './nas-bench-macro-estimator.js';
import { nasBenchMacroSpace, nasBenchMacroSpaceSchema } from './nas-bench-macro-space.js';

export {
  MACRO_CHOICES,
  MACRO_LAYERS,
  MACRO_PARAMS,
  MACRO_SIZE,
  MACRO_SPACE_TOKEN,
  MacroBenchmark,
  archOfCode,
  loadMacro,
  macroCode,
  macroRow,
  nasBenchMacroEstimator,
  nasBenchMacroEstimatorSchema,
  nasBenchMacroSpace,
  nasBenchMacroSpaceSchema,
};
export type { MacroFitness };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [nasBenchMacroSpace, nasBenchMacroEstimator],
});
