import type { Exporter } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { archDescWriter, archDescFileFields } from '@modnas/kit-mixed-op';
import { elasticArchDesc } from '@modnas/kit-elastic';

export const elasticArchDescExporterSchema = z.strictObject({
  fix_first: z.boolean().default(true).describe('Write null for the first block (MobileNetV2ArchDescConstructor builds it fixed)'),
  max_stage_depth: z
    .number()
    .int()
    .positive()
    .default(4)
    .describe("The original's blocks-per-stage assumption; accepted for compatibility, the stages' own depths are used"),
  ...archDescFileFields,
});

/**
 * The arch_desc of the current subnet of an elastic MobileNetV2: one entry per Slot, null for the
 * fixed first block, NIL for blocks that elastic depth leaves out, MB<k>E<e> for the others (their
 * active kernel size and expansion). MobileNetV2ArchDescConstructor builds the fixed network from it.
 */
export const mobileNetV2ElasticArchDescExporter = defineComponent({
  kind: 'exporter',
  id: 'MobileNetV2ElasticArchDescExporter',
  description: 'Arch description of the current subnet of an elastic MobileNetV2 (null, NIL or MB<k>E<e> per block)',
  archDescConstructor: 'MobileNetV2ArchDescConstructor',
  schema: elasticArchDescExporterSchema,
  create(config, ctx): Exporter {
    const write = archDescWriter(ctx, config.path, config.format);
    return {
      export(model) {
        const desc = elasticArchDesc(model, { fixFirst: config.fix_first });
        write?.(desc);
        return desc;
      },
    };
  },
});
