import type { Module } from '@modnas/core';
import { setTensorSeed, tf } from '@modnas/core';
import type { Conv2d } from '@modnas/nn';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { shuffleUnitComponents } from './primitives.js';
import { ShuffleUnit, channelShuffle } from './shuffle-unit.js';

/**
 * [params, BN running-stat elements] of the original's SHUk / SHXk (CreeperLin/modnas dev,
 * arch_space/torch/networks/shufflenetv2.py: ShuffleUnit / ShuffleUnitXception as built by
 * register_slot_ccs from a Slot, so chn_mid = chn_out // 2), re-created and counted under
 * PyTorch 1.13 (/usr/bin/python3, sum of p.numel() and of the running_mean/var numel()).
 */
const ORIGINAL: Record<string, Record<string, [number, number]>> = {
  '16->16 s1': {
    SHU3: [248, 48], SHU5: [376, 48], SHU7: [568, 48], SHU9: [824, 48],
    SHX3: [504, 96], SHX5: [888, 96], SHX7: [1464, 96], SHX9: [2232, 96],
  },
  '8->16 s2': {
    SHU3: [416, 80], SHU5: [672, 80], SHU7: [1056, 80], SHU9: [1568, 80],
    SHX3: [672, 128], SHX5: [1184, 128], SHX7: [1952, 128], SHX9: [2976, 128],
  },
  '4->8 s2': {
    SHU3: [160, 40], SHU5: [288, 40], SHU7: [480, 40], SHU9: [736, 40],
    SHX3: [272, 64], SHX5: [528, 64], SHX7: [912, 64], SHX9: [1424, 64],
  },
  '8->8 s1': {
    SHU3: [92, 24], SHU5: [156, 24], SHU7: [252, 24], SHU9: [380, 24],
    SHX3: [204, 48], SHX5: [396, 48], SHX7: [684, 48], SHX9: [1068, 48],
  },
};

const parseCase = (c: string): { chnIn: number; chnOut: number; stride: number } => {
  const [, i, o, s] = /^(\d+)->(\d+) s(\d+)$/.exec(c)!;
  return { chnIn: Number(i), chnOut: Number(o), stride: Number(s) };
};
const numBuffers = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);
const byId = (id: string) => shuffleUnitComponents.find((d) => d.id === id)!;

describe('channelShuffle', () => {
  it('interleaves the two halves of the channels, as the original shuffle_channels (PyTorch: 0..7 -> 0,4,1,5,2,6,3,7)', () => {
    const x = tf.reshape(tf.range(0, 16), [2, 1, 1, 8]);
    const y = channelShuffle(x, 2);
    expect(Array.from(y.dataSync())).toEqual([0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15]);
    // three groups: channel i*(C/g)+j goes to j*g+i
    const z = channelShuffle(tf.reshape(tf.range(0, 6), [1, 1, 1, 6]), 3);
    expect(Array.from(z.dataSync())).toEqual([0, 2, 4, 1, 3, 5]);
    tf.dispose([x, y, z]);
  });
});

describe('SHUk / SHXk', () => {
  it('registers SHU3, SHU5, SHU7, SHU9, SHX3, SHX5, SHX7, SHX9', () => {
    expect(shuffleUnitComponents.map((c) => c.id)).toEqual(['SHU3', 'SHU5', 'SHU7', 'SHU9', 'SHX3', 'SHX5', 'SHX7', 'SHX9']);
  });

  for (const [c, table] of Object.entries(ORIGINAL)) {
    it(`parameter and BN-statistic counts equal the original's (${c}), and the output has chnOut channels at the stride`, async () => {
      const spec = parseCase(c);
      for (const def of shuffleUnitComponents) {
        const m = (await def.create({ chn_mid: null }, makeBuildContext(), spec)) as ShuffleUnit;
        expect([m.numParams(), numBuffers(m)], def.id).toEqual(table[def.id]);
        expect(m.toArchDesc()).toBe(def.id);
        const y = tf.tidy(() => m.call(tf.randomNormal([2, 6, 6, spec.chnIn])));
        expect(y.shape, def.id).toEqual([2, 6 / spec.stride, 6 / spec.stride, spec.chnOut]);
        y.dispose();
        m.dispose();
      }
    });
  }

  it('has the original layer order: SHU main pw, dw (the stride), pw; stride 2 adds a dw + pw projection', async () => {
    const m = (await byId('SHU5').create({ chn_mid: null }, makeBuildContext(), { chnIn: 4, chnOut: 8, stride: 2 })) as ShuffleUnit;
    const names = (s: Module): string[] => s.children().map(([, c]) => c.constructor.name);
    expect(names(m.branch_main)).toEqual(['Conv2d', 'BatchNorm2d', 'ReLU', 'Conv2d', 'BatchNorm2d', 'Conv2d', 'BatchNorm2d', 'ReLU']);
    expect(names(m.branch_proj)).toEqual(['Conv2d', 'BatchNorm2d', 'Conv2d', 'BatchNorm2d', 'ReLU']);
    const dw = m.branch_main.at(3) as Conv2d;
    expect([dw.kernelSize, dw.stride, dw.depthwise, dw.padding, dw.chnIn]).toEqual([5, 2, true, 2, 4]);
    expect((m.branch_main.at(5) as Conv2d).chnOut).toBe(4); // chnOut - chnIn
    const x = (await byId('SHX3').create({ chn_mid: null }, makeBuildContext(), { chnIn: 8, chnOut: 8, stride: 1 })) as ShuffleUnit;
    expect(names(x.branch_main).filter((n) => n === 'Conv2d')).toHaveLength(6);
    expect(x.branch_proj.length).toBe(0);
    expect([x.branchIn, x.chnMid]).toEqual([4, 4]);
    m.dispose();
    x.dispose();
  });

  it('passes the first half of the input through unchanged at stride 1 (to the even channels after the shuffle)', () => {
    const m = new ShuffleUnit(8, 8, 1, { kernelSize: 3 });
    m.eval();
    const x = tf.randomNormal([1, 4, 4, 8]);
    const y = m.call(x);
    const even = tf.gather(y, [0, 2, 4, 6], 3);
    const first = tf.slice(x, [0, 0, 0, 0], [1, 4, 4, 4]);
    expect(tf.max(tf.abs(tf.sub(even, first))).dataSync()[0]).toBe(0);
    tf.dispose([x, y, even, first]);
    m.dispose();
  });

  it("takes chn_mid from its config, else from the Slot's chn_mid arg", async () => {
    const a = (await byId('SHU3').create({ chn_mid: 6 }, makeBuildContext(), { chnIn: 8, chnOut: 8, stride: 1 })) as ShuffleUnit;
    const b = (await byId('SHU3').create({ chn_mid: null }, makeBuildContext(), { chnIn: 8, chnOut: 8, stride: 1, args: { chn_mid: 2 } })) as ShuffleUnit;
    expect([a.chnMid, b.chnMid]).toEqual([6, 2]);
    a.dispose();
    b.dispose();
  });

  it('a training step changes every conv kernel of the unit and lowers the loss', () => {
    setTensorSeed(3); // the same weights and data whatever ran before
    const m = new ShuffleUnit(4, 8, 2, { kernelSize: 3, xception: true });
    const x = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 7);
    const target = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 8);
    const before = m.parameters().map((p) => p.clone());
    const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(m.call(x), target)));
    const l0 = loss().dataSync()[0];
    tf.train.sgd(0.1).minimize(loss, false, m.parameters());
    // 6 convs in the Xception main branch, 2 in the projection (BN scales and shifts that a following BN cancels may not move)
    const kernels = m.namedParameters().filter(([, p]) => p.rank === 4);
    expect(kernels).toHaveLength(8);
    for (const [n, p] of kernels) expect(tf.max(tf.abs(tf.sub(p, before[m.parameters().indexOf(p)]))).dataSync()[0], n).toBeGreaterThan(0);
    expect(loss().dataSync()[0]).toBeLessThan(l0);
    tf.dispose([x, target, ...before]);
    m.dispose();
  });

  it('rejects Slots a unit cannot fill, naming the reason', async () => {
    const make = (spec: { chnIn: number; chnOut: number; stride: number }) => Promise.resolve().then(() => byId('SHU3').create({ chn_mid: null }, makeBuildContext(), spec));
    await expect(make({ chnIn: 5, chnOut: 8, stride: 1 })).rejects.toThrow(/chnIn must be even/);
    await expect(make({ chnIn: 8, chnOut: 8, stride: 2 })).rejects.toThrow(/main branch would have 0 output channels/);
    await expect(make({ chnIn: 8, chnOut: 8, stride: 3 })).rejects.toThrow(/stride must be 1 or 2/);
    await expect(Promise.resolve().then(() => byId('SHX3').create({ chn_mid: null }, makeBuildContext(), undefined as never))).rejects.toThrow(/Slot spec/);
  });
});
