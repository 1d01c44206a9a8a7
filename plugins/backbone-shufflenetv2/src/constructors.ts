import type { ComponentRef, Module, Slot, StateTransformer } from '@modnas/core';
import type { PrimitiveSpec } from '@modnas/kit-mixed-op';
import { Slot as SlotClass, defineComponent, z } from '@modnas/core';
import { buildMixedOp, candidatesOf, mixedOpConstructorRefs, mixedOpSpec, primitiveId } from '@modnas/kit-mixed-op';
import { ShuffleUnit } from './shuffle-unit.js';

/** The Single Path One-Shot choice block candidates: ShuffleNetV2 units of kernel 3, 5, 7 and the Xception unit. */
export const SPOS_CANDIDATES = ['SHU3', 'SHU5', 'SHU7', 'SHX3'] as const;

const emptySlots = (model: Module): Slot[] => SlotClass.find(model, { nested: true }).filter(([, s]) => !s.filled).map(([, s]) => s);

/** May a Slot be skipped (IDT added to its candidates)? Only where it keeps the shape: stride 1, same channels. */
export const skippable = (slot: Pick<Slot, 'stride' | 'chnIn' | 'chnOut'>): boolean => slot.stride === 1 && slot.chnIn === slot.chnOut;

export const shuffleNetV2PredefinedConstructor = defineComponent({
  kind: 'construct',
  id: 'ShuffleNetV2PredefinedConstructor',
  description: 'Fill every empty Slot with SHU3 (the ShuffleNetV2 unit, 3x3 depthwise): the plain ShuffleNetV2',
  schema: z.strictObject({}),
  create(): StateTransformer {
    return {
      apply(model) {
        // as the original's build('SHU3', slot): chn_mid is chnOut // 2, whatever the Slot says
        for (const slot of emptySlots(model)) slot.fill(new ShuffleUnit(slot.chnIn, slot.chnOut, slot.stride, { kernelSize: 3, id: 'SHU3' }));
        return model;
      },
    };
  },
});

const specSchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

export const shuffleNetV2SearchConstructorSchema = z.strictObject({
  mixed_op: specSchema.default('Index').describe('The mixed op that fills each Slot: an id, or { type: id, ...its options }; Index runs one sampled path, as SPOS'),
  primitives: z
    .array(specSchema)
    .min(1)
    .default(() => [...SPOS_CANDIDATES])
    .describe('Candidate ops of every mixed op, in order: primitive ids or { type, ...args }; default the SPOS choices SHU3, SHU5, SHU7, SHX3'),
  candidates: z.array(specSchema).min(1).nullable().default(null).describe("The original's name for primitives; used instead of them when given"),
  add_identity_op: z.boolean().default(true).describe('Add IDT (skip the unit) to the candidates of Slots that keep the shape (stride 1, same channels)'),
});

export const shuffleNetV2SearchConstructor = defineComponent({
  kind: 'construct',
  id: 'ShuffleNetV2SearchConstructor',
  description: 'The ShuffleNetV2 (SPOS) search space: every unit a mixed op over SHU/SHX candidates, plus IDT where the unit may be skipped',
  archDescConstructor: 'DefaultRecursiveArchDescConstructor',
  schema: shuffleNetV2SearchConstructorSchema,
  refs(config): ComponentRef[] {
    const refs = mixedOpConstructorRefs(config);
    const prims = candidatesOf(config);
    if (config.add_identity_op && !prims.some((p) => primitiveId(p) === 'IDT')) {
      refs.push({ kind: 'mixed-op', spec: mixedOpSpec(config.mixed_op, [...prims, 'IDT']), path: 'mixed_op(+IDT)' }, { kind: 'primitive', spec: 'IDT', path: 'add_identity_op' });
    }
    return refs;
  },
  create(config): StateTransformer {
    const prims: PrimitiveSpec[] = candidatesOf(config);
    const hasIdt = prims.some((p) => primitiveId(p) === 'IDT');
    return {
      async apply(model, ctx) {
        for (const slot of emptySlots(model)) {
          const addIdt = config.add_identity_op && !hasIdt && skippable(slot);
          slot.fill(await buildMixedOp(slot, config.mixed_op, addIdt ? [...prims, 'IDT'] : prims, ctx, `${ctx.where}.mixed_op${addIdt ? '(+IDT)' : ''}`));
        }
        return model;
      },
    };
  },
});
