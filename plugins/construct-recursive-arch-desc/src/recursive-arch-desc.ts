import type { BuildContext, Module, StateTransformer } from '@modnas/core';
import type { ArchDescConvert } from '@modnas/kit-mixed-op';
import { ModnasError, Slot, defineComponent, z } from '@modnas/core';
import { isOpSpec, resolveArchDesc, slotSpec } from '@modnas/kit-mixed-op';

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const defaultRecursiveArchDescConstructorSchema = z.strictObject({
  arch_desc: z
    .unknown()
    .default(null)
    .describe('The nested description, its YAML/JSON file, or null for the top-level arch_desc of the experiment'),
  construct_fn: z
    .string()
    .min(1)
    .default('buildFromArchDesc')
    .describe('Method that a module implements to build its own parts from its part of the description'),
});

/**
 * Walks the module tree with the description. A module with the `construct_fn` method
 * (buildFromArchDesc(desc, convert)) builds itself from its part; an empty Slot is filled with
 * the op its part names; a mapping hands each child the value under the child's name (what
 * DefaultRecursiveExporter writes); any other value is handed to every child unchanged (as the
 * original, which passes the whole description down and lets a Slot take its first entry).
 */
export class RecursiveArchDescBuilder {
  filled = 0;

  constructor(
    private readonly ctx: BuildContext,
    private readonly constructFn: string,
  ) {}

  /** Fill one Slot from a part of the description. */
  readonly convert: ArchDescConvert = async (slot, desc) => {
    let entry = desc;
    if (Array.isArray(entry)) {
      if (entry.length > 1) this.ctx.logger.warn(`DefaultRecursiveArchDescConstructor: a Slot got a list of ${entry.length} entries and takes the first; for one entry per Slot use DefaultSlotArchDescConstructor`);
      entry = entry[0];
    }
    if (entry === null || entry === undefined) return undefined;
    if (!isOpSpec(entry)) {
      throw new ModnasError('MODNAS_E_ARCHDESC_ENTRY', `DefaultRecursiveArchDescConstructor: an empty Slot (chnIn=${slot.chnIn}, chnOut=${slot.chnOut}, stride=${slot.stride}) got ${JSON.stringify(entry)}, which names no op`, {
        fix: 'give the Slot an op id (e.g. MB3E6) at its place in the description',
        where: this.ctx.where,
      });
    }
    const m = await this.ctx.build('primitive', entry, slotSpec(slot));
    slot.fill(m);
    this.filled++;
    return m;
  };

  async visit(module: Module, desc: unknown, path = ''): Promise<void> {
    const fn = (module as unknown as Record<string, unknown>)[this.constructFn];
    if (typeof fn === 'function') {
      await (fn as (d: unknown, c: ArchDescConvert) => unknown).call(module, desc, this.convert);
      return;
    }
    if (module instanceof Slot && !module.filled) {
      await this.convert(module, desc);
      return;
    }
    const children = module.children();
    if (isMapping(desc)) {
      const names = new Set(children.map(([n]) => n));
      const unknown = Object.keys(desc).filter((k) => !names.has(k));
      if (unknown.length) {
        throw new ModnasError('MODNAS_E_ARCHDESC_ENTRY', `DefaultRecursiveArchDescConstructor: ${path || 'the model'} has no part${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (it has ${[...names].join(', ') || 'none'})`, {
          fix: 'export the description from the same network (DefaultRecursiveExporter)',
          where: this.ctx.where,
        });
      }
      for (const [n, c] of children) if (n in desc) await this.visit(c, desc[n], path ? `${path}.${n}` : n);
      return;
    }
    for (const [n, c] of children) await this.visit(c, desc, path ? `${path}.${n}` : n);
  }
}

export const defaultRecursiveArchDescConstructor = defineComponent({
  kind: 'construct',
  id: 'DefaultRecursiveArchDescConstructor',
  description: 'Build the network from a nested description, visiting modules recursively (modules may build their own parts)',
  schema: defaultRecursiveArchDescConstructorSchema,
  create(config): StateTransformer {
    return {
      async apply(model, ctx) {
        const desc = resolveArchDesc(config.arch_desc, ctx, 'DefaultRecursiveArchDescConstructor');
        await new RecursiveArchDescBuilder(ctx, config.construct_fn).visit(model, desc);
        return model;
      },
    };
  },
});
