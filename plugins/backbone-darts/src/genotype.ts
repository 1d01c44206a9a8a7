/**
 * DARTS' rule for the cell it found (Liu et al. 2019, section 2.4): each intermediate node keeps
 * the k (2) strongest of its incoming edges, an edge's strength being the largest softmax weight of
 * its ops other than zero (NIL), and each kept edge keeps that op.
 */

/** One incoming edge of a node while searching: where it comes from and its ops' weights. */
export interface EdgeChoice {
  /** Index of the state the edge reads (0, 1: the cell's inputs; 2 + i: intermediate node i). */
  source: number;
  /** Weight of each candidate (softmax α), in candidate order. */
  probs: readonly number[];
  /** Each candidate's description (a primitive id such as 'SC3'), in candidate order. */
  descs: readonly unknown[];
}

/** A kept edge: its source, its op and the strength it was kept for. */
export interface KeptEdge {
  source: number;
  op: unknown;
  weight: number;
}

/** The id a description names ('SC3', or { type: 'SC3' }). */
const idOf = (d: unknown): unknown => (typeof d === 'object' && d !== null && 'type' in d ? d.type : d);

/** The zero op, which DARTS never keeps. */
export const isZeroOp = (d: unknown): boolean => idOf(d) === 'NIL';

/** An edge's strongest op other than NIL, with its weight; undefined when every op is NIL. */
export function strongestOp(edge: EdgeChoice): { op: unknown; weight: number } | undefined {
  let best: { op: unknown; weight: number } | undefined;
  edge.probs.forEach((p, i) => {
    if (isZeroOp(edge.descs[i])) return;
    if (!best || p > best.weight) best = { op: edge.descs[i], weight: p };
  });
  return best;
}

/**
 * The k strongest edges of one node, listed by source. Ties go to the earlier source. (The
 * original's DAGLayer.to_arch_desc replaces the first kept edge that is weaker than a new one,
 * not the weakest, so it can drop the second strongest: here the k strongest are always kept.)
 */
export function keepStrongest(edges: readonly EdgeChoice[], k = 2): KeptEdge[] {
  const scored: KeptEdge[] = [];
  for (const e of edges) {
    const s = strongestOp(e);
    if (s) scored.push({ source: e.source, op: s.op, weight: s.weight });
  }
  return scored
    .map((e, i) => [e, i] as const)
    .sort((a, b) => b[0].weight - a[0].weight || a[1] - b[1])
    .slice(0, Math.max(0, k))
    .map(([e]) => e)
    .sort((a, b) => a.source - b.source);
}
