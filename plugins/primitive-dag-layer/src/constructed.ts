import type { ComponentRef, ComponentSpec, Module } from '@modnas/core';
import { Slot, defineComponent, z } from '@modnas/core';

const specSchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

export const constructedSchema = z.strictObject({
  module: specSchema.nullable().default(null).describe("The primitive built for the Slot first (the original's module); null: an empty Slot of the same spec, for the constructors to fill"),
  construct: z
    .union([specSchema, z.array(specSchema), z.record(z.string(), specSchema)])
    .default([])
    .describe('Constructors applied to it in order: one spec, a list, or a mapping of them (its values in order, as the original streamlines them)'),
});

export type ConstructedConfig = z.output<typeof constructedSchema>;
type Spec = string | ComponentSpec;

/** The constructor specs in order, as the original's streamline_spec reads them. */
export function constructSpecs(construct: ConstructedConfig['construct']): Spec[] {
  if (typeof construct === 'string') return [construct];
  if (Array.isArray(construct)) return construct;
  if (typeof (construct as { type?: unknown }).type === 'string') return [construct as ComponentSpec];
  return Object.values(construct as Record<string, Spec>);
}

/**
 * The original's Constructed: an op for a Slot made by constructors. The module (or an empty
 * Slot) is built for the Slot's spec, then each constructor is applied to it in turn, as they are
 * to a whole network: e.g. a DAGLayer whose edges a DefaultMixedOpConstructor fills with mixed ops,
 * as one candidate of an outer search.
 */
export const constructed = defineComponent({
  kind: 'primitive',
  id: 'Constructed',
  description: 'The module built for the Slot (or an empty Slot), then rewritten by the given constructors (the original Constructed)',
  schema: constructedSchema,
  refs(c): ComponentRef[] {
    const refs: ComponentRef[] = c.module === null ? [] : [{ kind: 'primitive', spec: c.module, path: 'module' }];
    const specs = constructSpecs(c.construct);
    const keyed = !Array.isArray(c.construct) && typeof c.construct === 'object' && typeof (c.construct as { type?: unknown }).type !== 'string';
    const keys = keyed ? Object.keys(c.construct) : [];
    specs.forEach((s, i) => refs.push({ kind: 'construct', spec: s, path: Array.isArray(c.construct) ? `construct.${i}` : keyed ? `construct.${keys[i]}` : 'construct' }));
    return refs;
  },
  async create(c, ctx, slot) {
    let m: Module = c.module === null ? new Slot({ ...slot.args, chnIn: slot.chnIn, chnOut: slot.chnOut, stride: slot.stride }) : await ctx.build('primitive', c.module, slot, `${ctx.where}.module`);
    const specs = constructSpecs(c.construct);
    try {
      for (let i = 0; i < specs.length; i++) {
        const t = await ctx.build('construct', specs[i], undefined, `${ctx.where}.construct.${i}`);
        m = await t.apply(m, ctx);
      }
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  },
});
