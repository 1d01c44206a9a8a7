import type { BuildContext, ComponentRef, ComponentSpec, Module, SlotSpec } from '@modnas/core';
import { ModnasError, Slot, Tokens, resolveToken } from '@modnas/core';
import { parseArchDesc, unwrapArchDesc } from './arch-desc.js';

/** The arch_desc a constructor works from: its own `arch_desc` key, else the experiment's (Tokens.ArchDesc). */
export function resolveArchDesc(own: unknown, ctx: BuildContext, id: string): unknown {
  if (own !== null && own !== undefined) return parseArchDesc(own, `${ctx.where}.arch_desc`);
  const desc = resolveToken(ctx.container, Tokens.ArchDesc);
  if (desc !== undefined) return parseArchDesc(desc, 'arch_desc');
  throw new ModnasError('MODNAS_E_ARCHDESC_MISSING', `${id} has no architecture description to build from`, {
    fix: `give arch_desc at the top level of the config (or its YAML file), or as a key of this constructor: { type: ${id}, arch_desc: [...] }`,
    where: ctx.where,
  });
}

export function slotSpec(slot: Slot): SlotSpec {
  return { chnIn: slot.chnIn, chnOut: slot.chnOut, stride: slot.stride, args: slot.args };
}

/** An op a desc entry names: an id ('MB3E6'), or a spec ({ type: MB3E6, ... }). */
export function isOpSpec(entry: unknown): entry is string | ComponentSpec {
  return (typeof entry === 'string' && entry.length > 0) || (typeof entry === 'object' && entry !== null && !Array.isArray(entry) && typeof (entry as { type?: unknown }).type === 'string');
}

/**
 * The op spec an entry stands for: the entry itself, or `{ type, args }` for the original's
 * `[type, {args}]` pair; undefined when it names no op.
 */
export function entrySpec(entry: unknown): string | ComponentSpec | undefined {
  if (isOpSpec(entry)) return entry;
  if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && typeof entry[1] === 'object' && entry[1] !== null && !Array.isArray(entry[1])) {
    return { type: entry[0], args: entry[1] as Record<string, unknown> };
  }
  return undefined;
}

export interface FillOptions {
  /** Fills the first Slot itself (its entry is read and ignored, as the original's fix_first). */
  first?: (slot: Slot) => Module | Promise<Module>;
  /** The constructor's id, for messages. */
  id?: string;
}

/**
 * Fill the model's empty Slots, in traversal order, from the entries of a list: the i-th empty Slot
 * from the i-th entry. Entries are an op id, a one-element list of one (the original's top-1
 * export), a spec, or the original's [id, {args}] pair; null leaves the Slot for a later constructor. Returns the Slots filled.
 */
export async function fillSlotsFromArchDesc(model: Module, desc: unknown, ctx: BuildContext, opts: FillOptions = {}): Promise<number> {
  const id = opts.id ?? 'DefaultSlotArchDescConstructor';
  if (!Array.isArray(desc)) {
    const kind = desc !== null && typeof desc === 'object' ? 'a mapping' : JSON.stringify(desc);
    throw new ModnasError('MODNAS_E_ARCHDESC_SHAPE', `${id} reads a list with one entry per Slot, got ${kind}`, {
      fix: 'use the list that DefaultSlotTraversalExporter writes; a nested mapping (DefaultRecursiveExporter) is read by DefaultRecursiveArchDescConstructor',
      where: ctx.where,
    });
  }
  // The Slots are listed before any is filled, so Slots that the new ops bring along are not visited (as the original).
  const slots = Slot.find(model, { nested: true }).filter(([, s]) => !s.filled);
  if (desc.length < slots.length) {
    throw new ModnasError('MODNAS_E_ARCHDESC_LENGTH', `${id}: the arch_desc has ${desc.length} entries, but the model has ${slots.length} empty Slots`, {
      fix: 'export the description from the same search space (one entry per Slot, in traversal order)',
      where: ctx.where,
    });
  }
  if (desc.length > slots.length) ctx.logger.warn(`${id}: the arch_desc has ${desc.length} entries for ${slots.length} empty Slots; the last ${desc.length - slots.length} are not used`);
  let filled = 0;
  for (let i = 0; i < slots.length; i++) {
    const [path, slot] = slots[i];
    if (i === 0 && opts.first) {
      slot.fill(await opts.first(slot));
      filled++;
      continue;
    }
    const entry = unwrapArchDesc(desc[i]);
    if (entry === null || entry === undefined) {
      ctx.logger.warn(`${id}: arch_desc entry ${i} is empty; Slot ${path} is left for a later constructor`);
      continue;
    }
    const spec = entrySpec(entry);
    if (spec === undefined) {
      throw new ModnasError('MODNAS_E_ARCHDESC_ENTRY', `${id}: arch_desc entry ${i} (Slot ${path}) is ${JSON.stringify(entry)}; a Slot takes one op id (or { type: id, ... }, or [id, {args}])`, {
        fix: Array.isArray(entry) ? 'keep one op per Slot (export the top-1 candidate)' : 'write an op id such as MB3E6',
        where: `${ctx.where}.arch_desc.${i}`,
      });
    }
    slot.fill(await ctx.build('primitive', spec, slotSpec(slot), `${ctx.where}.arch_desc.${i}`));
    filled++;
  }
  return filled;
}

/** The ops an inline list names, for up-front validation. */
export function archDescRefs(desc: unknown): ComponentRef[] {
  if (!Array.isArray(desc)) return [];
  const out: ComponentRef[] = [];
  desc.forEach((e, i) => {
    const spec = entrySpec(unwrapArchDesc(e));
    if (spec !== undefined) out.push({ kind: 'primitive', spec, path: `arch_desc.${i}` });
  });
  return out;
}
