import type { MetricsFn, Module } from '@modnas/core';
import { defineComponent, tf, z } from '@modnas/core';

export const paramsMetricsSchema = z.strictObject({
  key: z.string().min(1).default('params').describe('Name of the metric in the results'),
  mode: z
    .enum(['active', 'total'])
    .default('active')
    .describe("'active': weights on the path the current candidate runs (unused candidates of a supernet excluded); 'total': every weight of the network"),
});

/**
 * Weights that a forward pass of the network as it is now depends on: those that receive a
 * gradient from a sum of its outputs on one example. Candidates a mixed op does not run get none.
 */
export function activeParams(model: Module, inputShape: [number, number, number]): number {
  const vars = model.parameters().filter((v) => v.trainable);
  if (vars.length === 0) return 0;
  const wasTraining = model.training;
  model.eval();
  try {
    return tf.tidy(() => {
      const x = tf.randomNormal([1, ...inputShape]);
      let counted = 0;
      try {
        const { grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(model.call(x)), vars);
        const reached = new Set(Object.keys(grads));
        for (const v of vars) if (reached.has(v.name)) counted += v.size;
      } catch {
        // no weight is connected to the output
      }
      return counted;
    });
  } finally {
    model.train(wasTraining);
  }
}

export function paramsMetricsFn(config: z.output<typeof paramsMetricsSchema>): MetricsFn {
  return (model, ctx) => ({ [config.key]: config.mode === 'total' ? model.numParams() : activeParams(model, ctx.inputShape) });
}

export const paramsMetrics = defineComponent({
  kind: 'metrics',
  id: 'ParamsMetrics',
  description: 'Number of weights of the network (of the current candidate, by default)',
  schema: paramsMetricsSchema,
  create(config) {
    return paramsMetricsFn(config);
  },
});
