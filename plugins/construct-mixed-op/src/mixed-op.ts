import type { BuildContext, ComponentRef, ComponentSpec, Module, Slot, StateTransformer } from '@modnas/core';
import type { PrimitiveSpec } from '@modnas/kit-mixed-op';
import { Slot as SlotClass, defineComponent, z } from '@modnas/core';
import { DEFAULT_PRIMITIVES } from '@modnas/kit-mixed-op';

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

/** The id a candidate spec names. */
export const primitiveId = (p: PrimitiveSpec): string => (typeof p === 'string' ? p : p.type);

/** The mixed-op spec for a list of candidates: `{ ...mixed_op, primitives }` (mixed_op's own primitives win). */
export function mixedOpSpec(mixedOp: string | ComponentSpec, primitives: readonly PrimitiveSpec[]): ComponentSpec {
  const spec: ComponentSpec = typeof mixedOp === 'string' ? { type: mixedOp } : { ...mixedOp };
  const args = spec.args as Record<string, unknown> | undefined;
  return 'primitives' in spec || (args && typeof args === 'object' && 'primitives' in args) ? spec : { ...spec, primitives: [...primitives] };
}

export function candidatesOf(config: Pick<DefaultMixedOpConstructorConfig, 'primitives' | 'candidates'>): PrimitiveSpec[] {
  return [...((config.candidates ?? config.primitives) as PrimitiveSpec[])];
}

/** What a mixed-op constructor refers to: the mixed op (with its primitives) and each primitive. */
export function mixedOpConstructorRefs(config: Pick<DefaultMixedOpConstructorConfig, 'primitives' | 'candidates' | 'mixed_op'>): ComponentRef[] {
  const prims = candidatesOf(config);
  return [
    { kind: 'mixed-op', spec: mixedOpSpec(config.mixed_op, prims), path: 'mixed_op' },
    ...prims.map((p, i): ComponentRef => ({ kind: 'primitive', spec: p, path: `${config.candidates ? 'candidates' : 'primitives'}.${i}` })),
  ];
}

/** Build the mixed op for one Slot through the registry (the mixed op builds its candidates). */
export async function buildMixedOp(slot: Slot, mixedOp: string | ComponentSpec, primitives: readonly PrimitiveSpec[], ctx: BuildContext, at?: string): Promise<Module> {
  return ctx.build('mixed-op', mixedOpSpec(mixedOp, primitives), { chnIn: slot.chnIn, chnOut: slot.chnOut, stride: slot.stride, args: slot.args }, at);
}

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
