import type { Exporter, Module } from '@modnas/core';
import { Slot, defineComponent, z } from '@modnas/core';
import { archDescOf, archDescWriter, archDescFileFields } from '@modnas/kit-mixed-op';

export const defaultRecursiveExporterSchema = z.strictObject({
  keep_empty: z.boolean().default(false).describe('Keep modules with nothing to describe (as {}), as the original does; false leaves them out'),
  ...archDescFileFields,
});

const isEmpty = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);

/**
 * A module that describes itself (toArchDesc, or a Slot whose op does) gives its description;
 * any other module gives a mapping from its children's names to their descriptions.
 * DefaultRecursiveArchDescConstructor reads this mapping back.
 */
export function recursiveDesc(model: Module, { keepEmpty = false }: { keepEmpty?: boolean } = {}): unknown {
  const visited = new Set<Module>();
  const visit = (m: Module): unknown => {
    if (visited.has(m)) return null;
    visited.add(m);
    const own = m instanceof Slot ? archDescOf(m.impl) : archDescOf(m);
    if (own !== null && own !== undefined) return own;
    const out: Record<string, unknown> = {};
    for (const [n, c] of m.children()) {
      const d = visit(c);
      if (keepEmpty || !isEmpty(d)) out[n] = d ?? null;
    }
    return out;
  };
  return visit(model);
}

export const defaultRecursiveExporter = defineComponent({
  kind: 'exporter',
  id: 'DefaultRecursiveExporter',
  description: 'A nested description: every module that describes itself, under the names of the modules that hold it',
  archDescConstructor: 'DefaultRecursiveArchDescConstructor',
  schema: defaultRecursiveExporterSchema,
  create(config, ctx): Exporter {
    const write = archDescWriter(ctx, config.path, config.format);
    return {
      export(model) {
        const desc = recursiveDesc(model, { keepEmpty: config.keep_empty });
        write?.(desc);
        return desc;
      },
    };
  },
});
