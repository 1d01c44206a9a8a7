import { describe, expect, it } from 'vitest';
import { SuccessiveHalving, earlyStopSchema } from './asha.js';

const sh = (maxEpochs: number, over: Record<string, unknown> = {}) => new SuccessiveHalving(earlyStopSchema.parse(over), maxEpochs);

describe('SuccessiveHalving', () => {
  it('puts rungs at min_epochs·η^k below the full budget', () => {
    expect(sh(9).rungs).toEqual([1, 3]);
    expect(sh(10).rungs).toEqual([1, 3, 9]);
    expect(sh(27, { min_epochs: 2, reduction_factor: 2 }).rungs).toEqual([2, 4, 8, 16]);
    expect(sh(4, { reduction_factor: 1.5 }).rungs).toEqual([1, 2, 3]); // at least one epoch apart
    expect(sh(9).rungAt(3)).toBe(1);
    expect(sh(9).rungAt(2)).toBe(-1);
  });

  it('a candidate goes on only when it is in the top ⌊n/η⌋ (at least 1) of the n scores seen at the rung', () => {
    const s = sh(9);
    expect(s.promote(0, 0.5)).toBe(true); // n=1: the best of 1
    expect(s.promote(0, 0.4)).toBe(false); // n=2: keep 1, 0.5 is better
    expect(s.promote(0, 0.9)).toBe(true); // n=3: keep 1, it is the best
    expect(s.promote(0, 0.6)).toBe(false); // n=4: keep 1 (0.9 better)
    expect(s.promote(0, 0.7)).toBe(false); // n=5: keep 1
    expect(s.promote(0, 0.8)).toBe(true); // n=6: keep 2, only 0.9 is better
    expect(s.promote(0, Number.NaN)).toBe(false);
    expect(s.recorded()[0]).toHaveLength(7);
    expect(s.recorded()[1]).toEqual([]); // rungs are independent
    expect(s.promote(1, 0.1)).toBe(true);
  });

  it('about 1/η of a random stream passes each rung', () => {
    const s = sh(100, { reduction_factor: 3 });
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    let passed = 0;
    for (let i = 0; i < 3000; i++) if (s.promote(0, rand())) passed++;
    expect(passed / 3000).toBeGreaterThan(0.28);
    expect(passed / 3000).toBeLessThan(0.4);
  });

  it('a budget with no rung below it is a coded config error', () => {
    expect(() => sh(1)).toThrow(expect.objectContaining({ code: 'MODNAS_E_ESTIM_EARLY_STOP' }));
    expect(() => sh(3, { min_epochs: 3 })).toThrow(/no rung/);
    expect(() => earlyStopSchema.parse({ reduction_factor: 1 })).toThrow();
  });
});
