import type { Module } from '@modnas/core';
import { ArchSpace, Slot, getRegistry, isModnasError, tf } from '@modnas/core';
import { buildMixedOp, isMixedOp } from '@modnas/kit-mixed-op';
import indexOp from '@modnas/mixed-op-index';
import weightedSum from '@modnas/mixed-op-weighted-sum';
import basic from '@modnas/primitive-basic';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
// from the original CreeperLin/modnas under PyTorch 1.13: /usr/bin/python3 test/original-numbers.py > test/original-numbers.json
import original from '../test/original-numbers.json' with { type: 'json' };
import { DAGLayer, dagLayer } from './dag-layer.js';

beforeAll(() => {
  for (const p of [basic, weightedSum, indexOp]) getRegistry().register(p);
});

const DARTS_OPS = ['MAX', 'AVG', 'IDT', 'SC3', 'SC5', 'DC3', 'DC5', 'NIL'];
const layers = original.layers as unknown as Record<string, { params?: number; supernet?: number; preproc_only?: number; edges?: number; chn_states: number[]; chn_out: number; out: number[]; edge_chn_in?: number[] }>;
/** NCHW (the original) to NHWC (here). */
const nhwc = (s: number[]): number[] => [s[0], s[2], s[3], s[1]];

/**
 * What DefaultMixedOpConstructor does: every empty Slot, nested ones too, gets a mixed op; with
 * `shared`, as DARTSSearchConstructor, the Slots of one name share one α (the mixed op's param).
 */
async function fillSlots(m: Module, mixedOp: string, prims: string[], ctx: ReturnType<typeof makeBuildContext>, shared = false): Promise<void> {
  for (const [, s] of Slot.find(m, { nested: true }).filter(([, s]) => !s.filled)) {
    const spec = shared && typeof s.args.name === 'string' ? { type: mixedOp, param: s.args.name } : mixedOp;
    s.fill(await buildMixedOp(s, spec, prims, ctx));
  }
}

const build = async (config: Record<string, unknown>, slot: { chnIn: number; chnOut: number; stride: number }, ctx = makeBuildContext()): Promise<DAGLayer> =>
  (await dagLayer.create(dagLayer.schema.parse(config), ctx, slot)) as DAGLayer;

describe('DAGLayer as a DARTS cell (two preprocessed inputs, ReplicateAllocator, SumMerger, ConcatMerger, CombinationEnumerator)', () => {
  for (const [cpp, cp, chn, nodes, stride] of [
    [12, 8, 4, 3, 1],
    [6, 6, 2, 2, 2],
  ]) {
    const key = `darts cpp=${cpp} cp=${cp} chn=${chn} nodes=${nodes} stride=${stride}`;
    it(`${key}: the original's weight count, with its preprocs and as a supernet over the DARTS ops`, async () => {
      const want = layers[key];
      const ctx = makeBuildContext();
      const preprocs = [await ctx.build('primitive', 'NC1', { chnIn: cpp, chnOut: chn, stride: 1 }), await ctx.build('primitive', 'NC1', { chnIn: cp, chnOut: chn, stride: 1 })];
      const cell = new DAGLayer({ chnIn: [cpp, cp], stride, nNodes: nodes, allocator: 'ReplicateAllocator', mergerState: 'SumMerger', mergerOut: 'ConcatMerger', enumerator: 'CombinationEnumerator', preprocs, chnPreproc: chn, name: 'normal' });
      expect(cell.numParams()).toBe(want.preproc_only);
      expect(cell.numEdges).toBe(want.edges);
      expect(cell.chnStates).toEqual(want.chn_states);
      expect(cell.chnOut).toBe(want.chn_out);
      // edges from the inputs carry the stride; the later ones not
      expect(cell.nodeEdges(1).map((s) => [s.stride, s.args.name])).toEqual([[stride, 'normal_2'], [stride, 'normal_3'], [1, 'normal_4']]);
      await fillSlots(cell, 'WeightedSum', DARTS_OPS, ctx);
      expect(cell.numParams()).toBe(want.supernet);
      const y = tf.tidy(() => cell.run([tf.randomNormal([2, 8, 8, cpp]), tf.randomNormal([2, 8, 8, cp])]));
      expect(y.shape).toEqual(nhwc(want.out));
      tf.dispose(y);
      cell.dispose();
      ctx.space.dispose();
    });
  }
});

describe('DAGLayer built for a Slot spec', () => {
  it("EvenSplitAllocator + AvgMerger, every edge SC3, Slot 6->6 stride 2: the original's channels, weights and output", async () => {
    const want = layers['evensplit chn=6 stride=2 nodes=3 SC3'];
    const layer = await build({ n_nodes: 3, allocator: 'EvenSplitAllocator', merger_state: 'SumMerger', merger_out: 'AvgMerger', edge_cls: 'SC3' }, { chnIn: 6, chnOut: 6, stride: 2 });
    expect(layer.edges().map((s) => s.chnIn)).toEqual(want.edge_chn_in);
    expect(layer.chnStates).toEqual(want.chn_states);
    expect(layer.numParams()).toBe(want.params);
    const y = layer.call(tf.randomNormal([2, 8, 8, 6]));
    expect(y.shape).toEqual(nhwc(want.out));
    tf.dispose(y);
    layer.dispose();
  });

  for (const enumerator of ['LastNEnumerator', 'TreeEnumerator', 'FirstNEnumerator']) {
    it(`${enumerator} + LastMerger, every edge NC3, Slot 4->8: the original's edges and weights`, async () => {
      const want = layers[`${enumerator} chn_in=4 chn_out=8 nodes=3 NC3`];
      const layer = await build({ n_nodes: 3, enumerator, merger_out: 'LastMerger', edge_cls: 'NC3' }, { chnIn: 4, chnOut: 8, stride: 1 });
      expect(layer.edges().map((s) => s.chnIn)).toEqual(want.edge_chn_in);
      expect(layer.chnStates).toEqual(want.chn_states);
      expect(layer.numParams()).toBe(want.params);
      const y = layer.call(tf.randomNormal([2, 8, 8, 4]));
      expect(y.shape).toEqual(nhwc(want.out));
      tf.dispose(y);
      layer.dispose();
    });
  }

  it('by default: 4 nodes summing an edge from every earlier state (2+3+4+... = 10 Slots, empty), the output their sum at the Slot\'s stride and chnOut', async () => {
    const ctx = makeBuildContext();
    const layer = await build({}, { chnIn: 3, chnOut: 5, stride: 2 }, ctx);
    expect(layer.sources).toEqual([[[0]], [[0], [1]], [[0], [1], [2]], [[0], [1], [2], [3]]]);
    expect(layer.edges().every((s) => s instanceof Slot && !s.filled)).toBe(true);
    expect(layer.edges().map((s) => [s.chnIn, s.chnOut, s.stride])).toEqual([[3, 5, 2], [3, 5, 2], [5, 5, 1], [3, 5, 2], [5, 5, 1], [5, 5, 1], [3, 5, 2], [5, 5, 1], [5, 5, 1], [5, 5, 1]]);
    expect(() => layer.call(tf.zeros([1, 4, 4, 3]))).toThrow(/Slot/);
    await fillSlots(layer, 'WeightedSum', ['SS3', 'NC1'], ctx);
    const y = layer.call(tf.randomNormal([2, 8, 8, 3]));
    expect(y.shape).toEqual([2, 4, 4, 5]);
    tf.dispose(y);
    layer.dispose();
    ctx.space.dispose();
  });

  it('sums its states as merger_out says: with identity edges on x, nodes are x, 2x, 4x (SumMerger of the edges) and the output their sum 7x', async () => {
    const layer = await build({ n_nodes: 3, edge_cls: 'IDT' }, { chnIn: 2, chnOut: 2, stride: 1 });
    const x = tf.tensor4d([1, -2], [1, 1, 1, 2]);
    const y = layer.call(x);
    expect([...y.dataSync()]).toEqual([7, -14]);
    const lastOnly = await build({ n_nodes: 3, edge_cls: 'IDT', merger_out: 'LastMerger' }, { chnIn: 2, chnOut: 2, stride: 1 });
    const z = lastOnly.call(x);
    expect([...z.dataSync()]).toEqual([4, -8]);
    tf.dispose([x, y, z]);
    layer.dispose();
    lastOnly.dispose();
  });

  it('preproc maps the input to edge_kwargs._chn_in channels first; its weights count', async () => {
    const layer = await build({ n_nodes: 2, preproc: 'NC1', edge_kwargs: { _chn_in: [3] }, edge_cls: 'IDT' }, { chnIn: 6, chnOut: 3, stride: 1 });
    // NC1 6->3: BN(6) affine 12 + 1x1 conv 18, no bias
    expect(layer.numParams()).toBe(30);
    expect(layer.chnStates).toEqual([3, 3, 3]);
    const y = layer.call(tf.randomNormal([2, 4, 4, 6]));
    expect(y.shape).toEqual([2, 4, 4, 3]);
    tf.dispose(y);
    layer.dispose();
  });

  it('ConcatMerger fits a Slot when edge_kwargs._chn_out shares its chnOut; otherwise a coded channel error', async () => {
    const layer = await build({ n_nodes: 2, merger_out: 'ConcatMerger', edge_cls: 'NC1', edge_kwargs: { _chn_out: 4 } }, { chnIn: 3, chnOut: 8, stride: 1 });
    expect(layer.chnStates).toEqual([3, 4, 4]);
    const y = layer.call(tf.randomNormal([1, 4, 4, 3]));
    expect(y.shape).toEqual([1, 4, 4, 8]);
    tf.dispose(y);
    layer.dispose();
    const before = tf.memory().numTensors;
    const err = await build({ n_nodes: 2, merger_out: 'ConcatMerger', edge_cls: 'NC1' }, { chnIn: 3, chnOut: 8, stride: 1 }).catch((e: unknown) => e);
    expect(isModnasError(err) && err.code).toBe('MODNAS_E_LAYER_CHANNELS');
    expect((err as Error).message).toMatch(/16 channels, not 8/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an edge that reads several states (edge_kwargs._chn_in a list) reads them concatenated', async () => {
    const layer = await build({ n_nodes: 2, enumerator: 'LastNEnumerator', edge_kwargs: { _chn_in: [2, 2] }, merger_out: 'LastMerger', edge_cls: 'NC1' }, { chnIn: 2, chnOut: 2, stride: 1 });
    // node 0 has one state before it: LastN(2) gives [0, -1], and -1 is the last state, as in Python
    expect(layer.edgeInputs).toBe(2);
    expect(layer.sources).toEqual([[[0, 0]], [[1, 0]]]);
    expect(layer.edges().map((s) => s.chnIn)).toEqual([4, 4]);
    const y = layer.call(tf.randomNormal([1, 3, 3, 2]));
    expect(y.shape).toEqual([1, 3, 3, 2]);
    y.dispose();
    layer.dispose();
    const err = await build({ n_nodes: 2, edge_kwargs: { _chn_in: [2, 2, 2] } }, { chnIn: 2, chnOut: 2, stride: 1 }).catch((e: unknown) => e);
    expect(isModnasError(err) && err.code).toBe('MODNAS_E_LAYER_ARGS');
  });
});

describe('a search over its edges', () => {
  it('a mixed-op constructor fills every edge; α of every edge gets a gradient; edges named alike share one α across layers', async () => {
    const space = new ArchSpace();
    const ctx = makeBuildContext({ space });
    const a = await build({ n_nodes: 2, name: 'cell' }, { chnIn: 3, chnOut: 3, stride: 1 }, ctx);
    const b = await build({ n_nodes: 2, name: 'cell' }, { chnIn: 3, chnOut: 3, stride: 1 }, ctx);
    await fillSlots(a, 'WeightedSum', ['SC3', 'IDT', 'NIL'], ctx, true);
    await fillSlots(b, 'WeightedSum', ['SC3', 'IDT', 'NIL'], ctx, true);
    expect(space.names().sort()).toEqual(['cell_0', 'cell_1', 'cell_2']);
    expect(a.edges().every((s) => isMixedOp(s.impl))).toBe(true);
    const alphas = space.tensors().map((t) => t.variable);
    const x = tf.randomNormal([2, 6, 6, 3]);
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(b.call(a.call(x)))), alphas);
    expect(Object.keys(grads)).toHaveLength(3);
    for (const g of Object.values(grads)) expect(tf.sum(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, ...Object.values(grads)]);
    a.dispose();
    b.dispose();
    space.dispose();
  });

  it('with Index mixed ops, the chosen candidate of an edge decides the output', async () => {
    const ctx = makeBuildContext();
    const layer = await build({ n_nodes: 1 }, { chnIn: 2, chnOut: 2, stride: 1 }, ctx);
    await fillSlots(layer, 'Index', ['IDT', 'NIL'], ctx);
    const [p] = ctx.space.discrete();
    expect(ctx.space.discrete()).toHaveLength(1);
    const x = tf.ones([1, 2, 2, 2]);
    p.value = 'IDT';
    const y1 = layer.call(x);
    p.value = 'NIL';
    const y0 = layer.call(x);
    expect(tf.sum(y1).dataSync()[0]).toBe(8);
    expect(tf.sum(y0).dataSync()[0]).toBe(0);
    tf.dispose([x, y0, y1]);
    layer.dispose();
    ctx.space.dispose();
  });

  it('a training step changes every weight that reaches the output, and lowers the loss', async () => {
    const layer = await build({ n_nodes: 2, edge_cls: 'NC3', merger_out: 'AvgMerger' }, { chnIn: 3, chnOut: 4, stride: 1 });
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 1);
    const target = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 2);
    const vars = layer.parameters();
    const before = vars.map((v) => v.clone());
    const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(layer.call(x), target)));
    const opt = tf.train.sgd(0.1);
    const l0 = tf.tidy(() => loss().dataSync()[0]);
    opt.minimize(loss);
    const l1 = tf.tidy(() => loss().dataSync()[0]);
    expect(l1).toBeLessThan(l0);
    const moved = vars.map((v, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(v, before[i]))).dataSync()[0]));
    expect(moved.every((d) => d > 0)).toBe(true);
    tf.dispose([x, target, ...before]);
    opt.dispose();
    layer.dispose();
  });
});

describe('its description: export the strongest edges, then build the fixed layer from them', () => {
  it('keeps per node the k strongest edges (NIL never), each with its strongest op; the fixed layer runs only those', async () => {
    const ctx = makeBuildContext();
    const layer = await build({ n_nodes: 2 }, { chnIn: 2, chnOut: 2, stride: 1 }, ctx);
    await fillSlots(layer, 'WeightedSum', ['NC1', 'IDT', 'NIL'], ctx);
    // edges: node 0 from [0]; node 1 from [0], [1]; α favours NIL on node 1's first edge (never kept), IDT on its second
    const alphas = ctx.space.tensors();
    alphas[0].assign([2, 0, 0]);
    alphas[1].assign([0, 0.5, 3]);
    alphas[2].assign([0, 1, 0]);
    const desc = layer.toArchDesc(1);
    expect(desc).toEqual([[[['NC1'], [0], 1]], [[['IDT'], [1], 2]]]);
    // k = 2: node 1 keeps both, listed in the enumerator's order; node 1 edge 0's best non-NIL op is IDT
    expect(layer.toArchDesc(2)[1]).toEqual([[['IDT'], [0], 2], [['IDT'], [1], 2]]);

    const fresh = await build({ n_nodes: 2 }, { chnIn: 2, chnOut: 2, stride: 1 });
    await fresh.buildFromArchDesc(desc, async (slot, d) => {
      const m = await ctx.build('primitive', (d as string[])[0], { chnIn: slot.chnIn, chnOut: slot.chnOut, stride: slot.stride });
      slot.fill(m);
      return m;
    });
    expect(fresh.numEdges).toBe(2);
    expect(fresh.sources).toEqual([[[0]], [[1]]]);
    expect(fresh.toArchDesc()).toEqual(desc);
    // NC1 2->2: BN 4 + conv 4
    expect(fresh.numParams()).toBe(8);
    expect(Slot.find(fresh, { nested: true })).toHaveLength(2);
    // output = node0 + node1 = 2 * NC1(x), node 1 being IDT of node 0
    const x = tf.randomNormal([1, 3, 3, 2]);
    fresh.eval();
    const y = fresh.call(x);
    const n0 = fresh.nodeEdges(0)[0].call(x);
    expect(tf.max(tf.abs(tf.sub(y, tf.mul(n0, 2)))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, y, n0]);
    await expect(fresh.buildFromArchDesc([[[['IDT'], [5], 1]]], async () => undefined)).rejects.toThrow(/one entry per node/);
    fresh.dispose();
    layer.dispose();
    ctx.space.dispose();
  });
});
