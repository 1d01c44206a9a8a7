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
