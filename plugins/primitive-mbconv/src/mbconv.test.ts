import type { Module } from '@modnas/core';
import { tf } from '@modnas/core';
import type { Conv2d } from '@modnas/nn';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { MobileInvertedConv } from '@modnas/nn';
import { mbconvComponents } from './mbconv.js';

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

/**
 * [params, BN running-stat elements, Sequential length] of the original's MBxEy builders, from
 * running CreeperLin/modnas@21a5166 (modnas/arch_space/torch/mobilenetv2.py, register_slot_builder
 * 'MB{k}E{e}') under PyTorch 1.13: build(f'MB{k}E{e}', Slot(_chn_in, _chn_out, _stride)).
 */
const ORIGINAL: Record<string, Record<string, [number, number, number]>> = {
  '32->32 s1': {
    MB3E1: [1440, 128, 5], MB3E3: [7456, 448, 8], MB3E6: [14848, 832, 8], MB3E9: [22240, 1216, 8],
    MB5E1: [1952, 128, 5], MB5E3: [8992, 448, 8], MB5E6: [17920, 832, 8], MB5E9: [26848, 1216, 8],
    MB7E1: [2720, 128, 5], MB7E3: [11296, 448, 8], MB7E6: [22528, 832, 8], MB7E9: [33760, 1216, 8],
    MB9E1: [3744, 128, 5], MB9E3: [14368, 448, 8], MB9E6: [28672, 832, 8], MB9E9: [42976, 1216, 8],
  },
  '16->24 s2': {
    MB3E1: [608, 80, 5], MB3E3: [2592, 240, 8], MB3E6: [5136, 432, 8], MB3E9: [7680, 624, 8],
    MB5E1: [864, 80, 5], MB5E3: [3360, 240, 8], MB5E6: [6672, 432, 8], MB5E9: [9984, 624, 8],
    MB7E1: [1248, 80, 5], MB7E3: [4512, 240, 8], MB7E6: [8976, 432, 8], MB7E9: [13440, 624, 8],
    MB9E1: [1760, 80, 5], MB9E3: [6048, 240, 8], MB9E6: [12048, 432, 8], MB9E9: [18048, 624, 8],
  },
  '4->8 s1': {
    MB3E1: [92, 24, 5], MB3E3: [316, 64, 8], MB3E6: [616, 112, 8], MB3E9: [916, 160, 8],
    MB5E1: [156, 24, 5], MB5E3: [508, 64, 8], MB5E6: [1000, 112, 8], MB5E9: [1492, 160, 8],
    MB7E1: [252, 24, 5], MB7E3: [796, 64, 8], MB7E6: [1576, 112, 8], MB7E9: [2356, 160, 8],
    MB9E1: [380, 24, 5], MB9E3: [1180, 64, 8], MB9E6: [2344, 112, 8], MB9E9: [3508, 160, 8],
  },
};

const parseCase = (c: string): { chnIn: number; chnOut: number; stride: number } => {
  const [, i, o, s] = /^(\d+)->(\d+) s(\d+)$/.exec(c)!;
  return { chnIn: Number(i), chnOut: Number(o), stride: Number(s) };
};

const numBuffers = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);

describe('MBxEy', () => {
  it('registers the 16 ids MB3E1 ... MB9E9', () => {
    expect(mbconvComponents.map((c) => c.id)).toEqual(['MB3E1', 'MB3E3', 'MB3E6', 'MB3E9', 'MB5E1', 'MB5E3', 'MB5E6', 'MB5E9', 'MB7E1', 'MB7E3', 'MB7E6', 'MB7E9', 'MB9E1', 'MB9E3', 'MB9E6', 'MB9E9']);
  });

  for (const [c, table] of Object.entries(ORIGINAL)) {
    it(`parameter and BN-statistic counts equal the original's (${c})`, async () => {
      const spec = parseCase(c);
      for (const def of mbconvComponents) {
        const m = (await def.create({}, makeBuildContext(), spec)) as MobileInvertedConv;
        expect([m.numParams(), numBuffers(m), m.length], def.id).toEqual(table[def.id]);
        expect(m.toArchDesc()).toBe(def.id);
        m.dispose();
      }
    });
  }

  it('has the layer order of the original: expand, depthwise (with the stride), project', async () => {
    const m = (await mbconvComponents.find((d) => d.id === 'MB5E6')!.create({}, makeBuildContext(), { chnIn: 4, chnOut: 8, stride: 2 })) as MobileInvertedConv;
    const names = m.children().map(([n, c]) => `${n}:${c.constructor.name}`);
    expect(names).toEqual(['0:Conv2d', '1:BatchNorm2d', '2:ReLU6', '3:Conv2d', '4:BatchNorm2d', '5:ReLU6', '6:Conv2d', '7:BatchNorm2d']);
    const [expand, dw, proj] = [m.at(0), m.at(3), m.at(6)] as Conv2d[];
    expect([expand.kernelSize, expand.stride, expand.chnOut]).toEqual([1, 1, 24]);
    expect([dw.kernelSize, dw.stride, dw.depthwise, dw.padding]).toEqual([5, 2, true, 2]);
    expect([proj.kernelSize, proj.chnOut]).toEqual([1, 8]);
    m.dispose();
  });

  it('computes depthwise conv with same padding and clips at 6 (hand-computed output)', () => {
    // 1 channel, MB3E1, all weights 1, BN at its initial state: dw of a 3x3 map of ones counts the
    // in-bounds neighbours (4 at corners, 6 at edges, 9 in the centre), ReLU6 clips 9 to 6.
    const m = new MobileInvertedConv(1, 1, 1, { expansion: 1, kernelSize: 3 });
    m.eval();
    (m.at(0) as Conv2d).weight.assign(tf.ones([3, 3, 1, 1]));
    (m.at(3) as Conv2d).weight.assign(tf.ones([1, 1, 1, 1]));
    const y = tf.tidy(() => m.call(tf.ones([1, 3, 3, 1])));
    const want = [4, 6, 4, 6, 6, 6, 4, 6, 4];
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 3));
    y.dispose();
    m.dispose();
  });

  it('halves odd and even maps with stride 2 (ceil), as PyTorch with padding k//2', () => {
    for (const [h, want] of [[7, 4], [8, 4], [9, 5]] as const) {
      const m = new MobileInvertedConv(3, 5, 2, { expansion: 3, kernelSize: 7 });
      const y = tf.tidy(() => m.call(tf.randomNormal([2, h, h, 3])));
      expect(y.shape).toEqual([2, want, want, 5]);
      y.dispose();
      m.dispose();
    }
  });

  it('rejects a missing Slot spec with a fix', async () => {
    await expect(Promise.resolve().then(() => mbconvComponents[0].create({}, makeBuildContext(), undefined as never))).rejects.toThrow(/Slot spec/);
  });
});
