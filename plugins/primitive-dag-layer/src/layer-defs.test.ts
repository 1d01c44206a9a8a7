import { readFileSync } from 'node:fs';
import { isModnasError, tf } from '@modnas/core';
import { describe, expect, it } from 'vitest';
// from the original CreeperLin/modnas under PyTorch 1.13: /usr/bin/python3 test/original-numbers.py > test/original-numbers.json
import original from '../test/original-numbers.json' with { type: 'json' };
import { dagLayerSchema } from './dag-layer.js';
import type { Enumerator } from './layer-defs.js';
import {
  CombinationEnumerator,
  EvenSplitAllocator,
  FirstNEnumerator,
  LAYER_DEFS,
  LastNEnumerator,
  ReplicateAllocator,
  ReverseEnumerator,
  TreeEnumerator,
  buildAllocator,
  buildEnumerator,
  buildMerger,
  layerDefName,
  layerDefNames,
} from './layer-defs.js';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isModnasError(e) ? e.code : `not coded: ${String(e)}`;
  }
  return undefined;
};

describe('enumerators: the predecessor lists of each edge, as the original gives them for (n_states, n_inputs)', () => {
  const cases: Array<[string, Enumerator]> = [
    ['CombinationEnumerator', new CombinationEnumerator()],
    ['FirstNEnumerator', new FirstNEnumerator()],
    ['LastNEnumerator', new LastNEnumerator()],
    ['ReverseEnumerator', new ReverseEnumerator()],
    ['TreeEnumerator', new TreeEnumerator()],
    ['TreeEnumerator width=3', new TreeEnumerator(3)],
  ];
  const enums = original.enumerators as Record<string, Record<string, number[][] | number>>;
  for (const [name, e] of cases) {
    it(name, () => {
      for (const [key, want] of Object.entries(enums[name])) {
        const [n, k] = key.split(',').map(Number);
        expect(e.enumerate(n, k), `${name} ${key}`).toEqual(want);
        expect(e.lenEnum(n, k), `${name} ${key} len`).toBe(enums[`${name} len`][key]);
      }
    });
  }

  it('spot checks (the same data, spelled out): pairs of 4 states, the last 2, a binary tree', () => {
    expect(new CombinationEnumerator().enumerate(4, 2)).toEqual([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
    expect(new LastNEnumerator().enumerate(4, 2)).toEqual([[3, 2]]);
    expect(new TreeEnumerator().enumerate(5, 2)).toEqual([[2, 2]]);
    expect(new ReverseEnumerator().enumerate(3, 1)).toEqual([[2, 1, 0]]);
  });
});

describe('allocators: the channels (and slice) each edge gets of a state', () => {
  for (const [key, rows] of Object.entries(original.even_split)) {
    it(`EvenSplitAllocator ${key}`, () => {
      const [nIn, nNodes, chn] = key.match(/\d+/g)!.map(Number);
      const a = new EvenSplitAllocator(nIn, nNodes);
      for (const [si, cur, c, begin, end] of rows) {
        expect(a.chnIn([chn], [si], cur), `state ${si} -> ${cur}`).toEqual([c]);
        // the slice it cuts: channels [begin, end) of the state (NHWC: axis 3)
        const x = tf.range(0, chn).reshape([1, 1, 1, chn]);
        const [y] = a.alloc([x], [si], cur);
        expect([...y.dataSync()]).toEqual(Array.from({ length: end - begin }, (_, i) => begin + i));
        tf.dispose([x, y]);
      }
    });
  }

  it('ReplicateAllocator hands every edge its states whole', () => {
    const a = new ReplicateAllocator(2, 3);
    expect(a.chnIn([5, 7], [0, 1], 2)).toEqual([5, 7]);
    const xs = [tf.ones([1, 2, 2, 5]), tf.zeros([1, 2, 2, 7])];
    expect(a.alloc(xs, [0, 1], 2)).toEqual(xs);
    tf.dispose(xs);
  });

  it('alloc before chnIn is a coded error', () => {
    const x = tf.ones([1, 1, 1, 4]);
    expect(codeOf(() => new EvenSplitAllocator(1, 2).alloc([x], [0], 1))).toBe('MODNAS_E_LAYER_DEF_STATE');
    x.dispose();
  });
});

describe('mergers on three 1x1 states [1,2], [10,20], [100,200], as the original merges them', () => {
  for (const [key, want] of Object.entries(original.mergers)) {
    it(key, () => {
      const [name, startEq] = key.split(' ');
      const m = buildMerger(name, Number(startEq.split('=')[1]));
      const states = [[1, 2], [10, 20], [100, 200]].map((v) => tf.tensor4d(v, [1, 1, 1, 2]));
      const y = m.merge(states);
      const got = [...y.dataSync()];
      want.out.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
      expect(got).toHaveLength(want.out.length);
      expect(m.chnOut([2, 3, 4])).toBe(want.chn_out);
      expect(m.mergeRange(3)).toEqual(want.range);
      tf.dispose([...states, y]);
    });
  }
});

describe('names: the original layer_def names, matched loosely; a bad one is a coded error listing the valid ones', () => {
  it("LAYER_DEFS is the original's registry layer_def, every name", () => {
    const names = JSON.parse(readFileSync(new URL('../../../scripts/original-names/names.json', import.meta.url), 'utf8')) as { names: Array<{ path: string; id: string }> };
    const theirs = names.names.filter((n) => n.path === 'layer_def').map((n) => n.id);
    expect([...LAYER_DEFS].sort()).toEqual([...theirs].sort());
    expect(layerDefNames('merger')).toEqual(['ConcatMerger', 'AvgMerger', 'SumMerger', 'LastMerger']);
  });

  it("ignores case, '_' and '-'; takes { type, args } and { type, ...args }", () => {
    expect(layerDefName('merger', 'sum_merger')).toBe('SumMerger');
    expect(layerDefName('enumerator', 'COMBINATION-enumerator')).toBe('CombinationEnumerator');
    expect(buildEnumerator({ type: 'TreeEnumerator', args: { width: 3 } }).enumerate(5, 2)).toEqual([[1, 1]]);
    expect(buildEnumerator({ type: 'tree_enumerator', width: 4 }).enumerate(5, 1)).toEqual([[1]]);
    // a spec's own start wins over the layer's
    expect(buildMerger({ type: 'ConcatMerger', args: { start: 2 } }, 1).chnOut([1, 2, 3])).toBe(3);
    expect(buildMerger('ConcatMerger', 1).chnOut([1, 2, 3])).toBe(5);
    expect(buildAllocator('even-split-allocator', 1, 3)).toBeInstanceOf(EvenSplitAllocator);
  });

  it('an unknown name, a name of another role, or bad args: coded errors that list what is valid', () => {
    let err: unknown;
    try {
      buildMerger('MaxMerger');
    } catch (e) {
      err = e;
    }
    expect(isModnasError(err) && err.code).toBe('MODNAS_E_LAYER_DEF_UNKNOWN');
    expect((err as Error).message).toMatch(/MaxMerger.*ConcatMerger, AvgMerger, SumMerger, LastMerger/);
    expect(codeOf(() => buildEnumerator('SumMerger'))).toBe('MODNAS_E_LAYER_DEF_UNKNOWN');
    expect(codeOf(() => buildAllocator('CombinationEnumerator', 1, 2))).toBe('MODNAS_E_LAYER_DEF_UNKNOWN');
    expect(codeOf(() => buildMerger({ type: 'SumMerger', args: { width: 2 } }))).toBe('MODNAS_E_LAYER_DEF_ARGS');
    expect(codeOf(() => buildEnumerator({ type: 'TreeEnumerator', width: 0 }))).toBe('MODNAS_E_LAYER_DEF_ARGS');
  });

  it("DAGLayer's schema checks them up front, naming the valid ones", () => {
    expect(dagLayerSchema.safeParse({ merger_state: 'avg_merger', allocator: 'EvenSplitAllocator', enumerator: { type: 'TreeEnumerator', args: { width: 2 } } }).success).toBe(true);
    const bad = dagLayerSchema.safeParse({ enumerator: 'LastMerger' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(['enumerator']);
    expect(bad.error?.issues[0].message).toMatch(/CombinationEnumerator, FirstNEnumerator, LastNEnumerator, ReverseEnumerator, TreeEnumerator/);
  });
});
