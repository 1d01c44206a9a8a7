import { defineComponent, z } from '@modnas/core';
import { MACRO_CHOICES, MACRO_PARAMS, MACRO_SPACE_TOKEN } from './macro.js';

export const nasBenchMacroSpaceSchema = z.strictObject({});

/** NAS-Bench-Macro's macro space as arch params: one categorical param per searchable layer, 3 choices each. */
export const nasBenchMacroSpace = defineComponent({
  kind: 'space',
  id: 'NASBenchMacroSpace',
  description: 'NAS-Bench-Macro search space: 8 layers x 3 choices (identity, MB3E3, MB5E6), 6,561 architectures',
  schema: nasBenchMacroSpaceSchema,
  create(_c, ctx) {
    for (const name of MACRO_PARAMS) ctx.space.categorical({ name, choices: MACRO_CHOICES });
    ctx.container.registerInstance(MACRO_SPACE_TOKEN, { layers: MACRO_PARAMS.length });
    return { describe: () => `NAS-Bench-Macro, ${MACRO_PARAMS.length} layers x ${MACRO_CHOICES.length} choices (${MACRO_CHOICES.join(', ')}), cifar10` };
  },
});
