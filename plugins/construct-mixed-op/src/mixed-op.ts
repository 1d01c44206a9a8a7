import type { StateTransformer } from '@modnas/core';
import { Slot as SlotClass, defineComponent, z } from '@modnas/core';
import { DEFAULT_PRIMITIVES, buildMixedOp, candidatesOf, mixedOpConstructorRefs } from '@modnas/kit-mixed-op';

const specSchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

export const defaultMixedOpConstructorSchema = z.strictObject({
  mixed_op: specSchema.default({ type: 'BinGate' }).describe('The mixed op that fills each Slot: an id, or { type: id, ...its options }'),
  primitives: z
    .array(specSchema)
    .min(1)
    .default(() => [...DEFAULT_PRIMITIVES])
    .describe('Candidate ops of every mixed op, in order (the arch param indexes them): primitive ids or { type, ...args }'),
  candidates: z.array(specSchema).min(1).nullable().default(null).describe("The original's name for primitives; used instead of them when given"),
});

export type DefaultMixedOpConstructorConfig = z.output<typeof defaultMixedOpConstructorSchema>;

export const defaultMixedOpConstructor = defineComponent({
  kind: 'construct',
  id: 'DefaultMixedOpConstructor',
  description: 'Fill every empty Slot with a mixed op over the given primitives (the supernet)',
  archDescConstructor: 'DefaultSlotArchDescConstructor',
  schema: defaultMixedOpConstructorSchema,
  refs: mixedOpConstructorRefs,
  create(config): StateTransformer {
    const prims = candidatesOf(config);
    return {
      async apply(model, ctx) {
        // Listed before filling: ops brought in by the mixed ops are not visited (as the original).
        const slots = SlotClass.find(model, { nested: true }).filter(([, s]) => !s.filled);
        for (const [, slot] of slots) slot.fill(await buildMixedOp(slot, config.mixed_op, prims, ctx, `${ctx.where}.mixed_op`));
        return model;
      },
    };
  },
});
