import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { binaryGateOptim } from './binary-gate-optim.js';

export { BINARY_GATE_ADAM_DEFAULTS, BinaryGateOptim, binaryGateOptim, binaryGateOptimSchema, expectedCost, isBinaryGateOp, measureCosts } from './binary-gate-optim.js';
export type { BinaryGateLike, BinaryGateOptimConfig, CostTable } from './binary-gate-optim.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [binaryGateOptim],
});
