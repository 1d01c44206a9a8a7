import { extname } from 'node:path';
import type { Exporter } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { archDescWriter } from '@modnas/kit-mixed-op';

const exporterSpec = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

export const defaultToFileExporterSchema = z.strictObject({
  path: z.string().min(1).describe('The file, relative to the experiment folder (it may not leave it); without an extension, ext is added'),
  ext: z.enum(['yaml', 'yml', 'json']).default('yaml').describe("The format where path has no extension (the path's own extension wins, as the original)"),
  exporter: exporterSpec
    .default('DefaultParamsExporter')
    .describe('The exporter whose description is written (the original wrote what the previous exporter of its chain returned)'),
});

/** The file and its format: path's own extension, else path + '.' + ext (the original's rule). */
export function toFilePath(path: string, ext: string): { file: string; format: 'yaml' | 'json' } {
  const own = extname(path).slice(1).toLowerCase();
  const e = own || ext;
  return { file: own ? path : `${path}.${e}`, format: e === 'json' ? 'json' : 'yaml' };
}

export const defaultToFileExporter = defineComponent({
  kind: 'exporter',
  id: 'DefaultToFileExporter',
  description: "Writes another exporter's description to a file (YAML or JSON, a string as it is) and returns it",
  schema: defaultToFileExporterSchema,
  async create(config, ctx): Promise<Exporter> {
    const inner = await ctx.build('exporter', config.exporter, undefined, `${ctx.where}.exporter`);
    const { file, format } = toFilePath(config.path, config.ext);
    // checked as the experiment is built, so a bad path fails before any training
    const write = archDescWriter(ctx, file, format);
    return {
      export(model, space) {
        const desc = inner.export(model, space);
        write?.(desc);
        return desc;
      },
    };
  },
});
