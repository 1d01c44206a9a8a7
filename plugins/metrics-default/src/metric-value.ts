import type { BuildContext, MetricsFn, Module } from '@modnas/core';
import { ModnasError, z } from '@modnas/core';

/** A metric that other metrics build: a registered id, or { type, ...its options }. */
export const metricSpecSchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);
export type MetricSpec = z.output<typeof metricSpecSchema>;

/**
 * The one number a metric's record stands for: `field` if given, else its only value (the
 * original's metrics return one number; ours return a record, one key by default).
 */
export function metricValue(record: Record<string, number>, field: string | undefined, where: string): number {
  const keys = Object.keys(record);
  if (field !== undefined) {
    if (!(field in record)) {
      throw new ModnasError('MODNAS_E_METRICS_FIELD', `${where}: the metric gave no ${JSON.stringify(field)} (it gave ${keys.join(', ') || 'nothing'})`, {
        fix: `set field to one of ${keys.join(', ')}`,
        where: `${where}.field`,
      });
    }
    return record[field];
  }
  if (keys.length !== 1) {
    throw new ModnasError('MODNAS_E_METRICS_FIELD', `${where}: the metric gave ${keys.length} values (${keys.join(', ')}); which one counts?`, {
      fix: `set field to one of ${keys.join(', ')}`,
      where: `${where}.field`,
    });
  }
  return record[keys[0]];
}

/** Build a metric from a spec, at `where`. */
export function buildMetric(ctx: BuildContext, spec: MetricSpec, where: string): Promise<MetricsFn> {
  return ctx.build('metrics', spec, undefined, where);
}

/** Close every metric that holds something (a browser, a session). */
export async function closeAll(fns: readonly MetricsFn[]): Promise<void> {
  for (const f of fns) await f.close?.();
}

/** A metric's input: a module and its input shape (one example, batch dimension left out). */
export type MetricInput = Parameters<MetricsFn>[1];
export type { Module };
