// How the log states a search space's size: exact, grouped (kit-estim's groupDigits), with its factors.
import { ArchSpace } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { describeSpaceSize } from './build.js';

describe('describeSpaceSize', () => {
  it('counts tensor params as the choices they stand for, with the factors beside the total', () => {
    const q = new ArchSpace();
    for (let i = 0; i < 6; i++) q.tensor({ shape: [5] });
    expect(describeSpaceSize(q)).toBe('15,625 (5^6)');
    const darts = new ArchSpace();
    for (let i = 0; i < 22; i++) darts.tensor({ shape: [6] });
    expect(describeSpaceSize(darts)).toBe('131,621,703,842,267,136 (6^22)');
    const mixed = new ArchSpace();
    mixed.tensor({ shape: [2, 4] });
    mixed.categorical({ choices: ['a', 'b', 'c', 'd', 'e'] });
    mixed.numeric({ low: 0, high: 1 });
    expect(describeSpaceSize(mixed)).toBe('80 (4^2 x 5)');
    expect(describeSpaceSize(new ArchSpace())).toBe('1');
    for (const s of [q, darts, mixed]) s.dispose();
  });
});
