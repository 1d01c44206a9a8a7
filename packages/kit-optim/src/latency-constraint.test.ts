import type { TrialResult } from '@modnas/core';
import { z } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { CONSTRAINT_CODE, isFeasible, latencyConstraintFields, latencyConstraintOf, latencyViolation } from './latency-constraint.js';

const schema = z.strictObject({ ...latencyConstraintFields });
const result = (latency?: number): TrialResult => ({ arch: { a: 'x' }, score: 1, metrics: latency === undefined ? { params: 3 } : { latency, params: 3 } });

describe('latency constraint', () => {
  it('defaults to no limit: every result is feasible, with or without the metric', () => {
    const c = latencyConstraintOf(schema.parse({}));
    expect(c).toEqual({ latency_max_ms: null, latency_metric: 'latency' });
    expect(isFeasible(result(1e9), c)).toBe(true);
    expect(isFeasible(result(), c)).toBe(true);
    expect(() => schema.parse({ latency_max_ms: 0 })).toThrow();
    expect(() => schema.parse({ latency_max_ms: -3 })).toThrow();
  });

  it('a result over the limit is infeasible, by how many milliseconds; at the limit it is feasible', () => {
    const c = latencyConstraintOf(schema.parse({ latency_max_ms: 10 }));
    expect(latencyViolation(result(4), c)).toBe(0);
    expect(latencyViolation(result(10), c)).toBe(0);
    expect(latencyViolation(result(12.5), c)).toBe(2.5);
    expect(isFeasible(result(10), c)).toBe(true);
    expect(isFeasible(result(10.01), c)).toBe(false);
    expect(latencyViolation(result(Number.NaN), c)).toBe(Infinity);
  });

  it('reads the metric named by latency_metric', () => {
    const c = latencyConstraintOf(schema.parse({ latency_max_ms: 10, latency_metric: 'gpu_ms' }));
    expect(isFeasible({ arch: {}, score: 1, metrics: { gpu_ms: 3, latency: 50 } }, c)).toBe(true);
    expect(isFeasible({ arch: {}, score: 1, metrics: { gpu_ms: 30, latency: 5 } }, c)).toBe(false);
  });

  it('a scored result without the metric is a coded error naming optim.latency_max_ms and the key', () => {
    const c = latencyConstraintOf(schema.parse({ latency_max_ms: 10 }));
    expect(() => isFeasible(result(), c, 'EvolutionOptim')).toThrow(expect.objectContaining({ code: CONSTRAINT_CODE, where: 'optim.latency_max_ms' }));
    expect(() => isFeasible(result(), c)).toThrow(/optim\.latency_max_ms is 10 ms.*no metric "latency".*it has params/s);
    expect(() => isFeasible(result(), c)).toThrow(/metrics: \{ latency: \{ type: LatencyMetrics \} \}.*remove latency_max_ms/s);
  });

  it('a result without a score (diverged, failed) is infeasible without a measurement, not an error', () => {
    const c = latencyConstraintOf(schema.parse({ latency_max_ms: 10 }));
    expect(latencyViolation({ arch: {}, score: Number.NaN, metrics: { diverged: 1 }, status: 'diverged' }, c)).toBe(Infinity);
    expect(latencyViolation({ arch: {}, score: Number.NaN, metrics: { failed: 1 }, status: 'failed' }, c)).toBe(Infinity);
    expect(latencyViolation({ arch: {}, score: -Infinity, metrics: { error: 1 } }, c)).toBe(Infinity);
  });
});
