import type { BuildContext, ComponentRef, ComponentSpec, Module, StateTransformer } from '@modnas/core';
import type { PrimitiveSpec } from '@modnas/kit-mixed-op';
import { Slot, defineComponent, z } from '@modnas/core';
import { buildMixedOp, candidatesOf, mixedOpConstructorRefs } from '@modnas/kit-mixed-op';
import type { CellType, DARTSCell } from './model.js';
import { DARTSNet } from './model.js';

/** The DARTS candidates (Liu et al. 2019) under the original's names; NIL (zero) last, as its exporter assumes. */
export const DARTS_PRIMITIVES: readonly string[] = ['MAX', 'AVG', 'IDT', 'SC3', 'SC5', 'DC3', 'DC5', 'NIL'];

const specSchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

export const dartsSearchConstructorSchema = z.strictObject({
  mixed_op: specSchema.default({ type: 'WeightedSum' }).describe('The mixed op on every edge: an id, or { type: id, ...its options } (its param is set per edge)'),
  primitives: z
    .array(specSchema)
    .min(1)
    .default(() => [...DARTS_PRIMITIVES])
    .describe('Candidate ops of every edge, in order: primitive ids or { type, ...args }. Default: the DARTS ops (MAX, AVG, IDT, SC3, SC5, DC3, DC5, NIL)'),
  candidates: z.array(specSchema).min(1).nullable().default(null).describe("The original's name for primitives; used instead of them when given"),
  shared: z.boolean().default(true).describe('Share one arch param per edge position among the cells of a type (DARTS: one α for all normal cells, one for all reduction cells); false: one per edge of every cell'),
});

/** The mixed-op spec of one edge: the configured spec, its arch param named `param`. */
function withParam(mixedOp: string | ComponentSpec, param: string): ComponentSpec {
  const spec: ComponentSpec = typeof mixedOp === 'string' ? { type: mixedOp } : { ...mixedOp };
  const args = spec.args as Record<string, unknown> | undefined;
  if (args && typeof args === 'object') return { ...spec, args: { ...args, param } };
  return { ...spec, param };
}

/**
 * Declare the cell graphs for pictures of the space: per cell type, its two inputs and its
 * intermediate nodes, one edge per Slot, each carrying that edge's (shared) arch param.
 */
function declareCells(ctx: BuildContext, cells: ReadonlyArray<readonly [label: string, cell: DARTSCell]>): void {
  const nodes: string[] = [];
  const edges: Array<{ from: number; to: number; param: string }> = [];
  for (const [label, cell] of cells) {
    const base = nodes.length;
    nodes.push(`${label} c_{k-2}`, `${label} c_{k-1}`, ...Array.from({ length: cell.nNodes }, (_, i) => `${label} ${i}`));
    for (let i = 0; i < cell.nNodes; i++) {
      for (const [j, slot] of cell.nodeEdges(i)) {
        const param = (slot.impl as { archParam?: { name: string } } | undefined)?.archParam?.name;
        if (param && ctx.space.has(param)) edges.push({ from: base + j, to: base + 2 + i, param });
      }
    }
  }
  if (edges.length > 0) ctx.space.declareGraph({ nodes, edges });
}

export const dartsSearchConstructor = defineComponent({
  kind: 'construct',
  id: 'DARTSSearchConstructor',
  description: 'The DARTS search space: every cell edge a mixed op over the DARTS ops, the cells of a type sharing their arch params',
  archDescConstructor: 'DefaultRecursiveArchDescConstructor',
  schema: dartsSearchConstructorSchema,
  refs: (config): ComponentRef[] => mixedOpConstructorRefs(config),
  create(config): StateTransformer {
    const prims: PrimitiveSpec[] = candidatesOf(config);
    return {
      async apply(model: Module, ctx) {
        const at = `${ctx.where}.mixed_op`;
        const cells = model instanceof DARTSNet ? model.cellList() : [];
        const firstOfType = new Map<CellType, DARTSCell>();
        for (const [c, cell] of cells.entries()) {
          if (!firstOfType.has(cell.type)) firstOfType.set(cell.type, cell);
          for (let i = 0; i < cell.nNodes; i++) {
            for (const [, slot] of cell.nodeEdges(i)) {
              if (slot.filled) continue;
              const param = config.shared ? String(slot.args.name) : `${String(slot.args.name)}_c${c}`;
              // built at a path of its own: at the validated mixed_op path, a runner builds that config as it is, without the param
              slot.fill(await buildMixedOp(slot, withParam(config.mixed_op, param), prims, ctx, `${at}(${param})`));
            }
          }
        }
        // Slots outside the cells (a network other than DARTS): each its own mixed op, as DefaultMixedOpConstructor
        for (const [, slot] of Slot.find(model, { nested: true })) if (!slot.filled) slot.fill(await buildMixedOp(slot, config.mixed_op, prims, ctx, at));
        declareCells(ctx, config.shared ? [...firstOfType.values()].map((c) => [c.type, c] as const) : cells.map((c, k) => [`cell ${k} ${c.type}`, c] as const));
        return model;
      },
    };
  },
});
