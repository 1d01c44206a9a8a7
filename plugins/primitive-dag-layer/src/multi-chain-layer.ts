import { ModnasError, Module, Sequential, Slot, defineComponent, tf, z } from '@modnas/core';
import type { Allocator, LayerDefSpec, Merger } from './layer-defs.js';
import { buildAllocator, buildMerger, layerDefSchema } from './layer-defs.js';
import { addPreprocs, buildPreprocs, checkChannels, edgeClsSchema, edgeInput, edgeKwargs, edgeKwargsSchema, fillEdges, inputStates, layerRefs, nameSchema, preprocSchema, preprocSpecs } from './parts.js';

export interface MultiChainLayerOptions {
  /** Channels of each input (a list: several inputs, run with `run([...])`). */
  chnIn: number | readonly number[];
  /** Output channels of the layer, shared among the chains by the allocator's split of the inputs. */
  chnOut: number;
  /** Stride of each chain's first edge (default 1). */
  stride?: number;
  nChain: number;
  /** Edges per chain (one number for all, or one per chain). */
  nChainNodes: number | readonly number[];
  /** Default EvenSplitAllocator. */
  allocator?: LayerDefSpec;
  /** Merges the chains' outputs; its start defaults to the number of inputs (default ConcatMerger). */
  mergerOut?: LayerDefSpec;
  /** One module per input, run on it first; each gives `chnPreproc` channels. */
  preprocs?: readonly Module[];
  chnPreproc?: number;
  /** Extra args of every edge Slot. */
  edgeArgs?: Readonly<Record<string, unknown>>;
  /** Edges are named `<name>_<chain>_<edge>`. */
  name?: string;
  where?: string;
}

/**
 * The original's MultiChainLayer: `nChain` parallel chains of edges (Slots), chain c reading the
 * inputs as the allocator hands them to state nInputs + c, its first edge with the layer's stride
 * and chnOut x (its share of the input channels) output channels, the later edges keeping them;
 * the chains' outputs merged by merger_out.
 */
export class MultiChainLayer extends Module {
  readonly chnIn: readonly number[];
  readonly nInput: number;
  readonly nChain: number;
  readonly nChainNodes: readonly number[];
  readonly stride: number;
  readonly allocator: Allocator;
  readonly mergerOut: Merger;
  readonly chnStates: readonly number[];
  readonly chnOut: number;
  readonly preprocs: Sequential | undefined;
  /** `chains.<chain>.<edge>`. */
  readonly chains: Sequential;

  constructor(o: MultiChainLayerOptions) {
    super();
    const where = o.where ?? 'MultiChainLayer';
    this.chnIn = typeof o.chnIn === 'number' ? [o.chnIn] : [...o.chnIn];
    this.nInput = this.chnIn.length;
    this.nChain = o.nChain;
    this.nChainNodes = typeof o.nChainNodes === 'number' ? Array.from({ length: o.nChain }, () => o.nChainNodes as number) : [...o.nChainNodes];
    if (this.nChainNodes.length !== this.nChain || !this.nChainNodes.every((n) => Number.isInteger(n) && n >= 1)) {
      throw new ModnasError('MODNAS_E_LAYER_ARGS', `MultiChainLayer: n_chain_nodes ${JSON.stringify(o.nChainNodes)} does not give a positive edge count for each of the ${this.nChain} chains`, {
        fix: 'give one positive int, or a list of n_chain of them',
        where: `${where}.n_chain_nodes`,
      });
    }
    this.stride = o.stride ?? 1;
    this.allocator = buildAllocator(o.allocator ?? 'EvenSplitAllocator', this.nInput, this.nChain, `${where}.allocator`);
    this.mergerOut = buildMerger(o.mergerOut ?? 'ConcatMerger', this.nInput, `${where}.merger_out`);
    const pre = addPreprocs(this, o, this.chnIn, 'MultiChainLayer', where);
    this.preprocs = pre.preprocs;
    const chnStates = pre.chnStates;
    this.chains = this.addModule('chains', new Sequential());
    const sidx = this.chnIn.map((_, i) => i);
    for (let c = 0; c < this.nChain; c++) {
      const shares = this.allocator.chnIn(sidx.map((s) => chnStates[s]), sidx, this.nInput + c);
      // the chain's channels: chnOut scaled by its share of each input (against the raw inputs, as the original)
      const chnChain = shares.reduce((acc, e, i) => acc + Math.floor((o.chnOut * e) / this.chnIn[i]), 0);
      let chn = shares.reduce((a, b) => a + b, 0);
      const chain = new Sequential();
      for (let n = 0; n < this.nChainNodes[c]; n++) {
        const args = { ...o.edgeArgs, ...(o.name === undefined ? {} : { name: `${o.name}_${c}_${n}` }) };
        chain.push(new Slot({ ...args, chnIn: chn, chnOut: chnChain, stride: n === 0 ? this.stride : 1 }));
        chn = chnChain;
      }
      this.chains.push(chain);
      chnStates.push(chn);
    }
    this.chnStates = chnStates;
    this.chnOut = this.mergerOut.chnOut(chnStates);
  }

  /** Chain c's edge Slots in order. */
  chainEdges(c: number): Slot[] {
    return (this.chains.at(c) as Sequential).children().map(([, m]) => m as Slot);
  }

  edges(): Slot[] {
    return Array.from({ length: this.nChain }, (_, c) => this.chainEdges(c)).flat();
  }

  run(xs: readonly tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const states = inputStates('MultiChainLayer', this.nInput, this.preprocs, xs);
      const sidx = this.chnIn.map((_, i) => i);
      for (let c = 0; c < this.nChain; c++) {
        const inputs = this.allocator.alloc(sidx.map((s) => states[s]), sidx, this.nInput + c);
        states.push(this.chains.at(c).call(edgeInput(inputs)));
      }
      return this.mergerOut.merge(states);
    });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.run([x]);
  }

  override describe(): string {
    return `chnIn=${this.chnIn.join('+')}, chnOut=${this.chnOut}, ${this.nChain} chains of ${this.nChainNodes.join('/')} edges${this.stride > 1 ? `, stride ${this.stride}` : ''}`;
  }
}

export const multiChainLayerSchema = z.strictObject({
  n_chain: z.number().int().min(1).default(2).describe('Parallel chains'),
  n_chain_nodes: z.union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1)]).default(1).describe('Edges per chain: one number for all, or one per chain'),
  allocator: layerDefSchema('allocator', 'EvenSplitAllocator', 'How each chain gets its input: EvenSplitAllocator (an even share of the channels) or ReplicateAllocator (all of them); a name or { type, args }'),
  merger_out: layerDefSchema('merger', 'ConcatMerger', "Merges the chains' outputs: ConcatMerger, SumMerger, AvgMerger or LastMerger; a name or { type, args: { start } }"),
  preproc: preprocSchema,
  edge_cls: edgeClsSchema,
  edge_kwargs: edgeKwargsSchema,
  name: nameSchema,
});

export type MultiChainLayerConfig = z.output<typeof multiChainLayerSchema>;

export const multiChainLayer = defineComponent({
  kind: 'primitive',
  id: 'MultiChainLayer',
  description: 'Parallel chains of edges (Slots), each on its share of the input, merged (the original MultiChainLayer)',
  schema: multiChainLayerSchema,
  refs: layerRefs,
  async create(c, ctx, slot) {
    const where = ctx.where || 'MultiChainLayer';
    // the original reads the preproc channels from edge_kwargs.chn_in
    const kw = edgeKwargs('MultiChainLayer', c.edge_kwargs, where, ['chn_in']);
    const specs = preprocSpecs('MultiChainLayer', c.preproc, 1, where);
    const chnCur = kw.chnCur ?? slot.chnIn;
    const preprocs = specs ? await buildPreprocs(specs, [slot.chnIn], chnCur, ctx) : undefined;
    let layer: MultiChainLayer;
    try {
      layer = new MultiChainLayer({
        chnIn: slot.chnIn,
        chnOut: slot.chnOut,
        stride: slot.stride,
        nChain: c.n_chain,
        nChainNodes: c.n_chain_nodes,
        allocator: c.allocator,
        mergerOut: c.merger_out,
        preprocs,
        chnPreproc: preprocs ? chnCur : undefined,
        edgeArgs: kw.args,
        name: c.name ?? undefined,
        where,
      });
    } catch (e) {
      for (const m of preprocs ?? []) m.dispose();
      throw e;
    }
    try {
      checkChannels('MultiChainLayer', layer.chnOut, slot, where, 'with ConcatMerger and EvenSplitAllocator choose n_chain so that the chains\' shares of chnOut add up (chnIn divisible by n_chain); with ReplicateAllocator merge with SumMerger, AvgMerger or LastMerger');
      await fillEdges(layer.edges(), c.edge_cls, ctx);
    } catch (e) {
      layer.dispose();
      throw e;
    }
    return layer;
  },
});
