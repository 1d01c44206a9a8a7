import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { FactorizedReduce, IdentityOp, idt } from './idt.js';
import { Nil, nil } from './nil.js';

export { FactorizedReduce, IdentityOp, Nil, idt, nil };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [nil, idt],
});
