import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { dartsOps } from './darts-ops.js';
import { fcOps } from './fc-ops.js';
import { idt } from './idt.js';
import { nil } from './nil.js';

export { DilConv, KERNEL_SIZES, Pool, PoolBN, SepConv, StdConv, dartsOps } from './darts-ops.js';
export { FacConv, fcOps } from './fc-ops.js';
export { FactorizedReduce, IdentityOp, idt } from './idt.js';
export { Nil, nil } from './nil.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [nil, idt, ...dartsOps, ...fcOps],
});
