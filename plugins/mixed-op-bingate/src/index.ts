import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { BinaryGateUniformOp, binGateUniform } from './bin-gate-uniform.js';
import { BinaryGateOp, binGate, binGateSchema, binaryGateOptions, drawWithoutReplacement } from './bin-gate.js';
import type { BinaryGateOptions } from './bin-gate.js';

export { BinaryGateOp, BinaryGateUniformOp, binGate, binGateSchema, binGateUniform, binaryGateOptions, drawWithoutReplacement };
export type { BinaryGateOptions };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [binGate, binGateUniform],
});
