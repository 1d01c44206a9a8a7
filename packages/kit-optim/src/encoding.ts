import type { Assignment, DiscreteParam } from '@modnas/core';
import { ModnasError } from '@modnas/core';

/** A fixed-length 0/1 feature vector per architecture, the predictor's input. */
export interface Encoder {
  readonly kind: 'path' | 'adjacency';
  readonly size: number;
  encode(arch: Assignment): number[];
}

/** An edge param of a cell DAG: named "<to><-<from>", e.g. NAS-Bench-201's "3<-1". */
const EDGE = /^(\d+)<-(\d+)$/;
/** Largest path encoding built (longer cells fall back to, or must use, the adjacency encoding). */
export const MAX_PATH_FEATURES = 4096;

/** One-hot of every param's value, concatenated: for a cell whose params are its edges, the adjacency matrix with op labels. */
export function adjacencyEncoder(params: DiscreteParam[]): Encoder {
  const offsets: number[] = [];
  let size = 0;
  for (const p of params) {
    offsets.push(size);
    size += p.cardinality;
  }
  return {
    kind: 'adjacency',
    size,
    encode(arch) {
      const x = new Array<number>(size).fill(0);
      params.forEach((p, i) => {
        const k = p.indexOf(arch[p.name] ?? p.value);
        if (k < 0) throw new ModnasError('MODNAS_E_PARAM_VALUE', `BANANASOptim: arch param "${p.name}" has no value ${JSON.stringify(arch[p.name])}`);
        x[offsets[i] + k] = 1;
      });
      return x;
    },
  };
}

/**
 * The path encoding of White et al. (BANANAS): one feature per sequence of ops along a path from
 * the cell's input node to its output node, 1 when some path of the architecture carries that
 * sequence. It needs a space whose params are the edges of a DAG (named "j<-i", i < j, the input
 * the lowest node and the output the highest, as NASBench201Space); an edge set to one of
 * `noneOps` cuts the paths through it. Returns a reason instead when the space is not such a cell.
 */
export function pathEncoder(params: DiscreteParam[], noneOps: readonly string[]): Encoder | string {
  const edges: Array<{ from: number; to: number; param: DiscreteParam }> = [];
  for (const p of params) {
    const m = EDGE.exec(p.name);
    if (!m) return `param "${p.name}" is not a cell edge named "<to><-<from>"`;
    const to = Number(m[1]);
    const from = Number(m[2]);
    if (from >= to) return `edge "${p.name}" does not go from a lower to a higher node`;
    edges.push({ from, to, param: p });
  }
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort((a, b) => a - b);
  const input = nodes[0];
  const output = nodes[nodes.length - 1];
  const vocab: string[] = [];
  for (const e of edges) {
    for (let k = 0; k < e.param.cardinality; k++) {
      const op = String(e.param.valueAt(k));
      if (!noneOps.includes(op) && !vocab.includes(op)) vocab.push(op);
    }
  }
  // every route from input to output, as lists of edge indices (a DAG: depth-first is finite)
  const routes: number[][] = [];
  const walk = (node: number, path: number[]): void => {
    if (node === output) {
      routes.push(path);
      return;
    }
    edges.forEach((e, i) => {
      if (e.from === node) walk(e.to, [...path, i]);
    });
  };
  walk(input, []);
  if (routes.length === 0) return `no path from node ${input} to node ${output}`;
  const maxLen = Math.max(...routes.map((r) => r.length));
  const V = vocab.length;
  // start[l - 1]: first feature of the sequences of length l (V + V^2 + ... + V^(l-1) come before)
  const start = [0];
  for (let l = 1; l <= maxLen; l++) start.push(start[l - 1] + V ** l);
  const size = start[maxLen];
  if (size > MAX_PATH_FEATURES) return `${size} path features (more than ${MAX_PATH_FEATURES})`;
  const opIndex = new Map(vocab.map((op, i) => [op, i]));
  return {
    kind: 'path',
    size,
    encode(arch) {
      const x = new Array<number>(size).fill(0);
      for (const r of routes) {
        let code = 0;
        let cut = false;
        for (const i of r) {
          const p = edges[i].param;
          const op = String(arch[p.name] ?? p.value);
          const k = opIndex.get(op);
          if (k === undefined) {
            if (!noneOps.includes(op)) throw new ModnasError('MODNAS_E_PARAM_VALUE', `BANANASOptim: arch param "${p.name}" has no value ${JSON.stringify(op)}`);
            cut = true;
            break;
          }
          code = code * V + k;
        }
        if (!cut) x[start[r.length - 1] + code] = 1;
      }
      return x;
    },
  };
}
