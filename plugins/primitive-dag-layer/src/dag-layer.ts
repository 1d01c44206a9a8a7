import type { ArchDescConvert } from '@modnas/kit-mixed-op';
import { ModnasError, Module, Sequential, Slot, defineComponent, tf, z } from '@modnas/core';
import { archDescOf, isMixedOp } from '@modnas/kit-mixed-op';
import type { Allocator, Enumerator, LayerDefSpec, Merger } from './layer-defs.js';
import { buildAllocator, buildEnumerator, buildMerger, layerDefSchema } from './layer-defs.js';
import { addPreprocs, buildPreprocs, checkChannels, edgeClsSchema, edgeInput, edgeKwargs, edgeKwargsSchema, fillEdges, inputStates, layerRefs, nameSchema, preprocSchema, preprocSpecs } from './parts.js';

export interface DAGLayerOptions {
  /** Channels of each input (a list: several inputs, run with `run([...])`). */
  chnIn: number | readonly number[];
  /** Output channels of every edge; undefined: an edge keeps the channels it reads. */
  chnOut?: number;
  /** Stride of the edges that read only inputs (default 1). */
  stride?: number;
  nNodes: number;
  /** Default ReplicateAllocator. */
  allocator?: LayerDefSpec;
  /** Merges a node's edges (default SumMerger). */
  mergerState?: LayerDefSpec;
  /** Merges the states into the output; its start defaults to the number of inputs (default ConcatMerger). */
  mergerOut?: LayerDefSpec;
  /** Default CombinationEnumerator. */
  enumerator?: LayerDefSpec;
  /** One module per input, run on it first; each gives `chnPreproc` channels. */
  preprocs?: readonly Module[];
  chnPreproc?: number;
  /** States each edge reads (the original's n_input_e; default 1). */
  edgeInputs?: number;
  /** Extra args of every edge Slot. */
  edgeArgs?: Readonly<Record<string, unknown>>;
  /** Edges are named `<name>_<e>`. */
  name?: string;
  /** Config path, for errors. */
  where?: string;
}

/**
 * The original's DAGLayer, the generic cell: `nNodes` nodes after the inputs, node i reading
 * every predecessor list the enumerator gives for the states before it, through one edge (a Slot)
 * each, its input cut by the allocator; the node is merger_state of its edges, the output
 * merger_out of the states. Edges that read only inputs have the layer's stride. A DARTS cell is
 * ReplicateAllocator, SumMerger, ConcatMerger, CombinationEnumerator over two preprocessed inputs.
 */
export class DAGLayer extends Module {
  readonly chnIn: readonly number[];
  readonly nInput: number;
  readonly nNodes: number;
  readonly nStates: number;
  readonly stride: number;
  readonly edgeInputs: number;
  readonly allocator: Allocator;
  readonly mergerState: Merger;
  readonly mergerOut: Merger;
  readonly enumerator: Enumerator;
  /** Channels of every state (inputs after preproc, then nodes). */
  chnStates: readonly number[];
  chnOut: number;
  readonly preprocs: Sequential | undefined;
  /** `dag.<node>.<edge>`: the edge Slots of each node, by the edge's index in the enumerator's list. */
  readonly dag: Sequential;
  /** rows[i]: node i's edges (only the kept ones once built from a description). */
  private rows: DAGEdge[][];
  /** The description the layer was built from, when fixed. */
  private fixed: DAGLayerDesc | undefined;

  constructor(o: DAGLayerOptions) {
    super();
    const where = o.where ?? 'DAGLayer';
    this.chnIn = typeof o.chnIn === 'number' ? [o.chnIn] : [...o.chnIn];
    this.nInput = this.chnIn.length;
    this.nNodes = o.nNodes;
    this.nStates = this.nInput + this.nNodes;
    this.stride = o.stride ?? 1;
    this.edgeInputs = o.edgeInputs ?? 1;
    this.allocator = buildAllocator(o.allocator ?? 'ReplicateAllocator', this.nInput, this.nNodes, `${where}.allocator`);
    this.mergerState = buildMerger(o.mergerState ?? 'SumMerger', 0, `${where}.merger_state`);
    this.mergerOut = buildMerger(o.mergerOut ?? 'ConcatMerger', this.nInput, `${where}.merger_out`);
    this.enumerator = buildEnumerator(o.enumerator ?? 'CombinationEnumerator', `${where}.enumerator`);
    const pre = addPreprocs(this, o, this.chnIn, 'DAGLayer', where);
    this.preprocs = pre.preprocs;
    const chnStates = pre.chnStates;
    this.dag = this.addModule('dag', new Sequential());
    this.rows = [];
    let e = 0;
    for (let i = 0; i < this.nNodes; i++) {
      const cur = this.nInput + i;
      const node = new Sequential();
      // a negative index counts from the last state, as Python's does (LastNEnumerator reads past the first state)
      const nodeSources = this.enumerator.enumerate(cur, this.edgeInputs).map((sidx) => sidx.map((s) => (s < 0 ? s + cur : s)));
      if (nodeSources.length === 0) {
        throw new ModnasError('MODNAS_E_LAYER_ARGS', `DAGLayer: node ${i} gets no edge (the enumerator yields nothing for ${cur} states and ${this.edgeInputs} inputs per edge)`, {
          fix: 'read fewer states per edge (edge_kwargs._chn_in), or choose another enumerator',
          where,
        });
      }
      const row: DAGEdge[] = [];
      nodeSources.forEach((sidx, index) => {
        const chnIn = this.allocator.chnIn(sidx.map((s) => chnStates[s]), sidx, cur).reduce((a, b) => a + b, 0);
        const args = { ...o.edgeArgs, ...(o.name === undefined ? {} : { name: `${o.name}_${e}` }) };
        const slot = node.addModule(String(index), new Slot({ ...args, chnIn, chnOut: o.chnOut ?? chnIn, stride: sidx.every((s) => s < this.nInput) ? this.stride : 1 }));
        row.push({ index, sidx, slot });
        e++;
      });
      this.dag.push(node);
      this.rows.push(row);
      chnStates.push(this.mergerState.chnOut(row.map((r) => r.slot.chnOut)));
    }
    this.chnStates = chnStates;
    this.chnOut = this.mergerOut.chnOut(chnStates);
  }

  /** Node i's edge Slots, in the enumerator's order. */
  nodeEdges(i: number): Slot[] {
    return (this.rows[i] ?? []).map((r) => r.slot);
  }

  /** sources[i][e]: the states edge e of node i reads. */
  get sources(): number[][][] {
    return this.rows.map((row) => row.map((r) => [...r.sidx]));
  }

  /** Every edge Slot, node by node. */
  edges(): Slot[] {
    return Array.from({ length: this.nNodes }, (_, i) => this.nodeEdges(i)).flat();
  }

  get numEdges(): number {
    return this.edges().length;
  }

  /** Run the layer on its inputs (one tensor per input). */
  run(xs: readonly tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const states = inputStates('DAGLayer', this.nInput, this.preprocs, xs);
      for (let i = 0; i < this.nNodes; i++) {
        const cur = this.nInput + i;
        const res = this.rows[i].map(({ sidx, slot }) => slot.call(edgeInput(this.allocator.alloc(sidx.map((s) => states[s]), sidx, cur))));
        states.push(this.mergerState.merge(res));
      }
      return this.mergerOut.merge(states);
    });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.run([x]);
  }

  /**
   * The layer's description, as the original's: per node its k strongest edges, each
   * `[[op], [sources], nStates]`. An edge's strength is the largest weight of its ops other than
   * NIL, and it keeps that op; an edge holding a plain op has weight 1. (The original replaces the
   * first kept edge weaker than a new one, not the weakest; here the k strongest are kept, listed
   * in the enumerator's order.) A layer built from a description gives that description.
   */
  toArchDesc(k: number | readonly number[] = 2): DAGLayerDesc {
    if (this.fixed) return structuredClone(this.fixed);
    return this.rows.map((row, i) => {
      const kNode = typeof k === 'number' ? k : (k[i] ?? 0);
      const scored: Array<{ at: number; weight: number; edge: DAGEdgeDesc }> = [];
      row.forEach((r, at) => {
        const best = strongest(r.slot);
        if (best) scored.push({ at, weight: best.weight, edge: [[best.op], [...r.sidx], this.nInput + i] });
      });
      return scored
        .sort((a, b) => b.weight - a.weight || a.at - b.at)
        .slice(0, Math.max(0, kNode))
        .sort((a, b) => a.at - b.at)
        .map((s) => s.edge);
    });
  }

  /**
   * Build the layer from its description: each listed edge (found by its sources) is filled by
   * `convert` with its op, the others leave the layer; node states are re-merged from the kept edges.
   */
  async buildFromArchDesc(desc: unknown, convert: ArchDescConvert): Promise<void> {
    const bad = (what: string): ModnasError =>
      new ModnasError('MODNAS_E_ARCHDESC_ENTRY', `DAGLayer: ${what}`, { fix: 'give a description as DAGLayer.toArchDesc writes it: per node a list of [[op], [sources], nStates]' });
    if (!Array.isArray(desc) || desc.length !== this.nNodes) throw bad(`expected one entry per node (${this.nNodes}), got ${JSON.stringify(desc)}`);
    const kept: DAGEdge[][] = [];
    const fixed: DAGLayerDesc = [];
    for (let i = 0; i < this.nNodes; i++) {
      const nodeDesc: unknown = desc[i];
      if (!Array.isArray(nodeDesc) || nodeDesc.length === 0) throw bad(`node ${i} has no edges: ${JSON.stringify(nodeDesc)}`);
      const row: DAGEdge[] = [];
      const out: DAGEdgeDesc[] = [];
      for (const e of nodeDesc as unknown[]) {
        if (!Array.isArray(e) || e.length < 2 || !Array.isArray(e[1])) throw bad(`node ${i}: an edge must be [[op], [sources], nStates], got ${JSON.stringify(e)}`);
        const key = JSON.stringify(e[1]);
        const r = this.rows[i].find((x) => JSON.stringify(x.sidx) === key);
        if (!r) throw bad(`node ${i} has no edge from states ${key} (it has ${this.rows[i].map((x) => JSON.stringify(x.sidx)).join(', ')})`);
        if (row.includes(r)) throw bad(`node ${i} lists the edge from states ${key} twice`);
        const op: unknown[] = Array.isArray(e[0]) ? [...(e[0] as unknown[])] : [e[0]];
        await convert(r.slot, op);
        row.push(r);
        out.push([op, [...r.sidx], this.nInput + i]);
      }
      kept.push(row.sort((a, b) => a.index - b.index));
      fixed.push(out);
    }
    for (let i = 0; i < this.nNodes; i++) {
      const node = new Sequential();
      for (const r of kept[i]) node.addModule(String(r.index), r.slot);
      for (const r of this.rows[i]) if (!kept[i].includes(r)) r.slot.dispose();
      this.dag.addModule(String(i), node);
    }
    this.rows = kept;
    this.fixed = fixed;
    const chnStates = this.chnStates.slice(0, this.nInput);
    for (const row of kept) chnStates.push(this.mergerState.chnOut(row.map((r) => r.slot.chnOut)));
    this.chnStates = chnStates;
    this.chnOut = this.mergerOut.chnOut(chnStates);
  }

  override describe(): string {
    return `chnIn=${this.chnIn.join('+')}, chnOut=${this.chnOut}, ${this.nNodes} nodes, ${this.numEdges} edges${this.stride > 1 ? `, stride ${this.stride}` : ''}${this.fixed ? ', fixed' : ''}`;
  }
}

/** One edge of a node: its index in the enumerator's list, the states it reads, its Slot. */
interface DAGEdge {
  index: number;
  sidx: number[];
  slot: Slot;
}

/** One kept edge in a description: `[[op], [sources], nStates]`. */
export type DAGEdgeDesc = [ops: unknown[], sources: number[], nStates: number];
/** A DAGLayer's description: per node, its kept edges. */
export type DAGLayerDesc = DAGEdgeDesc[][];

const isNil = (d: unknown): boolean => (typeof d === 'object' && d !== null && 'type' in d ? d.type : d) === 'NIL';

/** An edge's strongest op other than NIL and its weight (a plain op: weight 1); undefined if empty or all NIL. */
function strongest(slot: Slot): { op: unknown; weight: number } | undefined {
  const impl = slot.impl;
  if (!impl) return undefined;
  if (!isMixedOp(impl)) {
    const d = archDescOf(impl);
    return d === undefined || isNil(d) ? undefined : { op: d, weight: 1 };
  }
  const probs = impl.probs();
  let best: { op: unknown; weight: number } | undefined;
  probs.forEach((p, c) => {
    const d = impl.candidateDesc(c);
    if (!isNil(d) && (!best || p > best.weight)) best = { op: d, weight: p };
  });
  return best;
}

export const dagLayerSchema = z.strictObject({
  n_nodes: z.number().int().min(1).default(4).describe('Nodes after the input'),
  allocator: layerDefSchema('allocator', 'ReplicateAllocator', 'How an edge gets its input from the states it reads: ReplicateAllocator (whole) or EvenSplitAllocator (an even share of the channels); a name or { type, args }'),
  merger_state: layerDefSchema('merger', 'SumMerger', "Merges a node's edges: SumMerger, AvgMerger, ConcatMerger or LastMerger; a name or { type, args: { start } }"),
  merger_out: layerDefSchema('merger', 'SumMerger', 'Merges the states into the output, from the first node on unless args.start says otherwise (the original: ConcatMerger in DARTS, which needs edge_kwargs._chn_out = chnOut / n_nodes to fit a Slot)'),
  enumerator: layerDefSchema('enumerator', 'CombinationEnumerator', 'The predecessors of each edge: CombinationEnumerator (every earlier state), FirstNEnumerator, LastNEnumerator, ReverseEnumerator or TreeEnumerator ({ type, args: { width } })'),
  preproc: preprocSchema,
  edge_cls: edgeClsSchema,
  edge_kwargs: edgeKwargsSchema,
  name: nameSchema,
});

export type DAGLayerConfig = z.output<typeof dagLayerSchema>;

export const dagLayer = defineComponent({
  kind: 'primitive',
  id: 'DAGLayer',
  description: 'A cell of n_nodes nodes, each merging one edge (a Slot) per predecessor list its enumerator gives (the original DAGLayer)',
  schema: dagLayerSchema,
  refs: layerRefs,
  async create(c, ctx, slot) {
    const where = ctx.where || 'DAGLayer';
    const kw = edgeKwargs('DAGLayer', c.edge_kwargs, where);
    const specs = preprocSpecs('DAGLayer', c.preproc, 1, where);
    const chnCur = kw.chnCur ?? slot.chnOut;
    const preprocs = specs ? await buildPreprocs(specs, [slot.chnIn], chnCur, ctx) : undefined;
    let layer: DAGLayer;
    try {
      layer = new DAGLayer({
        chnIn: slot.chnIn,
        chnOut: kw.chnOut ?? slot.chnOut,
        stride: slot.stride,
        nNodes: c.n_nodes,
        allocator: c.allocator,
        mergerState: c.merger_state,
        mergerOut: c.merger_out,
        enumerator: c.enumerator,
        preprocs,
        chnPreproc: preprocs ? chnCur : undefined,
        edgeInputs: kw.edgeInputs,
        edgeArgs: kw.args,
        name: c.name ?? undefined,
        where,
      });
    } catch (e) {
      for (const m of preprocs ?? []) m.dispose();
      throw e;
    }
    try {
      checkChannels('DAGLayer', layer.chnOut, slot, where, 'merge the output with SumMerger, AvgMerger or LastMerger, or with ConcatMerger give edge_kwargs._chn_out so that the merged states add up to the Slot\'s chnOut');
      await fillEdges(layer.edges(), c.edge_cls, ctx);
    } catch (e) {
      layer.dispose();
      throw e;
    }
    return layer;
  },
});
