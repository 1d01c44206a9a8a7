import type { Module } from '@modnas/core';
import { tf } from '@modnas/core';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { FactorizedReduce, IdentityOp, idt } from './idt.js';
import plugin from './index.js';
import type { Nil} from './nil.js';
import { nil } from './nil.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  // NIL has no weights, so there is nothing to take a gradient of; its own tests below check it.
  skipCreate: { NIL: 'no weights: the forward/backward step has nothing to differentiate' },
  // pooling keeps channels (the original refuses a Slot that changes them): a 4->4 Slot, strided
  inputs: Object.fromEntries(plugin.components.filter((c) => /^(AP|MP)\d+$|^(AVG|MAX)$/.test(c.id)).map((c) => [c.id, { chnIn: 4, chnOut: 4, stride: 2 }])),
});

const numBuffers = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);

describe('NIL', () => {
  it('returns zeros of the output shape, strided (ceil) and with chnOut channels', async () => {
    const before = tf.memory().numTensors;
    for (const [spec, h, want] of [
      [{ chnIn: 4, chnOut: 4, stride: 1 }, 6, [2, 6, 6, 4]],
      [{ chnIn: 8, chnOut: 8, stride: 2 }, 7, [2, 4, 4, 8]],
      [{ chnIn: 16, chnOut: 24, stride: 2 }, 8, [2, 4, 4, 24]],
    ] as const) {
      const m = (await nil.create({}, makeBuildContext(), { ...spec })) as Nil;
      const y = tf.tidy(() => m.call(tf.randomNormal([2, h, h, spec.chnIn])));
      expect(y.shape).toEqual(want);
      expect(tf.tidy(() => tf.abs(y).max().dataSync()[0])).toBe(0);
      expect(m.numParams()).toBe(0);
      expect(m.toArchDesc()).toBe('NIL');
      y.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('IDT', () => {
  it('is the identity when channels and stride are kept', async () => {
    const m = await idt.create({}, makeBuildContext(), { chnIn: 6, chnOut: 6, stride: 1 });
    expect(m).toBeInstanceOf(IdentityOp);
    const x = tf.randomNormal([1, 3, 3, 6]);
    expect(m.call(x)).toBe(x);
    expect((m as IdentityOp).toArchDesc()).toBe('IDT');
    x.dispose();
  });

  it("has the original's parameter and BN-statistic counts", async () => {
    // CreeperLin/modnas@21a5166 ops.py 'IDT' under PyTorch 1.13: [params, BN running-stat elements].
    const original: Array<[{ chnIn: number; chnOut: number; stride: number }, number, number]> = [
      [{ chnIn: 16, chnOut: 24, stride: 2 }, 432, 48],
      [{ chnIn: 4, chnOut: 8, stride: 1 }, 48, 16],
      [{ chnIn: 8, chnOut: 8, stride: 2 }, 80, 16],
      [{ chnIn: 32, chnOut: 32, stride: 1 }, 0, 0],
    ];
    for (const [spec, params, stats] of original) {
      const m = await idt.create({}, makeBuildContext(), spec);
      expect([m.numParams(), numBuffers(m)]).toEqual([params, stats]);
      m.dispose();
    }
  });

  it('factorized reduce = 1x1 conv on even pixels ++ 1x1 conv on odd pixels, then BN (hand-computed)', () => {
    const m = new FactorizedReduce(2, 2, 2);
    m.eval();
    m.conv1.weight.assign(tf.tensor4d([0.5, -1], [1, 1, 2, 1]));
    m.conv2.weight.assign(tf.tensor4d([2, 3], [1, 1, 2, 1]));
    const xs = Array.from({ length: 4 * 4 * 2 }, (_, i) => ((i * 7) % 11) - 5);
    const at = (r: number, c: number, ch: number): number => Math.max(0, xs[(r * 4 + c) * 2 + ch]);
    const y = tf.tidy(() => m.call(tf.tensor4d(xs, [1, 4, 4, 2])));
    expect(y.shape).toEqual([1, 2, 2, 2]);
    const got = Array.from(y.dataSync());
    const s = Math.sqrt(1 + 1e-5);
    const want: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        want.push((0.5 * at(2 * i, 2 * j, 0) - at(2 * i, 2 * j, 1)) / s);
        want.push((2 * at(2 * i + 1, 2 * j + 1, 0) + 3 * at(2 * i + 1, 2 * j + 1, 1)) / s);
      }
    }
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    y.dispose();
    m.dispose();
  });

  it('gives ceil(h/stride) on odd maps and splits an odd chnOut', async () => {
    const m = (await idt.create({}, makeBuildContext(), { chnIn: 3, chnOut: 5, stride: 2 })) as FactorizedReduce;
    const y = tf.tidy(() => m.call(tf.randomNormal([2, 7, 7, 3])));
    expect(y.shape).toEqual([2, 4, 4, 5]);
    expect(m.toArchDesc()).toBe('IDT');
    y.dispose();
    m.dispose();
  });

  it('rejects a missing Slot spec', async () => {
    await expect(Promise.resolve().then(() => idt.create({}, makeBuildContext(), undefined as never))).rejects.toThrow(/MODNAS|Slot spec/);
  });
});
