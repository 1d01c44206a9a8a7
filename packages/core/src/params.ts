import { ModnasError } from './errors.js';
import type { Rng } from './rng.js';
import { tf } from './tf.js';

/** A value of a discrete or numeric arch param. */
export type ParamValue = string | number;
/** Values of discrete params by name: a candidate architecture. */
export type Assignment = Record<string, ParamValue>;

export type ParamListener = (param: ArchParam) => void;

/** An architecture parameter α: part of the encoding of every architecture in the space. */
export abstract class ArchParam {
  abstract readonly type: 'categorical' | 'numeric' | 'tensor';
  name = '';
  private listeners: ParamListener[] = [];

  /** Called whenever the value changes: δ transforms at run time subscribe here. */
  onChange(listener: ParamListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  protected changed(): void {
    for (const l of this.listeners) l(this);
  }
}

/** A param with finitely many values, indexable 0..cardinality-1 (grid and random search walk these). */
export abstract class DiscreteParam extends ArchParam {
  abstract readonly cardinality: number;
  abstract valueAt(index: number): ParamValue;
  abstract indexOf(value: ParamValue): number;
  abstract get index(): number;
  abstract set index(i: number);

  get value(): ParamValue {
    return this.valueAt(this.index);
  }

  set value(v: ParamValue) {
    const i = this.indexOf(v);
    if (i < 0) {
      throw new ModnasError('MODNAS_E_PARAM_VALUE', `arch param "${this.name}" has no value ${JSON.stringify(v)}`, {
        fix: `use one of ${JSON.stringify(Array.from({ length: this.cardinality }, (_, k) => this.valueAt(k)))}`,
      });
    }
    this.index = i;
  }
}

export interface CategoricalOptions {
  name?: string;
  choices: readonly ParamValue[];
  /** Index of the initial choice (0). */
  default?: number;
}

export class CategoricalParam extends DiscreteParam {
  readonly type = 'categorical' as const;
  readonly choices: readonly ParamValue[];
  private i: number;

  constructor(opts: CategoricalOptions) {
    super();
    if (opts.choices.length === 0) throw new ModnasError('MODNAS_E_PARAM_EMPTY', 'a categorical arch param needs at least one choice');
    this.choices = [...opts.choices];
    this.i = opts.default ?? 0;
    if (opts.name) this.name = opts.name;
  }

  get cardinality(): number {
    return this.choices.length;
  }

  valueAt(index: number): ParamValue {
    return this.choices[index];
  }

  indexOf(value: ParamValue): number {
    return this.choices.indexOf(value);
  }

  get index(): number {
    return this.i;
  }

  set index(i: number) {
    if (!Number.isInteger(i) || i < 0 || i >= this.choices.length) {
      throw new ModnasError('MODNAS_E_PARAM_VALUE', `arch param "${this.name}": index ${i} out of range [0, ${this.choices.length})`);
    }
    if (i === this.i) return;
    this.i = i;
    this.changed();
  }
}

export interface NumericOptions {
  name?: string;
  low: number;
  high: number;
  default?: number;
}

/** A continuous number in [low, high]. For a discrete set of numbers use a categorical param. */
export class NumericParam extends ArchParam {
  readonly type = 'numeric' as const;
  readonly low: number;
  readonly high: number;
  private v: number;

  constructor(opts: NumericOptions) {
    super();
    if (!(opts.high >= opts.low)) throw new ModnasError('MODNAS_E_PARAM_RANGE', `numeric arch param: high (${opts.high}) < low (${opts.low})`);
    this.low = opts.low;
    this.high = opts.high;
    this.v = opts.default ?? opts.low;
    if (opts.name) this.name = opts.name;
  }

  get value(): number {
    return this.v;
  }

  set value(v: number) {
    if (!(v >= this.low && v <= this.high)) {
      throw new ModnasError('MODNAS_E_PARAM_VALUE', `arch param "${this.name}": ${v} is outside [${this.low}, ${this.high}]`);
    }
    if (v === this.v) return;
    this.v = v;
    this.changed();
  }
}

export interface TensorParamOptions {
  name?: string;
  shape: number[];
  /** Initial values: 'zeros' (default), 'normal' (std 1e-3), or explicit numbers. */
  init?: 'zeros' | 'normal' | number[];
}

/** A continuous α tensor, e.g. the logits of a mixed op's candidates; trained by gradient optimizers. */
export class TensorParam extends ArchParam {
  readonly type = 'tensor' as const;
  readonly shape: number[];
  readonly variable: tf.Variable;

  constructor(opts: TensorParamOptions) {
    super();
    this.shape = [...opts.shape];
    if (opts.name) this.name = opts.name;
    const init = opts.init ?? 'zeros';
    const t = tf.tidy(() =>
      Array.isArray(init)
        ? tf.tensor(init, this.shape)
        : init === 'normal'
          ? tf.randomNormal(this.shape, 0, 1e-3)
          : tf.zeros(this.shape),
    );
    this.variable = tf.variable(t, true, undefined, 'float32');
    t.dispose();
  }

  get value(): tf.Variable {
    return this.variable;
  }

  /** Replace the values (keeps the same variable, so optimizers still hold it). */
  assign(values: tf.Tensor | number[]): void {
    tf.tidy(() => this.variable.assign(Array.isArray(values) ? tf.tensor(values, this.shape) : values));
    this.changed();
  }

  /**
   * Values as a plain array (for export and optimizer state). A synchronous read: on a GPU backend
   * call read() first, after the values changed (ArchSpace.readTensors), and this reads the copy it left.
   */
  toArray(): number[] {
    return Array.from(this.variable.dataSync());
  }

  /**
   * Values as a plain array, read without blocking the backend. A GPU backend keeps what it read on
   * the host until the values change (tfjs' WebGPU backend does), so toArray() then reads no GPU
   * memory: tfjs' WebGPU backend cannot read synchronously in Node at all.
   */
  async read(): Promise<number[]> {
    return Array.from(await this.variable.data());
  }

  /**
   * The discrete choices this tensor stands for: the last axis is a softmax over k candidates,
   * one choice per row of the leading axes, so a [k] tensor is k choices and [n, k] is k^n.
   */
  get choices(): bigint {
    const k = BigInt(this.shape[this.shape.length - 1] ?? 1);
    const rows = this.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    return k ** BigInt(rows);
  }

  /** Index of the largest entry (the argmax candidate). */
  argmax(): number {
    const a = this.toArray();
    let best = 0;
    for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
    return best;
  }

  dispose(): void {
    this.variable.dispose();
  }
}

/** An edge of a declared graph: node `to` takes node `from` through the op that `param` chooses. */
export interface GraphEdge {
  from: number;
  to: number;
  param: string;
}

/** The network shape a space declares (ArchSpace.declareGraph): named nodes, edges by node index. */
export interface SpaceGraph {
  nodes: string[];
  edges: GraphEdge[];
}

/** What declareGraph takes: the nodes (names in order, or how many: '0', '1', ...) and the edges, nodes by index or name. */
export interface GraphDeclaration {
  nodes: readonly string[] | number;
  edges: ReadonlyArray<{ from: number | string; to: number | string; param: string }>;
}

/** One param of a SpaceDescription. */
export type ParamDescription =
  | { name: string; type: 'categorical'; choices: ParamValue[] }
  | { name: string; type: 'numeric'; low: number; high: number }
  | { name: string; type: 'tensor'; shape: number[] };

/** The space as plain JSON: its params in creation order and the graph it declares (the runner records it as stream 'space'). */
export interface SpaceDescription {
  params: ParamDescription[];
  graph?: SpaceGraph;
}

/**
 * All arch params of one experiment. Params are named (given, or `<prefix>_<n>` in creation
 * order), the discrete ones span a mixed-radix space whose points map 1:1 to indices.
 */
export class ArchSpace {
  private readonly params = new Map<string, ArchParam>();
  private readonly counters = new Map<string, number>();
  private readonly listeners: ParamListener[] = [];
  private equivalence?: (a: Assignment) => string;
  private declaredGraph?: SpaceGraph;

  add<P extends ArchParam>(param: P, prefix?: string): P {
    if (!param.name) {
      const p = prefix ?? param.type;
      let n = this.counters.get(p) ?? 0;
      while (this.params.has(`${p}_${n}`)) n++;
      this.counters.set(p, n + 1);
      param.name = `${p}_${n}`;
    }
    if (this.params.has(param.name)) {
      throw new ModnasError('MODNAS_E_PARAM_DUPLICATE', `arch param "${param.name}" is defined twice`, {
        fix: 'give each param a distinct name, or leave the name out to get one assigned',
      });
    }
    this.params.set(param.name, param);
    param.onChange((p) => {
      for (const l of this.listeners) l(p);
    });
    return param;
  }

  categorical(opts: CategoricalOptions, prefix?: string): CategoricalParam {
    return this.add(new CategoricalParam(opts), prefix);
  }

  numeric(opts: NumericOptions, prefix?: string): NumericParam {
    return this.add(new NumericParam(opts), prefix);
  }

  tensor(opts: TensorParamOptions, prefix?: string): TensorParam {
    return this.add(new TensorParam(opts), prefix);
  }

  get(name: string): ArchParam {
    const p = this.params.get(name);
    if (!p) throw new ModnasError('MODNAS_E_PARAM_UNKNOWN', `no arch param named "${name}"`, { fix: `known params: ${[...this.params.keys()].join(', ') || '(none)'}` });
    return p;
  }

  has(name: string): boolean {
    return this.params.has(name);
  }

  all(): ArchParam[] {
    return [...this.params.values()];
  }

  names(): string[] {
    return [...this.params.keys()];
  }

  /** Discrete params in creation order: the digits of the mixed-radix index. */
  discrete(): DiscreteParam[] {
    return this.all().filter((p): p is DiscreteParam => p instanceof DiscreteParam);
  }

  tensors(): TensorParam[] {
    return this.all().filter((p): p is TensorParam => p instanceof TensorParam);
  }

  /** Read every tensor param's values to the host (TensorParam.read), so that toArray() and sampling read no GPU memory until the next change. */
  async readTensors(): Promise<void> {
    await Promise.all(this.tensors().map((t) => t.read()));
  }

  /** Number of points in the discrete space (exact, as a bigint: spaces outgrow 2^53 quickly). */
  size(): bigint {
    return this.discrete().reduce((acc, p) => acc * BigInt(p.cardinality), 1n);
  }

  /**
   * Number of architectures the space spans: the discrete params' points times the categorical
   * choices of every tensor param (a softmax over k candidates is k choices). Continuous numeric
   * params are not counted. `size()` counts the discrete params only (what grid search walks).
   */
  archSize(): bigint {
    return this.tensors().reduce((acc, t) => acc * t.choices, this.size());
  }

  /** The assignment at a mixed-radix index; the first param is the least significant digit. */
  fromIndex(index: bigint | number): Assignment {
    let i = BigInt(index);
    const size = this.size();
    if (i < 0n || i >= size) throw new ModnasError('MODNAS_E_PARAM_INDEX', `index ${i} is outside the space of size ${size}`);
    const out: Assignment = {};
    for (const p of this.discrete()) {
      const c = BigInt(p.cardinality);
      out[p.name] = p.valueAt(Number(i % c));
      i /= c;
    }
    return out;
  }

  toIndex(assignment: Assignment): bigint {
    let index = 0n;
    let radix = 1n;
    for (const p of this.discrete()) {
      const v = assignment[p.name] ?? p.value;
      const k = p.indexOf(v);
      if (k < 0) throw new ModnasError('MODNAS_E_PARAM_VALUE', `arch param "${p.name}" has no value ${JSON.stringify(v)}`);
      index += BigInt(k) * radix;
      radix *= BigInt(p.cardinality);
    }
    return index;
  }

  /**
   * Declare which assignments are the same network (e.g. NAS-Bench-201 cells that differ only on
   * dead edges): `key` returns a string equal for equivalent ones. Searches that never evaluate a
   * network twice (local search, BANANAS) compare networkKey()s.
   */
  declareEquivalence(key: (a: Assignment) => string): void {
    this.equivalence = key;
  }

  /** Equal for assignments that are the same network: the declared equivalence, else the mixed-radix index. */
  networkKey(a: Assignment): string {
    return this.equivalence ? this.equivalence({ ...this.assignment(), ...a }) : this.toIndex(a).toString();
  }

  /**
   * Declare the network's shape: a DAG whose every edge carries the op a param chooses (e.g. the
   * NAS-Bench-201 cell: 4 nodes, the 6 edges "1<-0" ... "3<-2"). Tools draw architectures from it
   * (the dashboard draws a DAG; without a declaration, a chain of Slots). The params must exist
   * already and choose an op (categorical, or a tensor's softmax over candidates); nodes are named
   * or counted, edges name them by index or name, and the graph has no cycle.
   */
  declareGraph(graph: GraphDeclaration): void {
    const where = 'ArchSpace.declareGraph';
    const bad = (message: string, fix: string): ModnasError => new ModnasError('MODNAS_E_PARAM_GRAPH', `graph of the search space: ${message}`, { fix, where });
    const nodes = typeof graph.nodes === 'number' ? (Number.isInteger(graph.nodes) && graph.nodes > 0 ? Array.from({ length: graph.nodes }, (_, i) => String(i)) : undefined) : [...graph.nodes];
    if (!nodes || nodes.length === 0) throw bad(`nodes must be a positive node count or a list of names, got ${JSON.stringify(graph.nodes)}`, 'declare nodes: 4 or nodes: ["in", "a", "b", "out"]');
    const dup = nodes.find((n, i) => typeof n !== 'string' || n === '' || nodes.indexOf(n) !== i);
    if (dup !== undefined) throw bad(`node names must be distinct non-empty strings, got ${JSON.stringify(dup)} in ${JSON.stringify(nodes)}`, 'give every node its own name');
    if (graph.edges.length === 0) throw bad('it has no edge', 'declare the edges: { from, to, param }, one per op choice');
    const node = (ref: number | string, i: number, end: 'from' | 'to'): number => {
      const k = typeof ref === 'number' ? ref : nodes.indexOf(ref);
      if (Number.isInteger(k) && k >= 0 && k < nodes.length) return k;
      throw bad(`edge ${i} (param "${graph.edges[i].param}"): ${end} ${JSON.stringify(ref)} is not one of its ${nodes.length} nodes`, `use a node index 0..${nodes.length - 1} or a name of ${JSON.stringify(nodes)}`);
    };
    const edges: GraphEdge[] = graph.edges.map((e, i) => {
      const p = this.params.get(e.param);
      if (!p) throw bad(`edge ${i} names no arch param of the space: "${e.param}"`, `add the param before declaring the graph; known params: ${this.names().join(', ') || '(none)'}`);
      if (!(p instanceof CategoricalParam || p instanceof TensorParam)) throw bad(`edge ${i}: param "${e.param}" is ${p.type}, which chooses no op`, 'an edge takes a categorical param (or a tensor param of a mixed op)');
      const edge = { from: node(e.from, i, 'from'), to: node(e.to, i, 'to'), param: e.param };
      if (edge.from === edge.to) throw bad(`edge ${i} (param "${e.param}") joins node "${nodes[edge.from]}" to itself`, 'an edge joins two different nodes');
      return edge;
    });
    const seen = new Set<string>();
    for (const e of edges) {
      const key = `${e.from}>${e.to}:${e.param}`;
      if (seen.has(key)) throw bad(`the edge ${nodes[e.from]} -> ${nodes[e.to]} of param "${e.param}" is declared twice`, 'declare each edge once');
      seen.add(key);
    }
    // Kahn's algorithm: what is left once no node without inputs remains lies on a cycle
    const indeg = nodes.map((_, k) => edges.filter((e) => e.to === k).length);
    const ready = nodes.map((_, k) => k).filter((k) => indeg[k] === 0);
    let done = 0;
    while (ready.length > 0) {
      const k = ready.pop() as number;
      done++;
      for (const e of edges) if (e.from === k && --indeg[e.to] === 0) ready.push(e.to);
    }
    if (done < nodes.length) throw bad(`it has a cycle through node(s) ${nodes.filter((_, k) => indeg[k] > 0).map((n) => `"${n}"`).join(', ')}`, 'edges must point one way (from an earlier node to a later one)');
    this.declaredGraph = { nodes, edges };
  }

  /** The declared graph (a copy), or undefined when the space declares none. */
  graph(): SpaceGraph | undefined {
    const g = this.declaredGraph;
    return g && { nodes: [...g.nodes], edges: g.edges.map((e) => ({ ...e })) };
  }

  /** The space as plain JSON: every param with its choices (range, shape) and the declared graph. */
  describe(): SpaceDescription {
    const params = this.all().map((p): ParamDescription => {
      if (p instanceof CategoricalParam) return { name: p.name, type: 'categorical', choices: [...p.choices] };
      if (p instanceof NumericParam) return { name: p.name, type: 'numeric', low: p.low, high: p.high };
      if (p instanceof TensorParam) return { name: p.name, type: 'tensor', shape: [...p.shape] };
      // another DiscreteParam subclass: its values by index
      const d = p as DiscreteParam;
      return { name: p.name, type: 'categorical', choices: Array.from({ length: d.cardinality }, (_, k) => d.valueAt(k)) };
    });
    const graph = this.graph();
    return graph ? { params, graph } : { params };
  }

  /** Current values of the discrete params. */
  assignment(): Assignment {
    const out: Assignment = {};
    for (const p of this.discrete()) out[p.name] = p.value;
    return out;
  }

  /** Set discrete and numeric params (listeners rewrite the network). Unknown names are an error; tensor entries are left as they are. */
  apply(assignment: Assignment): void {
    for (const [name, v] of Object.entries(assignment)) {
      const p = this.get(name);
      if (p instanceof DiscreteParam) p.value = v;
      else if (p instanceof NumericParam) p.value = Number(v);
      // A candidate's entry for a tensor param records its argmax (gradient optimizers' next());
      // the tensor keeps its learned values.
    }
  }

  random(rng: Rng): Assignment {
    const out: Assignment = {};
    for (const p of this.discrete()) out[p.name] = p.valueAt(rng.int(p.cardinality));
    return out;
  }

  /** Called after any param of the space changes. */
  onChange(listener: ParamListener): void {
    this.listeners.push(listener);
  }

  dispose(): void {
    for (const t of this.tensors()) t.dispose();
    this.params.clear();
    this.declaredGraph = undefined;
  }
}
