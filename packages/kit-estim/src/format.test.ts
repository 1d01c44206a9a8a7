import { describe, expect, it } from 'vitest';
import { groupDigits } from './format.js';

describe('groupDigits', () => {
  it('puts thousands separators into integers of any size', () => {
    expect([0, 999, 1000, 15625, 1234567].map((n) => groupDigits(n))).toEqual(['0', '999', '1,000', '15,625', '1,234,567']);
    expect(groupDigits(6n ** 22n)).toBe('131,621,703,842,267,136');
  });
});
