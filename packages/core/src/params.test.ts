import { describe, expect, it } from 'vitest';
import { ModnasError } from './errors.js';
import type { CategoricalParam } from './params.js';
import { ArchSpace } from './params.js';
import { Rng } from './rng.js';

describe('ArchSpace', () => {
  it('names params in creation order with a prefix, or as given', () => {
    const s = new ArchSpace();
    const a = s.categorical({ choices: ['x', 'y'] }, 'op');
    const b = s.categorical({ choices: [1, 2, 3] }, 'op');
    const c = s.categorical({ name: 'kernel', choices: [3, 5] });
    expect([a.name, b.name, c.name]).toEqual(['op_0', 'op_1', 'kernel']);
    expect(() => s.categorical({ name: 'kernel', choices: [1] })).toThrow(ModnasError);
  });

  it('counts the discrete space exactly, beyond 2^53', () => {
    const s = new ArchSpace();
    for (let i = 0; i < 21; i++) s.categorical({ choices: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] });
    expect(s.size()).toBe(7n ** 21n);
    expect(s.size() > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('maps every index to a distinct assignment and back (mixed radix)', () => {
    const s = new ArchSpace();
    s.categorical({ choices: ['a', 'b'] });
    s.categorical({ choices: [1, 2, 3] });
    s.categorical({ choices: ['p', 'q', 'r', 's'] });
    expect(s.size()).toBe(24n);
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const a = s.fromIndex(i);
      seen.add(JSON.stringify(a));
      expect(s.toIndex(a)).toBe(BigInt(i));
    }
    expect(seen.size).toBe(24);
    // the first param is the least significant digit
    expect(s.fromIndex(1)).toEqual({ categorical_0: 'b', categorical_1: 1, categorical_2: 'p' });
    expect(() => s.fromIndex(24)).toThrow(/outside the space/);
  });

  it('round-trips indices of a huge space', () => {
    const s = new ArchSpace();
    for (let i = 0; i < 30; i++) s.categorical({ choices: [0, 1, 2, 3, 4, 5] });
    const idx = 6n ** 30n - 12345n;
    expect(s.toIndex(s.fromIndex(idx))).toBe(idx);
  });

  it('applies assignments and tells listeners', () => {
    const s = new ArchSpace();
    const p = s.categorical({ choices: ['a', 'b', 'c'] });
    const seen: string[] = [];
    s.onChange((q) => seen.push(`${q.name}=${(q as CategoricalParam).value}`));
    s.apply({ [p.name]: 'c' });
    s.apply({ [p.name]: 'c' }); // no change, no event
    expect(p.value).toBe('c');
    expect(seen).toEqual(['categorical_0=c']);
    expect(() => s.apply({ [p.name]: 'z' })).toThrow(/has no value "z"/);
    expect(() => s.apply({ nope: 'a' })).toThrow(/no arch param named "nope"/);
  });

  it('draws random assignments deterministically for a seed', () => {
    const s = new ArchSpace();
    for (let i = 0; i < 5; i++) s.categorical({ choices: [0, 1, 2, 3] });
    expect(s.random(new Rng(7))).toEqual(s.random(new Rng(7)));
    expect(s.random(new Rng(7))).not.toEqual(s.random(new Rng(8)));
  });

  it('keeps tensor params out of the discrete space and frees them', async () => {
    const { tf } = await import('./tf.js');
    const before = tf.memory().numTensors;
    const s = new ArchSpace();
    const t = s.tensor({ shape: [4], init: [0, 3, 1, 2] });
    s.categorical({ choices: ['a', 'b'] });
    expect(s.size()).toBe(2n);
    expect(t.argmax()).toBe(1);
    expect(s.tensors()).toHaveLength(1);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('counts a tensor param as the categorical choices it stands for in archSize (a softmax over k = k choices)', () => {
    const q = new ArchSpace();
    for (let i = 0; i < 6; i++) q.tensor({ shape: [5] });
    expect(q.size()).toBe(1n); // grid search still walks the discrete params only
    expect(q.archSize()).toBe(15625n);
    const darts = new ArchSpace();
    for (let i = 0; i < 22; i++) darts.tensor({ shape: [6] });
    expect(darts.archSize()).toBe(6n ** 22n);
    // one choice per row of a [n, k] tensor; mixed with discrete params
    const mixed = new ArchSpace();
    expect(mixed.tensor({ shape: [2, 4] }).choices).toBe(16n);
    mixed.categorical({ choices: ['a', 'b', 'c', 'd', 'e'] });
    mixed.numeric({ low: 0, high: 1 });
    expect(mixed.archSize()).toBe(80n);
    for (const s of [q, darts, mixed]) s.dispose();
  });
});

describe('ArchSpace.networkKey', () => {
  it('is the mixed-radix index unless the space declares which assignments are the same network', () => {
    const s = new ArchSpace();
    s.categorical({ name: 'op', choices: ['none', 'conv'] });
    s.categorical({ name: 'k', choices: [3, 5] });
    expect([0, 1, 2, 3].map((i) => s.networkKey(s.fromIndex(i)))).toEqual(['0', '1', '2', '3']);
    // the kernel size of a missing op does not matter; a partial assignment takes the current values
    s.declareEquivalence((a) => (a.op === 'none' ? 'none' : `conv${a.k}`));
    expect(s.networkKey({ op: 'none', k: 3 })).toBe(s.networkKey({ op: 'none', k: 5 }));
    expect(s.networkKey({ op: 'conv', k: 3 })).not.toBe(s.networkKey({ op: 'conv', k: 5 }));
    expect(s.networkKey({ op: 'conv' })).toBe('conv3');
  });
});

describe('ArchSpace.declareGraph', () => {
  /** The NAS-Bench-201 cell's shape: node j takes every node i < j through param "j<-i". */
  const cell = (): ArchSpace => {
    const s = new ArchSpace();
    for (const e of ['1<-0', '2<-0', '2<-1', '3<-0', '3<-1', '3<-2']) s.categorical({ name: e, choices: ['none', 'skip_connect', 'nor_conv_3x3'] });
    return s;
  };
  const edgesOf = (s: ArchSpace): Array<{ from: number; to: number; param: string }> => s.names().map((n) => ({ from: Number(n[3]), to: Number(n[0]), param: n }));
  const code = (f: () => void): string | undefined => {
    try {
      f();
    } catch (e) {
      return (e as ModnasError).code;
    }
    return undefined;
  };

  it('keeps a valid DAG (nodes counted or named, edges by index or name) and describes the space with it', () => {
    const s = cell();
    expect(s.graph()).toBeUndefined();
    expect(s.describe().graph).toBeUndefined();
    s.declareGraph({ nodes: 4, edges: edgesOf(s) });
    expect(s.graph()).toEqual({ nodes: ['0', '1', '2', '3'], edges: edgesOf(s) });
    const d = s.describe();
    expect(d.params.map((p) => p.name)).toEqual(s.names());
    expect(d.params[0]).toEqual({ name: '1<-0', type: 'categorical', choices: ['none', 'skip_connect', 'nor_conv_3x3'] });
    expect(d.graph?.edges).toHaveLength(6);
    // by name
    const t = cell();
    t.declareGraph({ nodes: ['in', 'a', 'b', 'out'], edges: [{ from: 'in', to: 'a', param: '1<-0' }, { from: 'a', to: 'out', param: '3<-1' }] });
    expect(t.graph()?.edges).toEqual([{ from: 0, to: 1, param: '1<-0' }, { from: 1, to: 3, param: '3<-1' }]);
    // graph() is a copy
    t.graph()!.edges.pop();
    expect(t.graph()?.edges).toHaveLength(2);
    // numeric and tensor params are described by their range and shape
    const m = new ArchSpace();
    m.numeric({ name: 'w', low: 0.5, high: 2 });
    m.tensor({ name: 'alpha', shape: [3] });
    m.declareGraph({ nodes: 2, edges: [{ from: 0, to: 1, param: 'alpha' }] });
    expect(m.describe()).toEqual({ params: [{ name: 'w', type: 'numeric', low: 0.5, high: 2 }, { name: 'alpha', type: 'tensor', shape: [3] }], graph: { nodes: ['0', '1'], edges: [{ from: 0, to: 1, param: 'alpha' }] } });
    m.dispose();
    expect(m.graph()).toBeUndefined();
  });

  it('refuses, with MODNAS_E_PARAM_GRAPH, unknown params, nodes out of range, self-loops, duplicates, cycles and bad node lists', () => {
    const s = cell();
    const edges = edgesOf(s);
    const cases: Array<[string, () => void, RegExp]> = [
      ['unknown param', () => s.declareGraph({ nodes: 4, edges: [...edges, { from: 0, to: 3, param: '3<-9' }] }), /names no arch param of the space: "3<-9"[\s\S]*known params: 1<-0, 2<-0/],
      ['node out of range', () => s.declareGraph({ nodes: 3, edges }), /edge 3 \(param "3<-0"\): to 3 is not one of its 3 nodes/],
      ['negative node', () => s.declareGraph({ nodes: 4, edges: [{ from: -1, to: 1, param: '1<-0' }] }), /from -1 is not one of/],
      ['unknown node name', () => s.declareGraph({ nodes: ['in', 'out'], edges: [{ from: 'in', to: 'mid', param: '1<-0' }] }), /to "mid" is not one of its 2 nodes/],
      ['self-loop', () => s.declareGraph({ nodes: 4, edges: [{ from: 2, to: 2, param: '2<-1' }] }), /joins node "2" to itself/],
      ['duplicate edge', () => s.declareGraph({ nodes: 4, edges: [edges[0], edges[0]] }), /declared twice/],
      ['cycle', () => s.declareGraph({ nodes: 3, edges: [{ from: 0, to: 1, param: '1<-0' }, { from: 1, to: 2, param: '2<-1' }, { from: 2, to: 1, param: '2<-0' }] }), /cycle through node\(s\) "1", "2"/],
      ['no nodes', () => s.declareGraph({ nodes: 0, edges }), /positive node count/],
      ['fractional node count', () => s.declareGraph({ nodes: 2.5, edges }), /positive node count/],
      ['repeated node name', () => s.declareGraph({ nodes: ['a', 'a'], edges }), /distinct non-empty strings, got "a"/],
      ['no edges', () => s.declareGraph({ nodes: 4, edges: [] }), /no edge/],
    ];
    for (const [what, f, msg] of cases) {
      expect(code(f), what).toBe('MODNAS_E_PARAM_GRAPH');
      expect(f, what).toThrow(msg);
    }
    const n = new ArchSpace();
    n.numeric({ name: 'w', low: 0, high: 1 });
    expect(() => n.declareGraph({ nodes: 2, edges: [{ from: 0, to: 1, param: 'w' }] })).toThrow(/param "w" is numeric, which chooses no op/);
    // a refused declaration leaves the space without a graph
    expect(s.graph()).toBeUndefined();
  });
});

describe('Rng', () => {
  it('is uniform enough and reproducible', () => {
    const r = new Rng(1);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40000; i++) counts[r.int(4)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    const a = new Rng(3);
    const b = new Rng(3);
    expect([a.next(), a.next()]).toEqual([b.next(), b.next()]);
  });
});
