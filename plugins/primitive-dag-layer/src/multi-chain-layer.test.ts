import { getRegistry, isModnasError, tf } from '@modnas/core';
import basic from '@modnas/primitive-basic';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
// from the original CreeperLin/modnas under PyTorch 1.13: /usr/bin/python3 test/original-numbers.py > test/original-numbers.json
import original from '../test/original-numbers.json' with { type: 'json' };
import type { MultiChainLayer } from './multi-chain-layer.js';
import { multiChainLayer } from './multi-chain-layer.js';

beforeAll(() => {
  getRegistry().register(basic);
});

const build = async (config: Record<string, unknown>, slot: { chnIn: number; chnOut: number; stride: number }): Promise<MultiChainLayer> =>
  (await multiChainLayer.create(multiChainLayer.schema.parse(config), makeBuildContext(), slot)) as MultiChainLayer;

describe('MultiChainLayer', () => {
  it("Slot 8->12 stride 2, chains of 1, 2 and 1 NC3 edges on an even split: the original's channels, weights and output", async () => {
    const want = original.layers['multichain 8->12 stride=2 chains=1,2,1 NC3'];
    const layer = await build({ n_chain: 3, n_chain_nodes: [1, 2, 1], allocator: 'EvenSplitAllocator', merger_out: 'ConcatMerger', edge_cls: 'NC3' }, { chnIn: 8, chnOut: 12, stride: 2 });
    expect([0, 1, 2].map((c) => layer.chainEdges(c).map((s) => [s.chnIn, s.chnOut]))).toEqual(want.edges);
    expect([0, 1, 2].map((c) => layer.chainEdges(c).map((s) => s.stride))).toEqual([[2], [2, 1], [2]]);
    expect(layer.chnStates).toEqual(want.chn_states);
    expect(layer.chnOut).toBe(want.chn_out);
    expect(layer.numParams()).toBe(want.params);
    const y = layer.call(tf.randomNormal([2, 8, 8, 8]));
    expect(y.shape).toEqual([want.out[0], want.out[2], want.out[3], want.out[1]]);
    tf.dispose(y);
    layer.dispose();
  });

  it('each chain reads its own slice of the input: identity chains concatenated give the input back', async () => {
    const layer = await build({ n_chain: 2, edge_cls: 'IDT' }, { chnIn: 4, chnOut: 4, stride: 1 });
    const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]);
    const y = layer.call(x);
    expect([...y.dataSync()]).toEqual([1, 2, 3, 4]);
    const summed = await build({ n_chain: 3, allocator: 'ReplicateAllocator', merger_out: 'SumMerger', edge_cls: 'IDT' }, { chnIn: 4, chnOut: 4, stride: 1 });
    const z = summed.call(x);
    expect([...z.dataSync()]).toEqual([3, 6, 9, 12]);
    tf.dispose([x, y, z]);
    layer.dispose();
    summed.dispose();
  });

  it('chains whose channels do not add up to the Slot, or n_chain_nodes of the wrong length: coded errors', async () => {
    const before = tf.memory().numTensors;
    const err = await build({ n_chain: 2, allocator: 'ReplicateAllocator', edge_cls: 'NC1' }, { chnIn: 4, chnOut: 8, stride: 1 }).catch((e: unknown) => e);
    expect(isModnasError(err) && err.code).toBe('MODNAS_E_LAYER_CHANNELS');
    expect(tf.memory().numTensors).toBe(before);
    const err2 = await build({ n_chain: 3, n_chain_nodes: [1, 2] }, { chnIn: 6, chnOut: 6, stride: 1 }).catch((e: unknown) => e);
    expect(isModnasError(err2) && err2.code).toBe('MODNAS_E_LAYER_ARGS');
  });
});
