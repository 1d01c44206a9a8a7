import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { idt } from './idt.js';
import { nil } from './nil.js';

export { FactorizedReduce, IdentityOp, idt } from './idt.js';
export { Nil, nil } from './nil.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [nil, idt],
});
