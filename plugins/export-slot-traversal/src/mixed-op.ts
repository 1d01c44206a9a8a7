import type { Exporter, Module } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { MixedOp, archDescWriter, archDescFileFields } from '@modnas/kit-mixed-op';

export const defaultMixedOpExporterSchema = z.strictObject({
  fn_args: z
    .strictObject({
      k: z.number().int().positive().optional().describe('The k most probable candidates of each op, best first (absent: the chosen one)'),
    })
    .default({})
    .describe("Arguments of each mixed op's description (the original's to_arch_desc(k))"),
  ...archDescFileFields,
});

/** The description of every mixed op of a network, pre-order: its chosen candidate, or its k most probable. */
export function mixedOpDesc(model: Module, k?: number): unknown[] {
  return MixedOp.find(model).map(([, op]) => (k === undefined ? op.toArchDesc() : op.topK(k)));
}

export const defaultMixedOpExporter = defineComponent({
  kind: 'exporter',
  id: 'DefaultMixedOpExporter',
  description: 'A list with one entry per mixed op, in traversal order: its chosen candidate (or its k most probable)',
  schema: defaultMixedOpExporterSchema,
  create(config, ctx): Exporter {
    const write = archDescWriter(ctx, config.path, config.format);
    return {
      export(model) {
        const desc = mixedOpDesc(model, config.fn_args.k);
        write?.(desc);
        return desc;
      },
    };
  },
});
