import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { binGateUniform } from './bin-gate-uniform.js';
import { binGate } from './bin-gate.js';
import type { BinaryGateOptions } from './bin-gate.js';

export { BinaryGateUniformOp, binGateUniform } from './bin-gate-uniform.js';
export { BinaryGateOp, binGate, binGateSchema, binaryGateOptions, drawWithoutReplacement } from './bin-gate.js';
export type { BinaryGateOptions };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [binGate, binGateUniform],
});
