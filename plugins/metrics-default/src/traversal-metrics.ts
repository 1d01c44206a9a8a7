import type { MetricsFn, Module } from '@modnas/core';
import { defineComponent, tf, z } from '@modnas/core';
import { buildMetric, metricSpecSchema, metricValue } from './metric-value.js';

/**
 * A mixed op as @modnas/kit-mixed-op brands it (a global symbol, so the check needs no import of
 * the kit): its candidates and their probabilities.
 */
interface MixedLike extends Module {
  probs(): number[];
  candidates(): Module[];
}
const MIXED_OP_BRAND = Symbol.for('@modnas/core:MixedOp');
const isMixed = (m: Module): m is MixedLike => (m as unknown as Record<symbol, unknown>)[MIXED_OP_BRAND] === true;

/**
 * The input shape (one example, no batch dimension) of every module that runs in one eval-mode
 * forward pass of one example: each module's `call` is wrapped for that pass only.
 */
export function inputShapes(model: Module, inputShape: readonly number[]): Map<Module, number[]> {
  const shapes = new Map<Module, number[]>();
  const wrapped: Module[] = [];
  const wasTraining = model.training;
  try {
    for (const [, m] of model.modules()) {
      const call = m.call.bind(m);
      Object.defineProperty(m, 'call', {
        configurable: true,
        value: (x: tf.Tensor): tf.Tensor => {
          if (!shapes.has(m)) shapes.set(m, x.shape.slice(1));
          return call(x);
        },
      });
      wrapped.push(m);
    }
    model.eval();
    tf.tidy(() => {
      model.call(tf.zeros([1, ...inputShape]));
    });
  } finally {
    for (const m of wrapped) delete (m as unknown as { call?: unknown }).call;
    model.train(wasTraining);
  }
  return shapes;
}

const traversalSchema = z.strictObject({
  metrics: metricSpecSchema.describe('The metric of one module (run on each with the module\'s own input shape), e.g. FLOPsMetrics or LatencyMetrics'),
  field: z.string().min(1).optional().describe('Which value of that metric\'s results counts (absent: its only one)'),
  key: z.string().min(1).optional().describe("Name of the total in the results; absent = the traversal's name"),
});
export const moduleTraversalMetricsSchema = traversalSchema;
export const mixedOpTraversalMetricsSchema = traversalSchema;

type Measure = (m: Module, shape: number[]) => Promise<number>;

/** Σ over a mixed op's candidates of probability · metric, all at the mixed op's input shape. */
async function expected(op: MixedLike, shape: number[], measure: Measure): Promise<number> {
  const p = op.probs();
  const cands = op.candidates();
  let total = 0;
  for (let i = 0; i < cands.length; i++) if (p[i] !== 0) total += p[i] * (await measure(cands[i], shape));
  return total;
}

/**
 * The metric summed over the network's leaf modules, each mixed op counted as its candidates'
 * expectation under its probabilities (the original's ModuleTraversalMetrics).
 */
export async function moduleTraversal(model: Module, inputShape: readonly number[], measure: Measure): Promise<number> {
  const shapes = inputShapes(model, inputShape);
  const visit = async (m: Module): Promise<number> => {
    const shape = shapes.get(m);
    if (isMixed(m)) return shape ? expected(m, shape, measure) : 0;
    const kids = m.children();
    // a leaf that did not run (an unused branch) costs nothing
    if (kids.length === 0) return shape ? measure(m, shape) : 0;
    let total = 0;
    for (const [, k] of kids) total += await visit(k);
    return total;
  };
  return visit(model);
}

/** The metric's expectation over the candidates of every mixed op that runs (the original's MixedOpTraversalMetrics). */
export async function mixedOpTraversal(model: Module, inputShape: readonly number[], measure: Measure): Promise<number> {
  const shapes = inputShapes(model, inputShape);
  let total = 0;
  for (const [, m] of model.modules()) {
    const shape = shapes.get(m);
    if (isMixed(m) && shape) total += await expected(m, shape, measure);
  }
  return total;
}

function measureWith(fn: MetricsFn, field: string | undefined, where: string): Measure {
  return async (m, shape) => {
    const r = await fn(m, { inputShape: shape as [number, number, number] });
    return Object.keys(r).length === 0 ? 0 : metricValue(r, field, `${where}.metrics`);
  };
}

export const moduleTraversalMetrics = defineComponent({
  kind: 'metrics',
  id: 'ModuleTraversalMetrics',
  description: "A per-module metric summed over the network's leaf modules, mixed ops counted as the expectation over their candidates",
  schema: moduleTraversalMetricsSchema,
  async create(config, ctx) {
    const inner = await buildMetric(ctx, config.metrics, `${ctx.where}.metrics`);
    const measure = measureWith(inner, config.field, ctx.where);
    const fn: MetricsFn = async (model, c) => ({ [config.key ?? 'module_traversal']: await moduleTraversal(model, c.inputShape, measure) });
    return Object.assign(fn, { close: () => inner.close?.() });
  },
});

export const mixedOpTraversalMetrics = defineComponent({
  kind: 'metrics',
  id: 'MixedOpTraversalMetrics',
  description: "A per-module metric's expectation over the candidates of every mixed op, by their probabilities (a differentiable-search cost such as expected latency)",
  schema: mixedOpTraversalMetricsSchema,
  async create(config, ctx) {
    const inner = await buildMetric(ctx, config.metrics, `${ctx.where}.metrics`);
    const measure = measureWith(inner, config.field, ctx.where);
    const fn: MetricsFn = async (model, c) => ({ [config.key ?? 'mixed_op_traversal']: await mixedOpTraversal(model, c.inputShape, measure) });
    return Object.assign(fn, { close: () => inner.close?.() });
  },
});
