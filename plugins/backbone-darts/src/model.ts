import type { ArchDescConvert } from '@modnas/kit-mixed-op';
import { ModnasError, Module, Sequential, Slot, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear, ReLU } from '@modnas/nn';
import { archDescOf, isMixedOp } from '@modnas/kit-mixed-op';
import type { EdgeChoice } from './genotype.js';
import { keepStrongest } from './genotype.js';

/** The two cell types; cells of one type share their arch params (and their genotype). */
export type CellType = 'normal' | 'reduce';

/**
 * One kept edge of a genotype, in the original's layout: `[[op], [source], nStates]` (the op as a
 * one-element list, the source state index, the number of states before the node).
 */
export type GenotypeEdge = [ops: unknown[], sources: number[], nStates: number];

/** A cell's genotype: per intermediate node, its kept edges. */
export type CellGenotype = GenotypeEdge[][];

/** The preprocessing of a cell input (the original's PreprocLayer, a StdConv 1x1): BN, ReLU, 1x1 conv. */
export class PreprocLayer extends Sequential {
  constructor(chnIn: number, chnOut: number) {
    super([new BatchNorm2d(chnIn), new ReLU(), new Conv2d(chnIn, chnOut, { kernelSize: 1, padding: 0 })]);
  }
}

export interface DARTSCellOptions {
  /** Channels of the two inputs (the cells before the previous one, and the previous one). */
  chnIn: [number, number];
  /** Channels of every node (and every edge). */
  chn: number;
  /** 2 in a reduction cell: the edges from the inputs halve the resolution. */
  stride: number;
  nNodes: number;
  /** The previous cell halved the resolution: input 0 goes through a factorized reduce. */
  reductionPrev: boolean;
  type: CellType;
}

/**
 * The original's FactorizedReduce as DARTS preprocesses a cell input after a reduction cell: BN
 * (over the input channels), ReLU, then two stride-2 1x1 convs, the second on the map shifted by
 * one pixel, concatenated. (primitive-basic's FactorizedReduce, the IDT op on reduction edges, puts
 * BN after the convs, over the output channels, as pt.darts does; on an edge both have the same
 * weights, here they would not.) The shifted branch is zero-padded back, so odd maps work too.
 */
export class FactorizedReducePreproc extends Module {
  readonly bn: BatchNorm2d;
  readonly relu: ReLU;
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;

  constructor(
    readonly chnIn: number,
    readonly chnOut: number,
  ) {
    super();
    const half = Math.floor(chnOut / 2);
    this.bn = this.addModule('bn', new BatchNorm2d(chnIn));
    this.relu = this.addModule('relu', new ReLU());
    this.conv1 = this.addModule('conv1', new Conv2d(chnIn, half, { kernelSize: 1, stride: 2, padding: 0 }));
    this.conv2 = this.addModule('conv2', new Conv2d(chnIn, chnOut - half, { kernelSize: 1, stride: 2, padding: 0 }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const r = this.relu.call(this.bn.call(x)) as tf.Tensor4D;
    const [, h, w] = r.shape;
    const shifted = h < 2 || w < 2 ? tf.zerosLike(r) : tf.pad(tf.slice(r, [0, 1, 1, 0], [-1, h - 1, w - 1, -1]), [[0, 0], [0, 1], [0, 1], [0, 0]]);
    return tf.concat([this.conv1.call(r), this.conv2.call(shifted)], 3);
  }

  override describe(): string {
    return `factorized reduce ${this.chnIn}->${this.chnOut}`;
  }
}

const isList = (v: unknown): v is unknown[] => Array.isArray(v);

/**
 * A DARTS cell (the original's DAGLayer as DARTS builds it): two inputs, preprocessed to `chn`
 * channels; `nNodes` intermediate nodes, node i the sum of one Slot per earlier state (2 + i
 * Slots); the output the concatenation of the intermediate nodes (nNodes x chn channels). Edge e
 * of the cell (counted node by node, source by source) is a Slot named `<type>_<e>`, which names
 * the arch param it shares with the same edge of every cell of its type.
 */
export class DARTSCell extends Module {
  readonly type: CellType;
  readonly nNodes: number;
  readonly stride: number;
  readonly chn: number;
  readonly preproc0: Module;
  readonly preproc1: PreprocLayer;
  /** `dag.<node>.<source>`: the edges of each node, by source state. */
  readonly dag: Sequential;
  /** edges[i]: node i's edges by source state (only the kept ones once built from a genotype). */
  private edges: Array<Map<number, Slot>>;
  /** The genotype the cell was built from, when fixed. */
  private fixed: CellGenotype | undefined;

  constructor(o: DARTSCellOptions) {
    super();
    this.type = o.type;
    this.nNodes = o.nNodes;
    this.stride = o.stride;
    this.chn = o.chn;
    this.preproc0 = this.addModule('preproc0', o.reductionPrev ? new FactorizedReducePreproc(o.chnIn[0], o.chn) : new PreprocLayer(o.chnIn[0], o.chn));
    this.preproc1 = this.addModule('preproc1', new PreprocLayer(o.chnIn[1], o.chn));
    this.dag = this.addModule('dag', new Sequential());
    this.edges = [];
    let e = 0;
    for (let i = 0; i < o.nNodes; i++) {
      const node = new Sequential();
      const edges = new Map<number, Slot>();
      for (let j = 0; j < 2 + i; j++) {
        const slot = node.addModule(String(j), new Slot({ chnIn: o.chn, chnOut: o.chn, stride: j < 2 ? o.stride : 1, name: `${o.type}_${e++}` }));
        edges.set(j, slot);
      }
      this.dag.push(node);
      this.edges.push(edges);
    }
  }

  get chnOut(): number {
    return this.nNodes * this.chn;
  }

  /** Number of edges (Slots) of the cell: 2 + 3 + ... (all of them while searching). */
  get numEdges(): number {
    return this.edges.reduce((s, m) => s + m.size, 0);
  }

  /** Node i's edges as [source, Slot], by source. */
  nodeEdges(i: number): Array<[number, Slot]> {
    return [...(this.edges[i] ?? new Map<number, Slot>()).entries()];
  }

  /** Run the cell on its two inputs (the cell before the previous one, the previous one). */
  run(s0: tf.Tensor, s1: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const states = [this.preproc0.call(s0), this.preproc1.call(s1)];
      for (const edges of this.edges) {
        const outs = [...edges.entries()].map(([j, slot]) => slot.call(states[j]));
        states.push(outs.length === 1 ? outs[0] : tf.addN(outs));
      }
      return tf.concat(states.slice(2), 3);
    });
  }

  forward(): tf.Tensor {
    throw new ModnasError('MODNAS_E_MODEL_INPUT', 'a DARTS cell takes two inputs (the outputs of the two cells before it)', {
      fix: 'run it with cell.run(s0, s1), as DARTSNet does',
    });
  }

  /**
   * The cell's genotype: per node, its k strongest incoming edges with their strongest op other
   * than NIL (DARTS' rule); a cell built from a genotype gives that genotype.
   */
  toArchDesc(k = 2): CellGenotype {
    if (this.fixed) return this.fixed.map((node) => node.map((e) => [[...e[0]], [...e[1]], e[2]] as GenotypeEdge));
    return this.edges.map((edges, i) => {
      const choices: EdgeChoice[] = [];
      for (const [j, slot] of edges) {
        const impl = slot.impl;
        if (isMixedOp(impl)) choices.push({ source: j, probs: impl.probs(), descs: impl.candidateNames().map((_, c) => impl.candidateDesc(c)) });
        else if (impl) choices.push({ source: j, probs: [1], descs: [archDescOf(impl) ?? null] });
      }
      return keepStrongest(choices, k).map((e): GenotypeEdge => [[e.op], [e.source], 2 + i]);
    });
  }

  /** Build the cell from its genotype: each kept edge gets its op, the other edges are removed. */
  async buildFromArchDesc(desc: unknown, convert: ArchDescConvert): Promise<void> {
    const bad = (what: string): ModnasError =>
      new ModnasError('MODNAS_E_ARCHDESC_ENTRY', `DARTS ${this.type} cell: ${what}`, {
        fix: 'give a genotype as the DARTS search exports it: per node a list of [[op], [source], nStates] (DefaultRecursiveExporter)',
      });
    if (!isList(desc) || desc.length !== this.nNodes) throw bad(`expected one entry per intermediate node (${this.nNodes}), got ${JSON.stringify(desc)}`);
    const fixed: CellGenotype = [];
    const kept: Array<Map<number, Slot>> = [];
    for (let i = 0; i < this.nNodes; i++) {
      const nodeDesc = desc[i];
      if (!isList(nodeDesc) || nodeDesc.length === 0) throw bad(`node ${i} has no edges: ${JSON.stringify(nodeDesc)}`);
      const edges = new Map<number, Slot>();
      const out: GenotypeEdge[] = [];
      for (const e of nodeDesc) {
        if (!isList(e) || e.length < 2 || !isList(e[1]) || e[1].length !== 1) throw bad(`node ${i}: an edge must be [[op], [source], nStates], got ${JSON.stringify(e)}`);
        const src = e[1][0];
        const slot = typeof src === 'number' ? this.edges[i].get(src) : undefined;
        if (!slot || typeof src !== 'number') throw bad(`node ${i} has no edge from state ${JSON.stringify(src)} (its sources are 0..${1 + i})`);
        if (edges.has(src)) throw bad(`node ${i} lists the edge from state ${src} twice`);
        const op = isList(e[0]) ? e[0] : [e[0]];
        await convert(slot, op);
        edges.set(src, slot);
        out.push([[...op], [src], 2 + i]);
      }
      fixed.push(out);
      kept.push(new Map([...edges.entries()].sort((a, b) => a[0] - b[0])));
    }
    // the edges that were not kept leave the network (and the tree, so no exporter finds them)
    for (let i = 0; i < this.nNodes; i++) {
      const node = new Sequential();
      for (const [j, slot] of kept[i]) node.addModule(String(j), slot);
      for (const [j, slot] of this.edges[i]) if (!kept[i].has(j)) slot.dispose();
      this.dag.addModule(String(i), node);
    }
    this.edges = kept;
    this.fixed = fixed;
  }

  override describe(): string {
    return `${this.type}, ${this.nNodes} nodes x ${this.chn} channels, ${this.numEdges} edges${this.stride > 1 ? ', stride 2' : ''}${this.fixed ? ', fixed' : ''}`;
  }
}

export interface DARTSNetOptions {
  /** Input channels. */
  chnIn?: number;
  /** Initial channels C (of the first cells' nodes). */
  chn?: number;
  numClasses?: number;
  /** Number of cells; reduction cells at layers/3 and 2·layers/3 (rounded down). */
  layers?: number;
  /** Intermediate nodes per cell. */
  nNodes?: number;
  /** The stem's channels are chn x this. */
  channelMultiplier?: number;
  /** The ImageNet stem (three stride-2 convs, so the first cell sees a reduced input). */
  imagenet?: boolean;
}

/** The cells' indices that are reduction cells (the original: i in [layers // 3, 2 * layers // 3]). */
export const reductionCells = (layers: number): number[] => [Math.floor(layers / 3), Math.floor((2 * layers) / 3)];

/**
 * The DARTS network (the original's DARTSLikeNet): a stem, `layers` cells (channels doubled at
 * each reduction cell), global average pooling and a linear classifier. Cell k reads the outputs
 * of cells k-2 and k-1 (the stem's output for both at first).
 */
export class DARTSNet extends Module {
  readonly chn: number;
  readonly numClasses: number;
  readonly nNodes: number;
  readonly stem0: Sequential;
  readonly stem1: Sequential | undefined;
  readonly cells: Sequential;
  readonly avgpool: GlobalAvgPool;
  readonly fc: Linear;

  constructor(o: DARTSNetOptions = {}) {
    super();
    const { chnIn = 3, chn = 16, numClasses = 10, layers = 8, nNodes = 4, channelMultiplier = 3, imagenet = false } = o;
    this.chn = chn;
    this.numClasses = numClasses;
    this.nNodes = nNodes;
    let chnCur = chn * channelMultiplier;
    let reductionPrev: boolean;
    if (imagenet) {
      const half = Math.floor(chnCur / 2);
      this.stem0 = this.addModule('stem0', new Sequential([
        new Conv2d(chnIn, half, { kernelSize: 3, stride: 2, padding: 1 }), new BatchNorm2d(half), new ReLU(),
        new Conv2d(half, chnCur, { kernelSize: 3, stride: 2, padding: 1 }), new BatchNorm2d(chnCur),
      ]));
      this.stem1 = this.addModule('stem1', new Sequential([new ReLU(), new Conv2d(chnCur, chnCur, { kernelSize: 3, stride: 2, padding: 1 }), new BatchNorm2d(chnCur)]));
      reductionPrev = true;
    } else {
      this.stem0 = this.addModule('stem0', new Sequential([new Conv2d(chnIn, chnCur, { kernelSize: 3, stride: 1, padding: 1 }), new BatchNorm2d(chnCur)]));
      this.stem1 = undefined;
      reductionPrev = false;
    }
    let chnPP = chnCur;
    let chnP = chnCur;
    chnCur = chn;
    const reductions = reductionCells(layers);
    this.cells = this.addModule('cells', new Sequential());
    for (let i = 0; i < layers; i++) {
      const reduction = reductions.includes(i);
      if (reduction) chnCur *= 2;
      const cell = new DARTSCell({ chnIn: [chnPP, chnP], chn: chnCur, stride: reduction ? 2 : 1, nNodes, reductionPrev, type: reduction ? 'reduce' : 'normal' });
      this.cells.push(cell);
      chnPP = chnP;
      chnP = cell.chnOut;
      reductionPrev = reduction;
    }
    this.avgpool = this.addModule('avgpool', new GlobalAvgPool());
    this.fc = this.addModule('fc', new Linear(chnP, numClasses));
  }

  /** The cells in order. */
  cellList(): DARTSCell[] {
    return this.cells.children().map(([, c]) => c as DARTSCell);
  }

  /** The cells of a type (the original's cell_group). */
  group(type: CellType): DARTSCell[] {
    return this.cellList().filter((c) => c.type === type);
  }

  /** The feature map before pooling. */
  features(x: tf.Tensor): tf.Tensor {
    const s = this.stem0.call(x);
    let s0 = s;
    let s1 = this.stem1 ? this.stem1.call(s) : s;
    for (const cell of this.cellList()) [s0, s1] = [s1, cell.run(s0, s1)];
    return s1;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(this.avgpool.call(this.features(x)));
  }

  /**
   * The genotype: [normal cell's, reduction cell's] (each from the first cell of its type, as the
   * others share its arch params), null for a type the network has no cell of.
   */
  toArchDesc(k = 2): [CellGenotype | null, CellGenotype | null] {
    const first = (t: CellType) => this.group(t)[0]?.toArchDesc(k) ?? null;
    return [first('normal'), first('reduce')];
  }

  /** Build every cell from the genotype of its type ([normal, reduce]). */
  async buildFromArchDesc(desc: unknown, convert: ArchDescConvert): Promise<void> {
    if (!isList(desc) || desc.length !== 2) {
      throw new ModnasError('MODNAS_E_ARCHDESC_ENTRY', `DARTS: expected a genotype [normal cell, reduction cell], got ${JSON.stringify(desc)?.slice(0, 200)}`, {
        fix: 'give the description that DefaultRecursiveExporter wrote for a DARTS search',
      });
    }
    for (const [t, g] of [['normal', desc[0]], ['reduce', desc[1]]] as const) for (const cell of this.group(t)) await cell.buildFromArchDesc(g, convert);
  }

  override describe(): string {
    const cells = this.cellList();
    return `${cells.length} cells (${this.group('reduce').length} reduction), ${this.nNodes} nodes, C=${this.chn}, ${this.numClasses} classes`;
  }
}
