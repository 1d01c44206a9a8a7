import type { Exporter } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';

export const mergeExporterSchema = z.strictObject({
  exporters: z
    .record(z.string(), z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]))
    .describe('The exporters, by name: { name: { type, args } }; the export maps each name to its description'),
});

export const mergeExporter = defineComponent({
  kind: 'exporter',
  id: 'MergeExporter',
  description: 'Several exporters as one: a mapping of each name to its exporter\'s description',
  schema: mergeExporterSchema,
  async create(config, ctx): Promise<Exporter> {
    const names = Object.keys(config.exporters);
    if (names.length === 0) {
      throw new ModnasError('MODNAS_E_EXPORT_EMPTY', `${ctx.where}: MergeExporter names no exporter`, {
        fix: 'name at least one: exporters: { params: { type: DefaultParamsExporter } }',
        where: `${ctx.where}.exporters`,
      });
    }
    const parts: Array<[string, Exporter]> = [];
    for (const n of names) parts.push([n, await ctx.build('exporter', config.exporters[n], undefined, `${ctx.where}.exporters.${n}`)]);
    return {
      export(model, space) {
        return Object.fromEntries(parts.map(([n, e]) => [n, e.export(model, space)]));
      },
    };
  },
});
