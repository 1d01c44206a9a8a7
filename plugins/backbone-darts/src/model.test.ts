import type { Module, TensorParam } from '@modnas/core';
import { ArchSpace, Registry, Slot, getRegistry, tf } from '@modnas/core';
import { RecursiveArchDescBuilder } from '@modnas/construct-recursive-arch-desc';
import { recursiveDesc } from '@modnas/export-recursive';
import { isMixedOp } from '@modnas/kit-mixed-op';
import weightedSum from '@modnas/mixed-op-weighted-sum';
import basic from '@modnas/primitive-basic';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
// from the original CreeperLin/modnas under PyTorch 1.13: /usr/bin/python3 test/original-numbers.py > test/original-numbers.json
import original from '../test/original-numbers.json' with { type: 'json' };
import { darts, imageNetDarts } from './backbones.js';
import { dartsSearchConstructor } from './constructors.js';
import plugin from './index.js';
import type { CellGenotype, DARTSCell } from './model.js';
import { DARTSNet } from './model.js';

beforeAll(() => {
  for (const p of [basic, weightedSum]) getRegistry().register(p);
});

const search = async (model: Module, space = new ArchSpace()): Promise<{ model: Module; space: ArchSpace }> => {
  const ctx = makeBuildContext({ space });
  const t = await dartsSearchConstructor.create(dartsSearchConstructor.schema.parse({}), ctx, undefined);
  return { model: await t.apply(model, ctx), space };
};

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { DARTS: { chn: 4, layers: 3, n_nodes: 2 }, ImageNet_DARTS: { chn: 4, layers: 3, n_nodes: 2 } },
  step: {
    DARTSSearchConstructor: async (t) => {
      const ctx = makeBuildContext();
      const net = await (t as { apply(m: Module, c: typeof ctx): Promise<Module> }).apply(new DARTSNet({ chn: 2, layers: 3, nNodes: 1 }), ctx);
      net.dispose();
      ctx.space.dispose();
    },
  },
});

/** The original's network for a key of test/original-numbers.json ("DARTS chn=4 layers=3 nodes=2 n_classes=10 chn_in=3"). */
async function fromKey(key: string): Promise<DARTSNet> {
  const [name, ...kv] = key.split(' ');
  const o = Object.fromEntries(kv.map((s) => s.split('=')).map(([k, v]) => [k, Number(v)]));
  const def = name === 'DARTS' ? darts : imageNetDarts;
  return (await def.create(def.schema.parse({ chn: o.chn, layers: o.layers, nodes: o.nodes, n_classes: o.n_classes, chn_in: o.chn_in }), makeBuildContext(), undefined)) as DARTSNet;
}

describe('DARTS: the original DARTSLikeNet', () => {
  it("resolves under the original's names (ImageNet-DARTS too: ids match ignoring _ and -)", async () => {
    const r = new Registry();
    r.register(plugin);
    expect((await r.resolve('backbone', 'ImageNet-DARTS')).id).toBe('ImageNet_DARTS');
    expect((await r.resolve('backbone', 'darts')).id).toBe('DARTS');
  });

  for (const [key, want] of Object.entries(original.counts)) {
    it(`${key}: ${want.backbone} weights, ${want.supernet} as a supernet over the DARTS ops (as the original)`, async () => {
      const net = await fromKey(key);
      expect(net.numParams()).toBe(want.backbone);
      const { model, space } = await search(net);
      expect(model.numParams()).toBe(want.supernet);
      model.dispose();
      space.dispose();
    });
  }

  it('lays out cells as DARTS: reductions at layers/3 and 2*layers/3, channels doubled there, each cell 2+3+... edges, stride 2 only from a reduction cell\'s inputs', () => {
    const net = new DARTSNet({ chn: 4, layers: 5, nNodes: 3 });
    expect(net.cellList().map((c) => [c.type, c.chn, c.numEdges])).toEqual([
      ['normal', 4, 9],
      ['reduce', 8, 9],
      ['normal', 8, 9],
      ['reduce', 16, 9],
      ['normal', 16, 9],
    ]);
    const reduce = net.cellList()[1];
    expect(reduce.nodeEdges(2).map(([j, s]) => [j, s.stride, s.args.name])).toEqual([
      [0, 2, 'reduce_5'],
      [1, 2, 'reduce_6'],
      [2, 1, 'reduce_7'],
      [3, 1, 'reduce_8'],
    ]);
    // after a reduction cell, input 0 is reduced (factorized) to the next cell's resolution
    expect(net.cellList()[2].preproc0.constructor.name).toBe('FactorizedReducePreproc');
    expect(net.cellList()[1].preproc0.constructor.name).toBe('PreprocLayer');
    expect(Slot.find(net)).toHaveLength(45);
    net.dispose();
  });

  it('searches: every edge a WeightedSum, the cells of a type sharing one α per edge, the cell graph declared', async () => {
    const { model, space } = await search(new DARTSNet({ chn: 2, layers: 4, nNodes: 2 }));
    const net = model as DARTSNet;
    // 4 cells (normal, reduce, reduce, normal: 4/3 = 1, 8/3 = 2), 5 edges each, 2 types: 10 params
    expect(space.names().sort()).toEqual(['normal_0', 'normal_1', 'normal_2', 'normal_3', 'normal_4', 'reduce_0', 'reduce_1', 'reduce_2', 'reduce_3', 'reduce_4']);
    const [n0, n1] = net.group('normal');
    const alpha = (c: DARTSCell, i: number, j: number) => {
      const op = c.nodeEdges(i)[j][1].impl;
      if (!isMixedOp(op)) throw new Error('not a mixed op');
      return op.archParam;
    };
    expect(alpha(n0, 1, 2)).toBe(alpha(n1, 1, 2));
    expect(alpha(n0, 1, 2)).not.toBe(alpha(n0, 1, 1));
    const g = space.graph();
    expect(g?.nodes).toEqual(['normal c_{k-2}', 'normal c_{k-1}', 'normal 0', 'normal 1', 'reduce c_{k-2}', 'reduce c_{k-1}', 'reduce 0', 'reduce 1']);
    expect(g?.edges.slice(0, 5)).toEqual([
      { from: 0, to: 2, param: 'normal_0' },
      { from: 1, to: 2, param: 'normal_1' },
      { from: 0, to: 3, param: 'normal_2' },
      { from: 1, to: 3, param: 'normal_3' },
      { from: 2, to: 3, param: 'normal_4' },
    ]);
    const y = net.call(tf.randomNormal([2, 8, 8, 3]));
    expect(y.shape).toEqual([2, 10]);
    y.dispose();
    model.dispose();
    space.dispose();
  });

  it('shared: false gives every edge of every cell its own α', async () => {
    const ctx = makeBuildContext();
    const t = await dartsSearchConstructor.create(dartsSearchConstructor.schema.parse({ shared: false }), ctx, undefined);
    const net = await t.apply(new DARTSNet({ chn: 2, layers: 4, nNodes: 2 }), ctx);
    expect(ctx.space.names()).toHaveLength(20);
    expect(ctx.space.graph()?.nodes).toHaveLength(16);
    net.dispose();
    ctx.space.dispose();
  });
});

/** One-hot-ish α: a large logit on candidate `op` (others 0); DARTS_PRIMITIVES order. */
const OPS = ['MAX', 'AVG', 'IDT', 'SC3', 'SC5', 'DC3', 'DC5', 'NIL'];
const logits = (op: string, v: number): number[] => OPS.map((o) => (o === op ? v : 0));

describe('the genotype: export, then build the fixed network from it', () => {
  it('keeps per node the 2 strongest edges (NIL never), each with its strongest op; the recursive exporter writes it', async () => {
    const { model, space } = await search(new DARTSNet({ chn: 2, layers: 3, nNodes: 3 }));
    // normal cell, node 2 (4 edges: normal_5 .. normal_8): NIL strongest on edge 0 (ignored), SC5 on 3, DC3 on 1
    const set: Record<string, number[]> = {
      normal_0: logits('SC3', 2),
      normal_1: logits('MAX', 1),
      normal_2: logits('AVG', 1),
      normal_3: logits('IDT', 3),
      normal_4: logits('DC5', 4),
      normal_5: logits('NIL', 9),
      normal_6: logits('DC3', 2),
      normal_7: logits('SC3', 1),
      normal_8: logits('SC5', 5),
    };
    for (const [k, v] of Object.entries(set)) (space.get(k) as TensorParam).assign(v);
    for (let e = 0; e < 9; e++) (space.get(`reduce_${e}`) as TensorParam).assign(logits(e % 2 ? 'AVG' : 'SC5', 1 + e));
    const desc = recursiveDesc(model) as [CellGenotype, CellGenotype];
    expect(desc[0]).toEqual([
      [[['SC3'], [0], 2], [['MAX'], [1], 2]],
      [[['IDT'], [1], 3], [['DC5'], [2], 3]],
      [[['DC3'], [1], 4], [['SC5'], [3], 4]],
    ]);
    // reduction cell: edges e have growing logits, so each node keeps its last two
    expect(desc[1]).toEqual([
      [[['SC5'], [0], 2], [['AVG'], [1], 2]],
      [[['AVG'], [1], 3], [['SC5'], [2], 3]],
      [[['AVG'], [2], 4], [['SC5'], [3], 4]],
    ]);
    model.dispose();
    space.dispose();
  });

  it(`builds the original's hand-made genotype to its ${original.fixed['DARTS chn=4 layers=3 nodes=2 n_classes=10 chn_in=3'].fixed} weights, drops the other edges, and exports the genotype again`, async () => {
    for (const [key, want] of Object.entries(original.fixed)) {
      const net = await fromKey(key);
      const ctx = makeBuildContext();
      // the original's IDF is IDT here (primitive-basic registers IDF as its alias)
      const genotype = JSON.parse(JSON.stringify(original.genotype).replaceAll('"IDF"', '"IDT"')) as unknown;
      await new RecursiveArchDescBuilder(ctx, 'buildFromArchDesc').visit(net, genotype);
      expect(net.numParams(), key).toBe(want.fixed);
      expect(Slot.find(net).every(([, s]) => s.filled)).toBe(true);
      expect(net.cellList()[0].numEdges).toBe(4);
      expect(net.toArchDesc()).toEqual(genotype);
      const size = key.startsWith('DARTS') ? 32 : 64;
      const y = net.call(tf.randomNormal([2, size, size, 3]));
      expect(y.shape).toEqual(want.out);
      y.dispose();
      net.dispose();
    }
  });

  it('says what is wrong with a genotype that does not fit', async () => {
    const net = new DARTSNet({ chn: 2, layers: 3, nNodes: 2 });
    const builder = new RecursiveArchDescBuilder(makeBuildContext(), 'buildFromArchDesc');
    await expect(builder.visit(net, [[]])).rejects.toThrow(/expected a genotype \[normal cell, reduction cell\]/);
    await expect(builder.visit(net, [[[[['SC3'], [0], 2]]], null])).rejects.toThrow(/one entry per intermediate node \(2\)/);
    await expect(builder.visit(net, [[[[['SC3'], [5], 2]], [[['SC3'], [0], 3]]], null])).rejects.toThrow(/node 0 has no edge from state 5 \(its sources are 0..1\)/);
    net.dispose();
  });
});
