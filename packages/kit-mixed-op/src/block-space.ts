/**
 * The three constructors of a network whose Slots are blocks in a row (MobileNetV2, MobileNetV3):
 * the plain network (every Slot its own block), the search space (the first block kept, every
 * other a mixed op over the candidates, plus NIL where the block may be skipped) and the network
 * an arch_desc describes. A backbone plugin gives the block a Slot stands for, its default
 * candidates and its words; the logic is here, once.
 */
import type { ComponentRef, Module, Slot, StateTransformer } from '@modnas/core';
import { Slot as SlotClass, defineComponent, z } from '@modnas/core';
import type { PrimitiveSpec } from './mixed-op.js';
import { buildMixedOp, candidatesOf, mixedOpConstructorRefs, mixedOpSpec, primitiveId } from './build.js';
import { archDescRefs, entrySpec, fillSlotsFromArchDesc, resolveArchDesc } from './slot-fill.js';
import { unwrapArchDesc } from './arch-desc.js';

/** The Slots of `model` (nested ones included) that nothing fills yet, in traversal order. */
export function emptySlots(model: Module): Slot[] {
  return SlotClass.find(model, { nested: true })
    .filter(([, s]) => !s.filled)
    .map(([, s]) => s);
}

export interface BlockSpaceOptions {
  /** The network's name: the constructors are <net>PredefinedConstructor, <net>SearchConstructor and <net>ArchDescConstructor. */
  net: string;
  /** The block a Slot stands for in the plain network (and the first block of the searched one). */
  block: (slot: Slot) => Module;
  /** The search's default candidates. */
  primitives: readonly string[];
  /** Each constructor's description. */
  describe: { predefined: string; search: string; archDesc: string };
  /**
   * The block's own config given to candidates (key `keep_config`, default true): `apply` returns
   * a candidate spec with the Slot's config added (MobileNetV3's squeeze-excite and activation).
   */
  blockConfig?: { apply: (p: PrimitiveSpec, slot: Slot) => PrimitiveSpec; search: string; archDesc: string };
}

const specSchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

/** The constructors of a block-in-a-row network (see the file's comment). */
export function blockSpaceConstructors(o: BlockSpaceOptions) {
  const { net, block, blockConfig } = o;
  const keepField = (d: string) => ({ keep_config: z.boolean().default(true).describe(d) });
  const keeps = (c: object): boolean => blockConfig !== undefined && (c as { keep_config?: boolean }).keep_config !== false;

  const predefined = defineComponent({
    kind: 'construct',
    id: `${net}PredefinedConstructor`,
    description: o.describe.predefined,
    schema: z.strictObject({}),
    create(): StateTransformer {
      return {
        apply(model) {
          for (const slot of emptySlots(model)) slot.fill(block(slot));
          return model;
        },
      };
    },
  });

  const searchSchema = z.strictObject({
    mixed_op: specSchema.default({ type: 'BinGate' }).describe('The mixed op that fills each searched Slot: an id, or { type: id, ...its options }'),
    primitives: z
      .array(specSchema)
      .min(1)
      .default(() => [...o.primitives])
      .describe('Candidate ops of every mixed op, in order: primitive ids or { type, ...args }'),
    candidates: z.array(specSchema).min(1).nullable().default(null).describe("The original's name for primitives; used instead of them when given"),
    fix_first: z.boolean().default(true).describe(`Keep the first block as in ${net} instead of searching it`),
    add_zero_op: z.boolean().default(true).describe('Add NIL (skip the block) to the candidates of blocks with a residual (stride 1, same channels)'),
    ...(blockConfig ? keepField(blockConfig.search) : {}),
  });

  const search = defineComponent({
    kind: 'construct',
    id: `${net}SearchConstructor`,
    description: o.describe.search,
    archDescConstructor: `${net}ArchDescConstructor`,
    schema: searchSchema,
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
      const keep = keeps(config);
      return {
        async apply(model, ctx) {
          let first = config.fix_first;
          for (const slot of emptySlots(model)) {
            if (first) {
              slot.fill(block(slot));
              first = false;
              continue;
            }
            const skippable = config.add_zero_op && slot.stride === 1 && slot.chnIn === slot.chnOut && !hasNil;
            const own = keep && blockConfig ? prims.map((p) => blockConfig.apply(p, slot)) : prims;
            const at = skippable ? `${ctx.where}.mixed_op(+NIL)` : `${ctx.where}.mixed_op`;
            slot.fill(await buildMixedOp(slot, config.mixed_op, skippable ? [...own, 'NIL'] : own, ctx, at));
          }
          return model;
        },
      };
    },
  });

  const archDescSchema = z.strictObject({
    arch_desc: z
      .unknown()
      .default(null)
      .describe('The description (one entry per Slot; with fix_first, entry 0 may be null and is not built from, but a primitive it names must exist), its YAML/JSON file, or null for the top-level arch_desc'),
    fix_first: z.boolean().default(true).describe(`Build the first block as in ${net}, whatever its entry says (it may be null)`),
    ...(blockConfig ? keepField(blockConfig.archDesc) : {}),
  });

  /** The entries with the blocks' config added (entry i for the i-th empty Slot). */
  const withBlockConfig = (desc: unknown, model: Module): unknown => {
    if (!Array.isArray(desc) || !blockConfig) return desc;
    const slots = emptySlots(model);
    return desc.map((e, i) => {
      const spec = i < slots.length ? entrySpec(unwrapArchDesc(e)) : undefined;
      return spec === undefined ? e : blockConfig.apply(spec, slots[i]);
    });
  };

  const id = `${net}ArchDescConstructor`;
  const archDesc = defineComponent({
    kind: 'construct',
    id,
    description: o.describe.archDesc,
    schema: archDescSchema,
    // entry 0 is ignored when fix_first, but when it names a primitive that primitive must exist (a typo or a hostile id is an error, not silence)
    refs: (config) => archDescRefs(config.arch_desc),
    create(config): StateTransformer {
      const keep = keeps(config);
      return {
        async apply(model, ctx) {
          const raw = resolveArchDesc(config.arch_desc, ctx, id);
          await fillSlotsFromArchDesc(model, keep ? withBlockConfig(raw, model) : raw, ctx, { id, first: config.fix_first ? block : undefined });
          return model;
        },
      };
    },
  });

  return { predefined, search, archDesc };
}
