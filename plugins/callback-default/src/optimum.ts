/** Pareto-optimal results over some metrics (the original's OptimumReporter comparison). */
export type Direction = 'max' | 'min';

export interface Result {
  arch: Record<string, unknown>;
  metrics: Record<string, number>;
  /** The candidate's number in its estimator, from 0 (the event's index). */
  index?: number;
  score?: number;
}

/**
 * The Pareto front of the results over some metrics: a result dominates another when it is better by
 * more than a key's threshold on some key (in the key's direction, max unless said) and worse on
 * none. Keys default to the first result's. (The original keeps a result only when it dominates every
 * optimum so far, which with two or more keys is not the front.)
 */
export class ParetoSet {
  private keys?: string[];
  results: Result[] = [];

  constructor(
    keys: readonly string[] | null,
    private readonly directions: Readonly<Record<string, Direction>> = {},
    private readonly thresholds: Readonly<Record<string, number>> = {},
  ) {
    this.keys = keys ? [...keys] : undefined;
  }

  /** 1: a dominates b, -1: b dominates a, 0: equal within the thresholds, NaN: neither (better on one key, worse on another). */
  compare(a: Record<string, number>, b: Record<string, number>): number {
    let dom = 0;
    for (const k of this.keys ?? []) {
      const [x, y] = [a[k], b[k]];
      if (typeof x !== 'number' || typeof y !== 'number' || Number.isNaN(x) || Number.isNaN(y)) continue;
      const d = (this.directions[k] ?? 'max') === 'max' ? x - y : y - x;
      const th = this.thresholds[k] ?? 0;
      if (d > th) {
        if (dom === -1) return NaN;
        dom = 1;
      } else if (d < -th) {
        if (dom === 1) return NaN;
        dom = -1;
      }
    }
    return dom;
  }

  /** Adds a result; true when it is optimal (no kept result dominates or equals it), dropping those it dominates. */
  add(r: Result): boolean {
    this.keys ??= Object.keys(r.metrics);
    const kept: Result[] = [];
    for (const o of this.results) {
      const c = this.compare(r.metrics, o.metrics);
      if (c <= 0) return false;
      if (c !== 1) kept.push(o);
    }
    this.results = [...kept, r];
    return true;
  }

  get compared(): readonly string[] {
    return this.keys ?? [];
  }
}

