import type { BuildContext, CategoricalParam, Module, StateTransformer } from '@modnas/core';
import { ModnasError, Slot, defineComponent, z } from '@modnas/core';
import { ElasticStage, ensureElasticBlock, isElasticStage } from '@modnas/kit-elastic';

const rangeSchema = (what: string, dflt: number[]) =>
  z
    .union([z.array(z.number().int().positive()).min(1), z.array(z.array(z.number().int().positive()).min(1)).min(1)])
    .default(dflt)
    .describe(`${what}: one list for every group, or one list per group`);

// ---------------------------------------------------------------- schemas

const spatialFields = {
  fix_first: z.boolean().default(true).describe('Leave the first block (expansion 1, no expand conv) as it is'),
  expansion_range: rangeSchema('Expansion ratios each block may shrink to (width = chnIn x ratio; larger than the block\'s own are dropped)', [1, 3, 6]),
  rank_fn: z
    .enum(['l1_fan_in', 'l1_fan_out', 'bn_l1', 'none'])
    .default('l1_fan_in')
    .describe('How hidden channels are ranked before shrinking: L1 of the project conv inputs, of the expand conv outputs, |γ| of the depthwise BN, or none'),
};
const sequentialFields = {
  repeat_range: rangeSchema('Depths each stage may shrink to (larger than the stage are dropped)', [1, 2, 3, 4]),
};
const kernelFields = {
  fix_first: z.boolean().default(true).describe('Leave the first block as it is'),
  kernel_range: rangeSchema('Depthwise kernel sizes each block may shrink to (odd; larger than the block\'s own are dropped)', [3, 5, 7]),
  kernel_transform: z
    .boolean()
    .default(true)
    .describe("Once-for-All's learnable kernel transformation matrices (identity at start) between sizes; false: plain centre crops"),
};
const searchField = z.boolean().default(true).describe('Add an arch param per elastic group (spa_*, seq_*, ker_*) for a search after training; false: elastic modules only');

export const elasticSpatialSchema = z.strictObject({ ...spatialFields, search: searchField });
export const elasticSequentialSchema = z.strictObject({ ...sequentialFields, search: searchField });
export const elasticKernelSchema = z.strictObject({ ...kernelFields, search: searchField });
export const elasticSchema = z.strictObject({
  search: searchField,
  spatial_kwargs: z
    .strictObject(spatialFields)
    .nullable()
    .prefault({})
    .describe('Options of the width (expansion) part; null: no elastic width'),
  sequential_kwargs: z
    .strictObject(sequentialFields)
    .nullable()
    .prefault({})
    .describe('Options of the depth part; null: no elastic depth'),
  kernel_kwargs: z
    .strictObject(kernelFields)
    .nullable()
    .prefault({})
    .describe('Options of the kernel part (Once-for-All); null: no elastic kernel. With 3x3 blocks (the predefined MobileNetV2) it adds nothing'),
});

export type ElasticSpatialConfig = z.output<typeof elasticSpatialSchema>;
export type ElasticSequentialConfig = z.output<typeof elasticSequentialSchema>;
export type ElasticKernelConfig = z.output<typeof elasticKernelSchema>;

// ---------------------------------------------------------------- helpers

type Range = number[] | number[][];

function rangeFor(range: Range, i: number, what: string, where: string): number[] {
  if (typeof range[0] === 'number') return range as number[];
  const r = (range as number[][])[i];
  if (!r) {
    throw new ModnasError('MODNAS_E_ELASTIC_RANGE', `${what} gives ${range.length} per-group lists, but group ${i} needs one`, { fix: 'give one list per group, or a single list for every group', where });
  }
  return r;
}

/** Values of `range` allowed by `max` (sorted, unique); warns once about dropped ones. */
function allowed(range: number[], max: number, what: string, ctx: BuildContext, warned: Set<string>): number[] {
  const keep = [...new Set(range.filter((v) => v <= max))].sort((a, b) => a - b);
  const dropped = range.filter((v) => v > max);
  if (dropped.length && !warned.has(`${what}:${dropped.join(',')}:${max}`)) {
    warned.add(`${what}:${dropped.join(',')}:${max}`);
    ctx.logger.warn(`${ctx.where}: ${what} ${dropped.join(', ')} dropped for a group whose largest is ${max}`);
  }
  return keep.length ? keep : [max];
}

/** A categorical arch param over `values` starting at the largest (the full supernet). */
function param(ctx: BuildContext, values: number[], prefix: string): CategoricalParam {
  return ctx.space.categorical({ choices: values, default: values.length - 1 }, prefix);
}

function searchSlots(model: Module, fixFirst: boolean): Slot[] {
  const slots = Slot.find(model).map(([, s]) => s);
  return fixFirst ? slots.slice(1) : slots;
}

// ---------------------------------------------------------------- the three transforms

/** Width (expansion ratio) elastic blocks, with a `spa_<n>` param per block when searching. */
export function applyElasticSpatial(model: Module, c: Omit<ElasticSpatialConfig, 'search'>, search: boolean, ctx: BuildContext): void {
  const warned = new Set<string>();
  searchSlots(model, c.fix_first).forEach((slot, i) => {
    const block = ensureElasticBlock(slot, ctx.where);
    if (!block.expand) {
      throw new ModnasError('MODNAS_E_ELASTIC_BLOCK', `block ${i} (${slot.chnIn}->${slot.chnOut}) has no expand conv, so its width cannot shrink`, {
        fix: 'keep fix_first: true (the first MobileNetV2 block has expansion 1), or exclude such blocks',
        where: ctx.where,
      });
    }
    const values = allowed(rangeFor(c.expansion_range, i, 'expansion_range', ctx.where), block.maxExpansion, 'expansion ratios', ctx, warned);
    block.widthElastic = true;
    block.rank = c.rank_fn;
    if (search && values.length > 1) {
      const p = param(ctx, values, 'spa');
      block.bound.width = p;
      p.onChange((q) => block.setWidth(block.chnIn * Number((q as CategoricalParam).value)));
    }
    block.syncFromParams();
  });
}

/** Depth elastic stages (each stage of more than one block), with a `seq_<n>` param per stage when searching. */
export function applyElasticSequential(model: Module, c: Omit<ElasticSequentialConfig, 'search'>, search: boolean, ctx: BuildContext): void {
  const container = (model as unknown as { bottlenecks?: unknown }).bottlenecks;
  if (!(container && typeof container === 'object' && typeof (container as Module).children === 'function')) {
    throw new ModnasError('MODNAS_E_ELASTIC_MODEL', `elastic depth needs a MobileNetV2-like model with its stages under "bottlenecks"; ${model.constructor.name} has none`, {
      fix: 'use a MobileNetV2 backbone (e.g. CIFAR_MobileNetV2_GPU), or leave the sequential part out (sequential_kwargs: null)',
      where: ctx.where,
    });
  }
  const stages = container as Module;
  const warned = new Set<string>();
  stages.children().forEach(([name, stage], i) => {
    if (stage.children().length <= 1) return;
    let es: ElasticStage;
    if (isElasticStage(stage)) es = stage;
    else {
      stage.children().forEach(([bn, block], j) => {
        if (j === 0) return;
        const slots = Slot.find(block);
        const residual = (block as { residual?: unknown }).residual;
        const keepsShape = typeof residual === 'boolean' ? residual : slots.every(([, s]) => s.stride === 1 && s.chnIn === s.chnOut);
        if (!keepsShape) {
          throw new ModnasError('MODNAS_E_ELASTIC_MODEL', `stage "${name}" block "${bn}" changes stride or channels, so depth cannot skip it`, { where: ctx.where });
        }
      });
      es = new ElasticStage(stage);
      stages.addModule(name, es);
    }
    const values = allowed(rangeFor(c.repeat_range, i, 'repeat_range', ctx.where), es.maxDepth, 'depths', ctx, warned);
    if (search && values.length > 1) {
      const p = param(ctx, values, 'seq');
      es.bound = p;
      p.onChange((q) => es.setDepth(Number((q as CategoricalParam).value)));
    }
    es.syncFromParams();
  });
}

/** Kernel elastic blocks (Once-for-All), with a `ker_<n>` param per block when searching. */
export function applyElasticKernel(model: Module, c: Omit<ElasticKernelConfig, 'search'>, search: boolean, ctx: BuildContext): void {
  const warned = new Set<string>();
  searchSlots(model, c.fix_first).forEach((slot, i) => {
    const block = ensureElasticBlock(slot, ctx.where);
    const values = allowed(rangeFor(c.kernel_range, i, 'kernel_range', ctx.where), block.maxKernel, 'kernel sizes', ctx, warned);
    block.enableKernels(values, c.kernel_transform);
    const sizes = [...block.kernelSizes].filter((k) => values.includes(k)).sort((a, b) => a - b);
    if (search && sizes.length > 1) {
      const p = param(ctx, sizes, 'ker');
      block.bound.kernel = p;
      p.onChange((q) => block.setKernel(Number((q as CategoricalParam).value)));
    }
    block.syncFromParams();
  });
}

// ---------------------------------------------------------------- components

export const mobileNetV2ElasticSpatialConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV2ElasticSpatialConstructor',
  description: 'Elastic width: each MobileNetV2 block may use fewer hidden channels (expansion ratios), the most important first',
  archDescConstructor: 'MobileNetV2ArchDescConstructor',
  schema: elasticSpatialSchema,
  create(config): StateTransformer {
    return {
      apply(model, ctx) {
        applyElasticSpatial(model, config, config.search, ctx);
        return model;
      },
    };
  },
});

export const mobileNetV2ElasticSequentialConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV2ElasticSequentialConstructor',
  description: 'Elastic depth: each MobileNetV2 stage may skip its trailing blocks',
  archDescConstructor: 'MobileNetV2ArchDescConstructor',
  schema: elasticSequentialSchema,
  create(config): StateTransformer {
    return {
      apply(model, ctx) {
        applyElasticSequential(model, config, config.search, ctx);
        return model;
      },
    };
  },
});

export const mobileNetV2ElasticKernelConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV2ElasticKernelConstructor',
  description: 'Elastic kernel size (Once-for-All): each block\'s depthwise conv may use the centre of its kernel, through learnable transformation matrices',
  archDescConstructor: 'MobileNetV2ArchDescConstructor',
  schema: elasticKernelSchema,
  create(config): StateTransformer {
    return {
      apply(model, ctx) {
        applyElasticKernel(model, config, config.search, ctx);
        return model;
      },
    };
  },
});

export const mobileNetV2ElasticConstructor = defineComponent({
  kind: 'construct',
  id: 'MobileNetV2ElasticConstructor',
  description: 'Elastic depth, width and kernel size on a MobileNetV2 (Once-for-All supernet), with arch params for a subnet search',
  archDescConstructor: 'MobileNetV2ArchDescConstructor',
  schema: elasticSchema,
  create(config): StateTransformer {
    return {
      apply(model, ctx) {
        // The original's order: depth groups, then width groups; kernel groups last.
        if (config.sequential_kwargs) applyElasticSequential(model, config.sequential_kwargs, config.search, ctx);
        if (config.spatial_kwargs) applyElasticSpatial(model, config.spatial_kwargs, config.search, ctx);
        if (config.kernel_kwargs) applyElasticKernel(model, config.kernel_kwargs, config.search, ctx);
        return model;
      },
    };
  },
});
