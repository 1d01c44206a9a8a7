/**
 * How a latency is measured and summarised, the same in every runtime: `warmup` untimed runs,
 * then `rep` timed samples. A sample times `inner` back-to-back runs and divides, with `inner`
 * chosen after the warm-up so a sample lasts at least `min_sample_ms` (browsers clamp
 * performance.now() to 0.1 ms when the page is not cross-origin isolated).
 */
import { z } from '@modnas/core';

export const timingFields = {
  batch_size: z.number().int().positive().default(1).describe('Examples per forward pass (a deployed model usually sees 1)'),
  warmup: z.number().int().min(0).default(10).describe('Untimed runs first (compiles shaders, fills caches)'),
  rep: z.number().int().positive().default(30).describe('Timed samples; the median is the latency, the spread is stored beside it'),
  min_sample_ms: z.number().positive().default(2).describe('Each sample repeats the run until it lasts at least this long, then divides (timer resolution)'),
};

export interface Timing {
  batch_size: number;
  warmup: number;
  rep: number;
  min_sample_ms: number;
}

export const DEFAULT_TIMING: Timing = { batch_size: 1, warmup: 10, rep: 30, min_sample_ms: 2 };

export interface LatencyStats {
  /** Median of the samples, ms. */
  median: number;
  /** Interquartile range of the samples, ms. */
  iqr: number;
  samples: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) return { median: Number.NaN, iqr: Number.NaN, samples: 0 };
  const s = [...samples].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), iqr: quantile(s, 0.75) - quantile(s, 0.25), samples: s.length };
}

/**
 * The sampling loop, for runtimes whose run is a promise. The browser page runs a copy of this
 * loop in its own context (page.ts) so that no round trip to Node is timed. `now` is the clock
 * (a test's own, so that its counts do not depend on the machine's load).
 */
export async function sampleRuns(run: () => Promise<void> | void, t: Timing, now: () => number = () => performance.now()): Promise<number[]> {
  for (let i = 0; i < t.warmup; i++) await run();
  let t0 = now();
  await run();
  const one = now() - t0;
  const inner = Math.max(1, Math.min(1000, Math.ceil(t.min_sample_ms / Math.max(one, 1e-3))));
  const out: number[] = [];
  for (let r = 0; r < t.rep; r++) {
    t0 = now();
    for (let k = 0; k < inner; k++) await run();
    out.push((now() - t0) / inner);
  }
  return out;
}
