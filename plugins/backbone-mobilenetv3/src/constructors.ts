import type { BuildContext, ComponentRef, ComponentSpec, Module, Slot, StateTransformer } from '@modnas/core';
import type { PrimitiveSpec } from '@modnas/kit-mixed-op';
import { Slot as SlotClass, defineComponent, looseName, z } from '@modnas/core';
import { MobileInvertedConvV3 } from '@modnas/nn';
import { archDescRefs, buildMixedOp, candidatesOf, entrySpec, fillSlotsFromArchDesc, mixedOpConstructorRefs, mixedOpSpec, primitiveId, resolveArchDesc, unwrapArchDesc } from '@modnas/kit-mixed-op';

/** The default candidates: the M3B counterparts of the MobileNetV2 space's six. */
export const MBV3_DEFAULT_PRIMITIVES: readonly string[] = ['M3B3E3', 'M3B3E6', 'M3B5E3', 'M3B5E6', 'M3B7E3', 'M3B7E6'];

const flag = (v: unknown): boolean => v === true || (typeof v === 'number' && v !== 0);

/**
 * The block a MobileNetV3 Slot stands for: MobileInvertedConvV3 with the Slot's chn, kernel_size,
 * use_se and use_hs (as the original's mbv3_predefined_converter).
 */
export function predefinedBlock(slot: Slot): MobileInvertedConvV3 {
  const a = slot.args;
  const chn = typeof a.chn === 'number' ? a.chn : slot.chnIn;
  const k = typeof a.kernel_size === 'number' ? a.kernel_size : 3;
  return new MobileInvertedConvV3(slot.chnIn, slot.chnOut, slot.stride, { chn, kernelSize: k, useSe: flag(a.use_se), useHs: flag(a.use_hs) });
}

/** The plain M3B{k}E{e} ids (the ones with use_se / use_hs config), compared as the registry does. */
const PLAIN_M3B = new Set([3, 5, 7, 9].flatMap((k) => [1, 3, 6, 9].map((e) => looseName(`M3B${k}E${e}`))));

/**
 * keep_config: a plain M3B{k}E{e} candidate gets the block's use_se / use_hs as config (the original
 * passes them to every candidate, and its other candidates then fail to build; here they are left as
 * they are). The flags go where the spec keeps its config (`args`, else beside `type`).
 */
export function withBlockConfig(p: PrimitiveSpec, slot: Slot): PrimitiveSpec {
  if (!PLAIN_M3B.has(looseName(primitiveId(p)))) return p;
  const flags = { use_se: flag(slot.args.use_se) ? 1 : 0, use_hs: flag(slot.args.use_hs) ? 1 : 0 };
  if (typeof p === 'string') return { type: p, ...flags };
  const args = (p as ComponentSpec & { args?: unknown }).args;
  if (args !== null && typeof args === 'object' && !Array.isArray(args)) return { ...p, args: { ...(args as Record<string, unknown>), ...flags } };
  return { ...p, ...flags };
}

const emptySlots = (model: Module): Slot[] => SlotClass.find(model, { nested: true }).filter(([, s]) => !s.filled).map(([, s]) => s);

export const mobileNetV3PredefinedConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV3PredefinedConstructor',
  description: 'Fill every empty Slot with its MobileNetV3 block (the block\'s kernel, expansion, SE and activation): the plain MobileNetV3',
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

export const mobileNetV3SearchConstructorSchema = z.strictObject({
  mixed_op: specSchema
    .default({ type: 'BinGate' })
    .describe('The mixed op that fills each searched Slot: an id, or { type: id, ...its options }'),
  primitives: z
    .array(specSchema)
    .min(1)
    .default(() => [...MBV3_DEFAULT_PRIMITIVES])
    .describe('Candidate ops of every mixed op, in order: primitive ids or { type, ...args }'),
  candidates: z.array(specSchema).min(1).nullable().default(null).describe("The original's name for primitives; used instead of them when given"),
  fix_first: z.boolean().default(true).describe('Keep the first block as in MobileNetV3 instead of searching it'),
  add_zero_op: z.boolean().default(true).describe('Add NIL (skip the block) to the candidates of blocks with a residual (stride 1, same channels)'),
  keep_config: z.boolean().default(true).describe('Give plain M3B{k}E{e} candidates the block\'s squeeze-excite and activation (use_se, use_hs)'),
});

export const mobileNetV3SearchConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV3SearchConstructor',
  description: 'The MobileNetV3 search space: first block fixed, every other block a mixed op over the primitives (with the block\'s SE and activation), plus NIL where the block may be skipped',
  archDescConstructor: 'MobileNetV3ArchDescConstructor',
  schema: mobileNetV3SearchConstructorSchema,
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
          const own = config.keep_config ? prims.map((p) => withBlockConfig(p, slot)) : prims;
          const at = skippable ? `${ctx.where}.mixed_op(+NIL)` : `${ctx.where}.mixed_op`;
          slot.fill(await buildMixedOp(slot, config.mixed_op, skippable ? [...own, 'NIL'] : own, ctx, at));
        }
        return model;
      },
    };
  },
});

export const mobileNetV3ArchDescConstructorSchema = z.strictObject({
  arch_desc: z
    .unknown()
    .default(null)
    .describe('The description (one entry per Slot; with fix_first, entry 0 may be null and is not built from, but a primitive it names must exist), its YAML/JSON file, or null for the top-level arch_desc'),
  fix_first: z.boolean().default(true).describe('Build the first block as in MobileNetV3, whatever its entry says (it may be null)'),
  keep_config: z.boolean().default(true).describe('Give plain M3B{k}E{e} entries the block\'s squeeze-excite and activation (use_se, use_hs), as the search did'),
});

/** The entries with the blocks' flags added to plain M3B ids (entry i for the i-th empty Slot). */
function descWithBlockConfig(desc: unknown, model: Module): unknown {
  if (!Array.isArray(desc)) return desc;
  const slots = emptySlots(model);
  return desc.map((e, i) => {
    const spec = i < slots.length ? entrySpec(unwrapArchDesc(e)) : undefined;
    return spec === undefined ? e : withBlockConfig(spec, slots[i]);
  });
}

export const mobileNetV3ArchDescConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV3ArchDescConstructor',
  description: 'Build the searched MobileNetV3 from an arch_desc: the first block fixed, every other Slot from its entry (with the block\'s SE and activation)',
  schema: mobileNetV3ArchDescConstructorSchema,
  refs: (config) => archDescRefs(config.arch_desc),
  create(config): StateTransformer {
    return {
      async apply(model: Module, ctx: BuildContext) {
        const raw = resolveArchDesc(config.arch_desc, ctx, 'MobileNetV3ArchDescConstructor');
        const desc = config.keep_config ? descWithBlockConfig(raw, model) : raw;
        await fillSlotsFromArchDesc(model, desc, ctx, { id: 'MobileNetV3ArchDescConstructor', first: config.fix_first ? predefinedBlock : undefined });
        return model;
      },
    };
  },
});
