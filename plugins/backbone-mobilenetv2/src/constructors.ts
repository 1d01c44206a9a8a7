import type { ComponentRef, Slot, StateTransformer } from '@modnas/core';
import type { PrimitiveSpec } from '@modnas/kit-mixed-op';
import { Slot as SlotClass, defineComponent, z } from '@modnas/core';
import { MobileInvertedConv } from '@modnas/nn';
import { DEFAULT_PRIMITIVES, archDescRefs, buildMixedOp, candidatesOf, fillSlotsFromArchDesc, mixedOpConstructorRefs, mixedOpSpec, primitiveId, resolveArchDesc } from '@modnas/kit-mixed-op';

/**
 * The block a MobileNetV2 Slot stands for: a 3x3 inverted residual conv with the block's expansion
 * (the Slot's `expansion` arg, 6 when absent), as the original's mbv2_predefined_convert_fn.
 */
export function predefinedBlock(slot: Slot): MobileInvertedConv {
  const t = typeof slot.args.expansion === 'number' ? slot.args.expansion : 6;
  return new MobileInvertedConv(slot.chnIn, slot.chnOut, slot.stride, { expansion: t, kernelSize: 3 });
}

const emptySlots = (model: Parameters<typeof SlotClass.find>[0]): Slot[] => SlotClass.find(model, { nested: true }).filter(([, s]) => !s.filled).map(([, s]) => s);

export const mobileNetV2PredefinedConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV2PredefinedConstructor',
  description: 'Fill every empty Slot with its MobileNetV2 block (3x3, the block\'s expansion): the plain MobileNetV2',
  schema: z.strictObject({}),
  create(): StateTransformer {
    return {
      apply(model) {
        for (const slot of emptySlots(model)) slot.fill(predefinedBlock(slot));
        return model;
      },
    };
  },
});

const specSchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

export const mobileNetV2SearchConstructorSchema = z.strictObject({
  mixed_op: specSchema
    .default({ type: 'BinGate' })
    .describe('The mixed op that fills each searched Slot: an id, or { type: id, ...its options }'),
  primitives: z
    .array(specSchema)
    .min(1)
    .default(() => [...DEFAULT_PRIMITIVES])
    .describe('Candidate ops of every mixed op, in order: primitive ids or { type, ...args }'),
  candidates: z.array(specSchema).min(1).nullable().default(null).describe("The original's name for primitives; used instead of them when given"),
  fix_first: z.boolean().default(true).describe('Keep the first block as in MobileNetV2 (3x3, expansion 1) instead of searching it'),
  add_zero_op: z.boolean().default(true).describe('Add NIL (skip the block) to the candidates of blocks with a residual (stride 1, same channels)'),
});

export const mobileNetV2SearchConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV2SearchConstructor',
  description: 'The MobileNetV2 search space: first block fixed, every other block a mixed op over the primitives, plus NIL where the block may be skipped',
  archDescConstructor: 'MobileNetV2ArchDescConstructor',
  schema: mobileNetV2SearchConstructorSchema,
  refs(config): ComponentRef[] {
    const refs = mixedOpConstructorRefs(config);
    if (config.add_zero_op) {
      const prims = candidatesOf(config);
      if (!prims.some((p) => primitiveId(p) === 'NIL')) refs.push({ kind: 'mixed-op', spec: mixedOpSpec(config.mixed_op, [...prims, 'NIL']), path: 'mixed_op(+NIL)' }, { kind: 'primitive', spec: 'NIL', path: 'add_zero_op' });
    }
    return refs;
  },
  create(config): StateTransformer {
    const prims: PrimitiveSpec[] = candidatesOf(config);
    const hasNil = prims.some((p) => primitiveId(p) === 'NIL');
    const mixedOp = config.mixed_op;
    return {
      async apply(model, ctx) {
        let first = config.fix_first;
        for (const slot of emptySlots(model)) {
          if (first) {
            slot.fill(predefinedBlock(slot));
            first = false;
            continue;
          }
          const skippable = config.add_zero_op && slot.stride === 1 && slot.chnIn === slot.chnOut && !hasNil;
          const at = skippable ? `${ctx.where}.mixed_op(+NIL)` : `${ctx.where}.mixed_op`;
          slot.fill(await buildMixedOp(slot, mixedOp, skippable ? [...prims, 'NIL'] : prims, ctx, at));
        }
        return model;
      },
    };
  },
});

export const mobileNetV2ArchDescConstructorSchema = z.strictObject({
  arch_desc: z
    .unknown()
    .default(null)
    .describe('The description (one entry per Slot; with fix_first, entry 0 may be null and is not built from, but a primitive it names must exist), its YAML/JSON file, or null for the top-level arch_desc'),
  fix_first: z.boolean().default(true).describe('Build the first block as in MobileNetV2, whatever its entry says (it may be null)'),
});

export const mobileNetV2ArchDescConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV2ArchDescConstructor',
  description: 'Build the searched MobileNetV2 from an arch_desc: the first block fixed, every other Slot from its entry',
  schema: mobileNetV2ArchDescConstructorSchema,
  // entry 0 is ignored when fix_first, but when it names a primitive that primitive must exist (a typo or a hostile id is an error, not silence)
  refs: (config) => archDescRefs(config.arch_desc),
  create(config): StateTransformer {
    return {
      async apply(model, ctx) {
        const desc = resolveArchDesc(config.arch_desc, ctx, 'MobileNetV2ArchDescConstructor');
        await fillSlotsFromArchDesc(model, desc, ctx, { id: 'MobileNetV2ArchDescConstructor', first: config.fix_first ? predefinedBlock : undefined });
        return model;
      },
    };
  },
});
