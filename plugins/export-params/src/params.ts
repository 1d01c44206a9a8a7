import type { ArchParam, ArchSpace, Exporter } from '@modnas/core';
import { DiscreteParam, ModnasError, NumericParam, TensorParam, defineComponent, z } from '@modnas/core';
import { archDescWriter, archDescFileFields } from '@modnas/kit-mixed-op';

export const defaultParamsExporterSchema = z.strictObject({
  with_keys: z.boolean().default(true).describe('A mapping name -> value; false: a list of values in creation order'),
  tensor: z
    .enum(['values', 'argmax', 'softmax'])
    .default('values')
    .describe('How a tensor param (e.g. mixed-op logits) is written: its values (as the original), the index of the largest, or softmax probabilities'),
  export_fmt: z
    .string()
    .nullable()
    .default(null)
    .describe('A Python-style format string filled with the values ("{t_0}" by name, "{}" / "{0}" by position); the export is then that string'),
  ...archDescFileFields,
});

type TensorMode = z.output<typeof defaultParamsExporterSchema>['tensor'];

export function paramValue(p: ArchParam, tensor: TensorMode): unknown {
  if (p instanceof TensorParam) {
    if (tensor === 'argmax') return p.argmax();
    const v = p.toArray();
    if (tensor === 'softmax') {
      const m = Math.max(...v);
      const e = v.map((x) => Math.exp(x - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / s);
    }
    return v;
  }
  if (p instanceof DiscreteParam) return p.value;
  if (p instanceof NumericParam) return p.value;
  return null;
}

/** Python's str.format for plain fields: {name}, {0}, {} (format specs after ':' are ignored), {{ and }} escape. */
export function formatPython(fmt: string, named: Record<string, unknown>, positional: unknown[]): string {
  let auto = 0;
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  return fmt.replace(/\{\{|\}\}|\{([^{}:!]*)(?:[:!][^{}]*)?\}/g, (m, field: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const key = field ?? '';
    if (key === '') return show(positional[auto++]);
    if (/^\d+$/.test(key)) return show(positional[Number(key)]);
    if (!(key in named)) {
      throw new ModnasError('MODNAS_E_EXPORT_FORMAT', `DefaultParamsExporter: export_fmt names "${key}", which is no arch param`, {
        fix: `use one of ${Object.keys(named).join(', ') || '(no params)'}`,
      });
    }
    return show(named[key]);
  });
}

export function paramsExport(space: ArchSpace, opts: { withKeys?: boolean; tensor?: TensorMode; exportFmt?: string | null } = {}): unknown {
  const tensor = opts.tensor ?? 'values';
  const entries = space.all().map((p): [string, unknown] => [p.name, paramValue(p, tensor)]);
  const named = Object.fromEntries(entries);
  const values = entries.map(([, v]) => v);
  if (opts.exportFmt) return formatPython(opts.exportFmt, opts.withKeys === false ? {} : named, values);
  return opts.withKeys === false ? values : named;
}

export const defaultParamsExporter = defineComponent({
  kind: 'exporter',
  id: 'DefaultParamsExporter',
  description: 'The values of the arch params: name -> value (categorical choices, numbers, tensor values)',
  schema: defaultParamsExporterSchema,
  create(config, ctx): Exporter {
    const write = archDescWriter(ctx, config.path, config.format);
    return {
      export(_model, space) {
        const desc = paramsExport(space, { withKeys: config.with_keys, tensor: config.tensor, exportFmt: config.export_fmt });
        write?.(desc);
        return desc;
      },
    };
  },
});
