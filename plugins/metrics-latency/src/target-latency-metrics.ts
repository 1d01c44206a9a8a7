import type { MetricsFn } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { MixedOp, fixCandidates } from '@modnas/kit-mixed-op';
import { closeRuntimes, inferenceGraph, latencyTargetFields, runtimeOf, summarize, timingOf } from '@modnas/kit-latency';

export const targetLatencyMetricsSchema = z.strictObject({
  key: z.string().min(1).default('latency').describe('Name of the metric (milliseconds); its interquartile range is stored as <key>_iqr'),
  ...latencyTargetFields,
});
export type TargetLatencyMetricsConfig = z.output<typeof targetLatencyMetricsSchema>;

/**
 * The latency of the network as it would be exported (each mixed op running the candidate it
 * runs now), measured on the target: the median of `rep` samples, and their spread.
 */
export function targetLatencyMetricsFn(config: TargetLatencyMetricsConfig): MetricsFn {
  const fn: MetricsFn = async (model, ctx) => {
    const runtime = await runtimeOf(config);
    const ops = MixedOp.find(model).map(([, op]) => op);
    const undo = fixCandidates(new Map(ops.map((op) => [op, op.chosenIndex()])));
    let graph;
    try {
      graph = inferenceGraph(model, ctx.inputShape);
    } finally {
      undo();
    }
    const s = summarize(await runtime.measure({ module: model, inputShape: ctx.inputShape, graph }, timingOf(config)));
    return { [config.key]: s.median, [`${config.key}_iqr`]: s.iqr };
  };
  fn.close = closeRuntimes;
  return fn;
}

export const targetLatencyMetrics = defineComponent({
  kind: 'metrics',
  id: 'TargetLatencyMetrics',
  aliases: ['DeviceLatencyMetrics'],
  description: 'Measured latency (ms) of the network where it will run: the engine, onnxruntime-node, or tfjs-wasm, tfjs-webgl and onnxruntime-web in headless Chromium; median of timed samples, spread beside it',
  schema: targetLatencyMetricsSchema,
  create(config) {
    return targetLatencyMetricsFn(config);
  },
});
