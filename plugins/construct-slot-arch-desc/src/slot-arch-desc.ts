import type { StateTransformer } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { archDescRefs, fillSlotsFromArchDesc, resolveArchDesc } from '@modnas/kit-mixed-op';
export const defaultSlotArchDescConstructorSchema = z.strictObject({
  arch_desc: z
    .unknown()
    .default(null)
    .describe('The description (a list, one op per Slot), its YAML/JSON file, or null for the top-level arch_desc of the experiment'),
});

export const defaultSlotArchDescConstructor = defineComponent({
  kind: 'construct',
  id: 'DefaultSlotArchDescConstructor',
  description: 'Fill each empty Slot, in order, with the op named by the same entry of an arch_desc list',
  schema: defaultSlotArchDescConstructorSchema,
  refs: (config) => archDescRefs(config.arch_desc),
  create(config): StateTransformer {
    return {
      async apply(model, ctx) {
        const desc = resolveArchDesc(config.arch_desc, ctx, 'DefaultSlotArchDescConstructor');
        await fillSlotsFromArchDesc(model, desc, ctx);
        return model;
      },
    };
  },
});
