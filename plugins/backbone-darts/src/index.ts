import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { darts, imageNetDarts } from './backbones.js';
import { dartsSearchConstructor } from './constructors.js';

export { darts, dartsSchema, imageNetDarts } from './backbones.js';
export { DARTS_PRIMITIVES, dartsSearchConstructor, dartsSearchConstructorSchema } from './constructors.js';
export { isZeroOp, keepStrongest, strongestOp } from './genotype.js';
export type { EdgeChoice, KeptEdge } from './genotype.js';
export { DARTSCell, DARTSNet, FactorizedReducePreproc, PreprocLayer, reductionCells } from './model.js';
export type { CellGenotype, CellType, DARTSCellOptions, DARTSNetOptions, GenotypeEdge } from './model.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [darts, imageNetDarts, dartsSearchConstructor],
});
