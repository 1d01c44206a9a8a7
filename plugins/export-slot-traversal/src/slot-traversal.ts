import type { Exporter, Module } from '@modnas/core';
import { Slot, defineComponent, z } from '@modnas/core';
import { archDescOf, archDescWriter, archDescFileFields } from '@modnas/kit-mixed-op';

export const defaultSlotTraversalExporterSchema = z.strictObject({
  ...archDescFileFields,
});

/** The description of each Slot of a network in traversal order (nested Slots included): its op's toArchDesc(), or null. */
export function slotTraversalDesc(model: Module): unknown[] {
  const seen = new Set<Slot>();
  const out: unknown[] = [];
  for (const [, slot] of Slot.find(model, { nested: true })) {
    if (seen.has(slot)) continue;
    seen.add(slot);
    out.push(archDescOf(slot.impl) ?? null);
  }
  return out;
}

export const defaultSlotTraversalExporter = defineComponent({
  kind: 'exporter',
  id: 'DefaultSlotTraversalExporter',
  description: 'A list with one entry per Slot, in traversal order: the description of what fills it (the chosen candidate of a mixed op)',
  archDescConstructor: 'DefaultSlotArchDescConstructor',
  schema: defaultSlotTraversalExporterSchema,
  create(config, ctx): Exporter {
    const write = archDescWriter(ctx, config.path, config.format);
    return {
      export(model) {
        const desc = slotTraversalDesc(model);
        write?.(desc);
        return desc;
      },
    };
  },
});
