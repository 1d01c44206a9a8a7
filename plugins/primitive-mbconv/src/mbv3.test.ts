import type { Module } from '@modnas/core';
import { tf } from '@modnas/core';
import type { Conv2d } from '@modnas/nn';
import type { SqueezeExcite } from '@modnas/nn';
import { MobileInvertedConvV3 } from '@modnas/nn';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { m3bComponents } from './mbv3.js';

/**
 * [params, BN running-stat elements, Sequential length] of the original's MobileInvertedConvV3 as its
 * M3B{k}E{e}[S] builders make it (chn = chnIn x e), from re-creating CreeperLin/modnas (dev,
 * modnas/arch_space/torch/networks/mobilenetv3.py) under PyTorch 1.13. The H forms have the counts
 * of the forms without H (the activation holds no weights); the test checks that too.
 */
const ORIGINAL: Record<string, Record<string, [number, number, number]>> = {
  '8->8 s1': {
    M3B3E1: [168, 32, 5], M3B3E1S: [312, 32, 6], M3B3E3: [712, 112, 8], M3B3E3S: [1128, 112, 9],
    M3B3E6: [1408, 208, 8], M3B3E6S: [3008, 208, 9], M3B3E9: [2104, 304, 8], M3B3E9S: [5656, 304, 9],
    M3B5E1: [296, 32, 5], M3B5E1S: [440, 32, 6], M3B5E3: [1096, 112, 8], M3B5E3S: [1512, 112, 9],
    M3B5E6: [2176, 208, 8], M3B5E6S: [3776, 208, 9], M3B5E9: [3256, 304, 8], M3B5E9S: [6808, 304, 9],
    M3B7E1: [488, 32, 5], M3B7E1S: [632, 32, 6], M3B7E3: [1672, 112, 8], M3B7E3S: [2088, 112, 9],
    M3B7E6: [3328, 208, 8], M3B7E6S: [4928, 208, 9], M3B7E9: [4984, 304, 8], M3B7E9S: [8536, 304, 9],
    M3B9E1: [744, 32, 5], M3B9E1S: [888, 32, 6], M3B9E3: [2440, 112, 8], M3B9E3S: [2856, 112, 9],
    M3B9E6: [4864, 208, 8], M3B9E6S: [6464, 208, 9], M3B9E9: [7288, 304, 8], M3B9E9S: [10840, 304, 9],
  },
  '16->24 s2': {
    M3B3E1: [608, 80, 5], M3B3E1S: [888, 80, 6], M3B3E3: [2592, 240, 8], M3B3E3S: [4192, 240, 9],
    M3B3E6: [5136, 432, 8], M3B3E6S: [9864, 432, 9], M3B3E9: [7680, 624, 8], M3B3E9S: [19384, 624, 9],
    M3B5E1: [864, 80, 5], M3B5E1S: [1144, 80, 6], M3B5E3: [3360, 240, 8], M3B5E3S: [4960, 240, 9],
    M3B5E6: [6672, 432, 8], M3B5E6S: [11400, 432, 9], M3B5E9: [9984, 624, 8], M3B5E9S: [21688, 624, 9],
    M3B7E1: [1248, 80, 5], M3B7E1S: [1528, 80, 6], M3B7E3: [4512, 240, 8], M3B7E3S: [6112, 240, 9],
    M3B7E6: [8976, 432, 8], M3B7E6S: [13704, 432, 9], M3B7E9: [13440, 624, 8], M3B7E9S: [25144, 624, 9],
    M3B9E1: [1760, 80, 5], M3B9E1S: [2040, 80, 6], M3B9E3: [6048, 240, 8], M3B9E3S: [7648, 240, 9],
    M3B9E6: [12048, 432, 8], M3B9E6S: [16776, 432, 9], M3B9E9: [18048, 624, 8], M3B9E9S: [29752, 624, 9],
  },
  '4->8 s1': {
    M3B3E1: [92, 24, 5], M3B3E1S: [168, 24, 6], M3B3E3: [316, 64, 8], M3B3E3S: [528, 64, 9],
    M3B3E6: [616, 112, 8], M3B3E6S: [1032, 112, 9], M3B3E9: [916, 160, 8], M3B3E9S: [2120, 160, 9],
    M3B5E1: [156, 24, 5], M3B5E1S: [232, 24, 6], M3B5E3: [508, 64, 8], M3B5E3S: [720, 64, 9],
    M3B5E6: [1000, 112, 8], M3B5E6S: [1416, 112, 9], M3B5E9: [1492, 160, 8], M3B5E9S: [2696, 160, 9],
    M3B7E1: [252, 24, 5], M3B7E1S: [328, 24, 6], M3B7E3: [796, 64, 8], M3B7E3S: [1008, 64, 9],
    M3B7E6: [1576, 112, 8], M3B7E6S: [1992, 112, 9], M3B7E9: [2356, 160, 8], M3B7E9S: [3560, 160, 9],
    M3B9E1: [380, 24, 5], M3B9E1S: [456, 24, 6], M3B9E3: [1180, 64, 8], M3B9E3S: [1392, 64, 9],
    M3B9E6: [2344, 112, 8], M3B9E6S: [2760, 112, 9], M3B9E9: [3508, 160, 8], M3B9E9S: [4712, 160, 9],
  },
};

const parseCase = (c: string): { chnIn: number; chnOut: number; stride: number } => {
  const [, i, o, s] = /^(\d+)->(\d+) s(\d+)$/.exec(c)!;
  return { chnIn: Number(i), chnOut: Number(o), stride: Number(s) };
};
const numBuffers = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);
const def = (id: string) => m3bComponents.find((d) => d.id === id)!;
async function make(id: string, spec: { chnIn: number; chnOut: number; stride: number }, config: Record<string, unknown> = {}): Promise<MobileInvertedConvV3> {
  const d = def(id);
  return (await d.create(d.schema.parse(config), makeBuildContext(), spec)) as MobileInvertedConvV3;
}

describe('M3B{k}E{e}[S|H|SH]', () => {
  it('registers the 64 ids of the original', () => {
    const want = [3, 5, 7, 9].flatMap((k) => [1, 3, 6, 9].flatMap((e) => ['', 'S', 'H', 'SH'].map((v) => `M3B${k}E${e}${v}`)));
    expect(m3bComponents.map((c) => c.id)).toEqual(want);
    expect(new Set(want).size).toBe(64);
  });

  for (const [c, table] of Object.entries(ORIGINAL)) {
    it(`parameter and BN-statistic counts equal the original's (${c}), the four variants of each`, async () => {
      const spec = parseCase(c);
      for (const d of m3bComponents) {
        const base = d.id.replace(/H$/, '');
        const m = await make(d.id, spec);
        expect([m.numParams(), numBuffers(m), m.length], d.id).toEqual(table[base]);
        expect(m.toArchDesc()).toBe(d.id);
        m.dispose();
      }
    });
  }

  it('plain M3B{k}E{e} takes use_se / use_hs (0/1 or booleans) and then equals the suffixed form, named by it', async () => {
    const spec = { chnIn: 4, chnOut: 8, stride: 1 };
    for (const [config, suffix] of [[{ use_se: 1 }, 'S'], [{ use_hs: true }, 'H'], [{ use_se: true, use_hs: 1 }, 'SH'], [{ use_se: 0, use_hs: false }, '']] as const) {
      const a = await make('M3B5E6', spec, config);
      const b = await make(`M3B5E6${suffix}`, spec);
      expect(a.children().map(([n, x]) => `${n}:${x.constructor.name}`)).toEqual(b.children().map(([n, x]) => `${n}:${x.constructor.name}`));
      expect([a.useSe, a.useHs, a.toArchDesc()]).toEqual([b.useSe, b.useHs, `M3B5E6${suffix}`]);
      a.dispose();
      b.dispose();
    }
    expect(() => def('M3B3E3').schema.parse({ use_se: 2 })).toThrow();
    expect(() => def('M3B3E3H').schema.parse({ use_se: 1 })).toThrow();
  });

  it('has the layer order of the original: expand, depthwise (with the stride), SE, project; ReLU or hard swish', async () => {
    const names = (m: Module): string[] => m.children().map(([n, c]) => `${n}:${c.constructor.name}`);
    const sh = await make('M3B5E6SH', { chnIn: 4, chnOut: 8, stride: 2 });
    expect(names(sh)).toEqual(['0:Conv2d', '1:BatchNorm2d', '2:HardSwish', '3:Conv2d', '4:BatchNorm2d', '5:HardSwish', '6:SqueezeExcite', '7:Conv2d', '8:BatchNorm2d']);
    const [expand, dw, proj] = [sh.at(0), sh.at(3), sh.at(7)] as Conv2d[];
    expect([expand.kernelSize, expand.stride, expand.chnOut, expand.bias]).toEqual([1, 1, 24, undefined]);
    expect([dw.kernelSize, dw.stride, dw.depthwise, dw.padding]).toEqual([5, 2, true, 2]);
    expect([proj.kernelSize, proj.chnOut]).toEqual([1, 8]);
    // SE on 24 channels squeezes to makeDivisible(24 // 4 = 6, 8) = 8, with biased 1x1 convs
    expect([(sh.at(6) as SqueezeExcite).reduced, (sh.at(6) as SqueezeExcite).numParams()]).toEqual([8, 24 * 8 + 8 + 8 * 24 + 24]);
    sh.dispose();
    const plain = await make('M3B3E1', { chnIn: 4, chnOut: 4, stride: 1 });
    expect(names(plain)).toEqual(['0:Conv2d', '1:BatchNorm2d', '2:ReLU', '3:Conv2d', '4:BatchNorm2d']);
    plain.dispose();
  });

  it('computes what the original computes for a fixed input (M3B3E3SH, 2->3, eval mode)', () => {
    // PyTorch 1.13, the original's MobileInvertedConvV3(2, 3, 1, chn=6, k=3, use_se=1, use_hs=1) in eval
    // mode, every parameter tensor i filled with VALS[i] (in named_parameters order), the input
    // linspace(-2, 2, 32) laid out as NHWC [1, 4, 4, 2]; its output read back in NHWC order.
    const VALS = [0.3, -0.2, 0.5, 0.1, -0.4, 0.25, 0.2, -0.1, 0.15, 0.05, -0.3, 0.4, 0.6];
    const WANT = [0.56366, 0.56967, 0.5686, 0.56221, 0.56812, 0.57598, 0.57445, 0.56603, 0.56399, 0.56995, 0.56849, 0.562, 0.55807, 0.56146, 0.56049, 0.55677];
    const m = new MobileInvertedConvV3(2, 3, 1, { chn: 6, kernelSize: 3, useSe: true, useHs: true });
    m.eval();
    const params = m.namedParameters();
    expect(params.map(([n]) => n)).toEqual(['0.weight', '1.weight', '1.bias', '3.weight', '4.weight', '4.bias', '6.net.1.weight', '6.net.1.bias', '6.net.3.weight', '6.net.3.bias', '7.weight', '8.weight', '8.bias']);
    params.forEach(([, v], i) => v.assign(tf.fill(v.shape, VALS[i])));
    const y = tf.tidy(() => m.call(tf.linspace(-2, 2, 32).reshape([1, 4, 4, 2])));
    expect(y.shape).toEqual([1, 4, 4, 3]);
    const got = Array.from(y.dataSync());
    // all three output channels are equal (constant weights); compare each position's value
    WANT.forEach((w, i) => [0, 1, 2].forEach((c) => expect(got[i * 3 + c]).toBeCloseTo(w, 4)));
    y.dispose();
    m.dispose();
  });

  it('trains: one SGD step through an SE + hard-swish block changes every weight and lowers the loss', async () => {
    const m = await make('M3B3E3SH', { chnIn: 2, chnOut: 2, stride: 1 });
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 1);
    const target = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 2);
    const before = m.parameters().map((p) => p.clone());
    const lossOf = (): tf.Scalar => tf.losses.meanSquaredError<tf.Tensor, tf.Scalar>(target, m.call(x));
    const opt = tf.train.sgd(0.05);
    const l0 = tf.tidy(() => lossOf().dataSync()[0]);
    for (let i = 0; i < 3; i++) opt.minimize(lossOf, false, m.parameters());
    const l1 = tf.tidy(() => lossOf().dataSync()[0]);
    expect(l1).toBeLessThan(l0);
    m.parameters().forEach((p, i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(p, before[i]))).dataSync()[0])).toBeGreaterThan(0));
    tf.dispose([x, target, ...before]);
    opt.dispose();
    m.dispose();
  });

  it('rejects a missing Slot spec with a fix', async () => {
    await expect(Promise.resolve().then(() => m3bComponents[0].create({ use_se: 0, use_hs: 0 } as never, makeBuildContext(), undefined as never))).rejects.toThrow(/Slot spec/);
  });
});
