/**
 * The traced network as a small dataflow graph: every tfjs kernel the forward pass ran, in order,
 * with its attributes, over values that are either the input, a node's output or a constant
 * (weights, and anything computed from weights alone, folded at trace time). Formats are written
 * from it (tfjs.ts, onnx.ts) after the passes of passes.ts.
 */

export type DType = 'float32' | 'int32';

export interface Value {
  id: string;
  /** The shape at trace time; dim 0 of every activation is the batch (dynamic in the written model). */
  shape: number[];
  dtype: DType;
  /** Set for constants. */
  data?: Float32Array | Int32Array;
  /** A constant that is one of the network's own weights or buffers (not made inside forward). */
  weight?: boolean;
}

export interface Node {
  /** The tfjs kernel name (Conv2D, FusedBatchNorm, ...), or one of the pass-made ops (FusedConv). */
  op: string;
  /** Kernel input name -> value id, in the kernel's order ('0', '1', ... for lists). */
  inputs: Array<[string, string]>;
  attrs: Record<string, unknown>;
  output: string;
  /** The module path the kernel ran in ('blocks.2.conv'), for names and errors. */
  scope: string;
}

export class Graph {
  readonly values = new Map<string, Value>();
  nodes: Node[] = [];
  input = '';
  output = '';
  /** The batch size the network was traced with. */
  batch = 0;

  value(id: string): Value {
    const v = this.values.get(id);
    if (!v) throw new Error(`graph: no value ${id}`);
    return v;
  }

  isConst(id: string): boolean {
    return this.values.get(id)?.data !== undefined;
  }

  /** The input of a node by kernel input name. */
  in(n: Node, name: string): string | undefined {
    return n.inputs.find(([k]) => k === name)?.[1];
  }

  /** Value id -> the nodes that read it (the graph output counts as a reader). */
  readers(): Map<string, Node[]> {
    const r = new Map<string, Node[]>();
    for (const n of this.nodes) {
      for (const [, id] of n.inputs) {
        const list = r.get(id) ?? [];
        list.push(n);
        r.set(id, list);
      }
    }
    return r;
  }

  producer(): Map<string, Node> {
    return new Map(this.nodes.map((n) => [n.output, n]));
  }

  private nextId = 0;

  /** A constant; `weight`: made from the network's weights alone (not inside forward from nothing). */
  addConst(data: Float32Array | Int32Array, shape: number[], weight: boolean, hint = 'c'): string {
    const id = `${hint}#${this.nextId++}`;
    this.values.set(id, { id, shape, dtype: data instanceof Int32Array ? 'int32' : 'float32', data, weight });
    return id;
  }

  addValue(shape: number[], dtype: DType = 'float32', hint = 'v'): string {
    const id = `${hint}#${this.nextId++}`;
    this.values.set(id, { id, shape, dtype });
    return id;
  }

  /** Replace every read of `from` with `to` (and the graph output). */
  replaceUses(from: string, to: string): void {
    for (const n of this.nodes) n.inputs = n.inputs.map(([k, id]) => [k, id === from ? to : id]);
    if (this.output === from) this.output = to;
  }

  /** Drop nodes whose output nobody reads, and values nothing refers to. */
  prune(): void {
    const live = new Set([this.output]);
    const kept: Node[] = [];
    for (const n of [...this.nodes].reverse()) {
      if (!live.has(n.output)) continue;
      kept.push(n);
      for (const [, id] of n.inputs) live.add(id);
    }
    this.nodes = kept.reverse();
    live.add(this.input);
    for (const id of [...this.values.keys()]) if (!live.has(id)) this.values.delete(id);
  }
}

/** Node names for the written formats: the module path, then the op, made unique. */
export function nodeNamer(): (n: Node) => string {
  const used = new Map<string, number>();
  return (n) => {
    const base = `${n.scope ? n.scope.replace(/[^A-Za-z0-9_.]/g, '_').replace(/\./g, '/') + '/' : ''}${n.op}`;
    const k = used.get(base) ?? 0;
    used.set(base, k + 1);
    return k === 0 ? base : `${base}_${k}`;
  };
}

/** Elementwise kernels both formats have, with their names there (ONNX broadcasts as tfjs does). */
export const ELEMENTWISE: Readonly<Record<string, { tf: string; onnx: string; arity: 1 | 2 }>> = {
  Add: { tf: 'AddV2', onnx: 'Add', arity: 2 },
  Sub: { tf: 'Sub', onnx: 'Sub', arity: 2 },
  Multiply: { tf: 'Mul', onnx: 'Mul', arity: 2 },
  RealDiv: { tf: 'RealDiv', onnx: 'Div', arity: 2 },
  Maximum: { tf: 'Maximum', onnx: 'Max', arity: 2 },
  Minimum: { tf: 'Minimum', onnx: 'Min', arity: 2 },
  Relu: { tf: 'Relu', onnx: 'Relu', arity: 1 },
  Sigmoid: { tf: 'Sigmoid', onnx: 'Sigmoid', arity: 1 },
  Tanh: { tf: 'Tanh', onnx: 'Tanh', arity: 1 },
  Neg: { tf: 'Neg', onnx: 'Neg', arity: 1 },
  Sqrt: { tf: 'Sqrt', onnx: 'Sqrt', arity: 1 },
  Exp: { tf: 'Exp', onnx: 'Exp', arity: 1 },
};
