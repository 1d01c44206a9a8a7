/**
 * The hard latency constraint of the discrete optimizers (evolution, local search, NSGA-II): one
 * pair of config keys and one feasibility rule, so every optimizer reads `latency_max_ms` alike.
 */
import { ModnasError, z } from '@modnas/core';
import type { TrialResult } from '@modnas/core';

export const CONSTRAINT_CODE = 'MODNAS_E_OPTIM_CONSTRAINT';

/** The zod fields of the constraint, to spread into an optimizer's schema: `z.strictObject({ ...latencyConstraintFields, ... })`. */
export const latencyConstraintFields = {
  latency_max_ms: z
    .number()
    .positive()
    .nullable()
    .default(null)
    .describe('Hard limit on a candidate\'s latency in milliseconds (its latency_metric): a slower candidate is infeasible and ranks below every feasible one (null: no limit)'),
  latency_metric: z.string().min(1).default('latency').describe('The metric of the results that holds the latency in milliseconds (the key the latency metrics component writes)'),
};

export interface LatencyConstraint {
  latency_max_ms: number | null;
  latency_metric: string;
}

/** No limit: every result is feasible. */
export const NO_LATENCY_CONSTRAINT: LatencyConstraint = { latency_max_ms: null, latency_metric: 'latency' };

/** The constraint out of a component's validated config (whose schema spread latencyConstraintFields). */
export function latencyConstraintOf(c: LatencyConstraint): LatencyConstraint {
  return { latency_max_ms: c.latency_max_ms, latency_metric: c.latency_metric };
}

/**
 * How far a result is over the limit, in milliseconds: 0 when it satisfies it (or no limit is
 * set). A result without a score (diverged, failed, not applicable) has no measurement and counts
 * as Infinity, as does a non-finite latency. A scored result without the latency metric throws
 * MODNAS_E_OPTIM_CONSTRAINT: a search never silently ignores its constraint.
 *
 * @param owner the optimizer's id, for the message
 */
export function latencyViolation(r: TrialResult, c: LatencyConstraint, owner = 'optim'): number {
  const max = c.latency_max_ms;
  if (max === null) return 0;
  if (r.status !== undefined || !Number.isFinite(r.score)) return Infinity;
  const v = r.metrics?.[c.latency_metric];
  if (typeof v !== 'number') {
    const has = Object.keys(r.metrics ?? {}).join(', ') || 'none';
    throw new ModnasError(CONSTRAINT_CODE, `${owner}: optim.latency_max_ms is ${max} ms, but the result of ${JSON.stringify(r.arch)} has no metric "${c.latency_metric}" to check it against (it has ${has})`, {
      fix: `add a latency metrics component (metrics: { latency: { type: LatencyMetrics } }) that writes "${c.latency_metric}", set optim.latency_metric to the key yours writes, or remove latency_max_ms`,
      where: 'optim.latency_max_ms',
    });
  }
  if (!Number.isFinite(v)) return Infinity;
  return v > max ? v - max : 0;
}

/** Whether a result satisfies the constraint (always, with no limit); throws as latencyViolation does. */
export function isFeasible(r: TrialResult, c: LatencyConstraint, owner = 'optim'): boolean {
  return latencyViolation(r, c, owner) === 0;
}
