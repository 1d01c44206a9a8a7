import { describe, expect, it } from 'vitest';
import { ModnasError } from './errors.js';
import { Module, Sequential, Slot } from './module.js';
import { tf } from './tf.js';

class Scale extends Module {
  readonly w: tf.Variable;
  constructor(v: number) {
    super();
    this.w = this.addParam('w', tf.scalar(v));
    this.addBuffer('count', tf.scalar(0));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, this.w);
  }
}

class Net extends Module {
  readonly a = this.addModule('a', new Scale(2));
  readonly slot = this.addModule('slot', new Slot({ chnIn: 4, chnOut: 8, stride: 2, expansion: 6 }));
  readonly tail = this.addModule('tail', new Sequential([new Scale(3), new Slot({ chnIn: 8 })]));
  forward(x: tf.Tensor): tf.Tensor {
    return this.tail.call(this.slot.call(this.a.call(x)));
  }
}

describe('Module', () => {
  it('names weights and buffers by path and counts weights', () => {
    const n = new Net();
    expect(n.namedParameters().map(([k]) => k)).toEqual(['a.w', 'tail.0.w']);
    expect(n.namedBuffers().map(([k]) => k)).toEqual(['a.count', 'tail.0.count']);
    expect(n.numParams()).toBe(2);
    n.dispose();
  });

  it('propagates train/eval through the tree', () => {
    const n = new Net();
    n.eval();
    expect([...n.modules()].every(([, m]) => !m.training)).toBe(true);
    n.train();
    expect([...n.modules()].every(([, m]) => m.training)).toBe(true);
    n.dispose();
  });

  it('round-trips a state dict and rejects a mismatched one', () => {
    const a = new Net();
    const b = new Net();
    a.a.w.assign(tf.scalar(7));
    b.loadStateDict(a.stateDict());
    expect(b.a.w.dataSync()[0]).toBe(7);
    expect(() => b.loadStateDict(new Map([['a.w', tf.scalar(1)]]))).toThrow(/lacks 3 entries/);
    expect(() => b.loadStateDict(new Map([['a.w', tf.ones([2])]]), { strict: false })).toThrow(/shape \[2\] does not match/);
    a.dispose();
    b.dispose();
  });
});

describe('Slot', () => {
  it('records its arguments and is found in traversal order', () => {
    const n = new Net();
    const slots = Slot.find(n);
    expect(slots.map(([p]) => p)).toEqual(['slot', 'tail.1']);
    const s = slots[0][1];
    expect([s.chnIn, s.chnOut, s.stride, s.args]).toEqual([4, 8, 2, { expansion: 6 }]);
    expect(slots[1][1].chnOut).toBe(8);
    n.dispose();
  });

  it('refuses to run before it is filled, with the fix', () => {
    const n = new Net();
    try {
      n.call(tf.ones([1]));
      throw new Error('ran');
    } catch (e) {
      expect(e).toBeInstanceOf(ModnasError);
      expect((e as ModnasError).code).toBe('MODNAS_E_SLOT_EMPTY');
      expect((e as Error).message).toContain('DefaultMixedOpConstructor');
    }
    n.dispose();
  });

  it('runs what fills it, keeps references of the model valid, and finds nested Slots on request', () => {
    const n = new Net();
    n.slot.fill(new Scale(5));
    const inner = new Sequential([new Slot({ chnIn: 8 })]);
    (n.tail.at(1) as Slot).fill(inner);
    (inner.at(0) as Slot).fill(new Scale(1));
    const y = n.call(tf.ones([1]));
    expect(y.dataSync()[0]).toBe(2 * 5 * 3);
    expect(Slot.find(n).length).toBe(2);
    expect(Slot.find(n, { nested: true }).map(([p]) => p)).toEqual(['slot', 'tail.1', 'tail.1.impl.0']);
    expect(n.numParams()).toBe(4);
    n.dispose();
  });

  it('validates its channel count', () => {
    expect(() => new Slot({ chnIn: 0 })).toThrow(/chnIn must be a positive integer/);
  });
});
