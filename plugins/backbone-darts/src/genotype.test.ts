import { describe, expect, it } from 'vitest';
import { keepStrongest, strongestOp } from './genotype.js';

const OPS = ['MAX', 'SC3', 'NIL'];

describe('DARTS genotype rule', () => {
  it('an edge is as strong as its strongest op other than NIL', () => {
    expect(strongestOp({ source: 0, probs: [0.1, 0.3, 0.6], descs: OPS })).toEqual({ op: 'SC3', weight: 0.3 });
    expect(strongestOp({ source: 0, probs: [0.5, 0.3, 0.2], descs: OPS })).toEqual({ op: 'MAX', weight: 0.5 });
    expect(strongestOp({ source: 0, probs: [1], descs: [{ type: 'NIL' }] })).toBeUndefined();
  });

  it('keeps the k strongest edges, listed by source, even where the original would drop the second strongest', () => {
    const edges = [
      { source: 0, probs: [0.4, 0.1, 0.5], descs: OPS },
      { source: 1, probs: [0.1, 0.3, 0.6], descs: OPS },
      { source: 2, probs: [0.2, 0.5, 0.3], descs: OPS },
      { source: 3, probs: [0.05, 0.05, 0.9], descs: OPS },
    ];
    // strengths 0.4, 0.3, 0.5, 0.05: the original's scan (replace the first weaker) keeps [0.5, 0.3]
    expect(keepStrongest(edges)).toEqual([
      { source: 0, op: 'MAX', weight: 0.4 },
      { source: 2, op: 'SC3', weight: 0.5 },
    ]);
    expect(keepStrongest(edges, 1)).toEqual([{ source: 2, op: 'SC3', weight: 0.5 }]);
    expect(keepStrongest(edges, 3).map((e) => e.source)).toEqual([0, 1, 2]);
  });

  it('breaks ties by the earlier source', () => {
    const e = (source: number) => ({ source, probs: [0.5, 0.25, 0.25], descs: OPS });
    expect(keepStrongest([e(0), e(1), e(2)]).map((k) => k.source)).toEqual([0, 1]);
  });
});
