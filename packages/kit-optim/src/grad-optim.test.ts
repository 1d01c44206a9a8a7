import { describe, expect, it } from 'vitest';
import { ArchAdam, GradientSearchOptimizer, adamArgsFields, argmaxAssignment } from './grad-optim.js';
import type { SearchFeedback } from '@modnas/core';
import { ArchSpace, tf } from '@modnas/core';
import { z } from 'zod';

/** PyTorch's Adam (L2 weight decay added to the gradient), written out on plain numbers. */
function refAdam(p0: number[], grads: number[][], lr: number, b1: number, b2: number, wd: number, eps: number): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] -= (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
    }
  });
  return p;
}

class Fixed extends GradientSearchOptimizer {
  constructor(
    space: ArchSpace,
    private readonly g: number[],
  ) {
    super(space, { lr: 0.01, betas: [0.5, 0.999], weight_decay: 1e-3, eps: 1e-8 }, 'Fixed');
  }

  step(_feedback: SearchFeedback): void {
    this.update(this.archGrads(() => tf.sum(tf.mul(this.params[0].variable, tf.tensor1d(this.g)))));
  }
}

describe('ArchAdam', () => {
  it('matches PyTorch Adam step by step, weight decay included', () => {
    const space = new ArchSpace();
    const a = space.tensor({ shape: [3], init: [0.5, -0.2, 0.1] });
    const adam = new ArchAdam([a], { lr: 0.03, betas: [0.5, 0.999], weight_decay: 0.01, eps: 1e-8 });
    const grads = [
      [0.3, -0.1, 0.02],
      [-0.2, 0.4, 0.0],
      [0.05, 0.05, -0.3],
    ];
    for (const g of grads) adam.step([tf.tensor1d(g)]);
    const ref = refAdam([0.5, -0.2, 0.1], grads, 0.03, 0.5, 0.999, 0.01, 1e-8);
    a.toArray().forEach((x, i) => expect(x).toBeCloseTo(ref[i], 6));
    adam.dispose();
    space.dispose();
  });

  it('leaves a param without a gradient alone and tells listeners of the others', () => {
    const space = new ArchSpace();
    const a = space.tensor({ shape: [2], init: [1, 2] });
    const b = space.tensor({ shape: [2], init: [3, 4] });
    let heard = 0;
    b.onChange(() => heard++);
    const adam = new ArchAdam([a, b], { lr: 0.1, betas: [0.9, 0.999], weight_decay: 0, eps: 1e-8 });
    const g = tf.tensor1d([1, -1]);
    adam.step([undefined, g]);
    expect(a.toArray()).toEqual([1, 2]);
    expect(b.toArray()[0]).toBeCloseTo(2.9, 5);
    expect(b.toArray()[1]).toBeCloseTo(4.1, 5);
    expect(heard).toBe(1);
    expect(adam.state().steps).toEqual([0, 1]);
    g.dispose();
    adam.dispose();
    space.dispose();
  });

  it('rejects a state of another space', () => {
    const space = new ArchSpace();
    space.tensor({ shape: [2] });
    const adam = new ArchAdam(space.tensors(), { lr: 0.1, betas: [0.9, 0.999], weight_decay: 0, eps: 1e-8 });
    expect(() => adam.restore({ names: ['x'], shapes: [[3]], steps: [0], m: [[0, 0, 0]], v: [[0, 0, 0]] })).toThrow(/tensor_0/);
    expect(() => adam.restore({})).toThrow(/not an Adam state/);
    adam.dispose();
    space.dispose();
  });
});

describe('GradientSearchOptimizer', () => {
  it('next() gives the argmax of every tensor param and the value of every discrete one', () => {
    const space = new ArchSpace();
    space.tensor({ name: 'a', shape: [3], init: [0, 2, 1] });
    space.categorical({ name: 'c', choices: ['x', 'y'], default: 1 });
    const o = new Fixed(space, [1, 1, 1]);
    expect(o.next(2)).toEqual([{ a: 1, c: 'y' }]);
    expect(o.next(0)).toEqual([]);
    expect(argmaxAssignment(space)).toEqual({ a: 1, c: 'y' });
    o.dispose();
    space.dispose();
  });

  it('state round-trips through JSON and the restored optimizer continues identically', () => {
    const space = new ArchSpace();
    const a = space.tensor({ shape: [3], init: [0.1, 0.2, 0.3] });
    const o1 = new Fixed(space, [0.5, -0.3, 0.1]);
    o1.step({ results: [] });
    o1.step({ results: [] });
    const saved = JSON.parse(JSON.stringify(o1.state())) as unknown;
    const mid = a.toArray();
    o1.step({ results: [] });
    const after = a.toArray();
    a.assign(mid);
    const o2 = new Fixed(space, [0.5, -0.3, 0.1]);
    o2.restore(saved);
    const before = tf.memory().numTensors;
    o2.step({ results: [] });
    expect(tf.memory().numTensors).toBe(before);
    expect(a.toArray()).toEqual(after);
    o1.dispose();
    o2.dispose();
    space.dispose();
  });

  it('adamArgsFields gives a schema whose defaults parse', () => {
    const s = z.strictObject(adamArgsFields());
    expect(s.parse({})).toEqual({ lr: 3e-4, betas: [0.5, 0.999], weight_decay: 1e-3, eps: 1e-8 });
    expect(s.safeParse({ betas: [1.5, 0.9] }).success).toBe(false);
  });
});
