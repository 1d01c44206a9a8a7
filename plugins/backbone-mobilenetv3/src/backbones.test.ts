import type { BuildContext, Module, StateTransformer } from '@modnas/core';
import { Slot, tf } from '@modnas/core';
import { MobileInvertedConvV3 } from '@modnas/nn';
import { archDescOf } from '@modnas/kit-mixed-op';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { mobileNetV3, mobileNetV3Large, mobileNetV3Small } from './backbones.js';
import { mobileNetV3PredefinedConstructor } from './constructors.js';
import type { MobileNetV3 } from './model.js';

const bufferSize = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);

type Def = typeof mobileNetV3Large | typeof mobileNetV3;
async function predefined(def: Def, config: Record<string, unknown>, input?: { numClasses?: number; inputShape?: [number, number, number] }, ctx: BuildContext = makeBuildContext()): Promise<MobileNetV3> {
  const net = (await def.create(def.schema.parse(config) as never, ctx, input)) as MobileNetV3;
  const t: StateTransformer = await mobileNetV3PredefinedConstructor.create({}, ctx, undefined);
  await t.apply(net, ctx);
  return net;
}

/**
 * [params, BN running-stat elements] of the original's mobilenetv3_large / mobilenetv3_small with
 * every Slot converted by mbv3_predefined_converter (MobileNetV3PredefinedConstructor): re-created
 * from CreeperLin/modnas (dev, modnas/arch_space/torch/networks/mobilenetv3.py) under PyTorch 1.13.
 */
const ORIGINAL: Array<[string, Def, Record<string, unknown>, number, number]> = [
  ['mobilenetv3_large, defaults (1000 classes)', mobileNetV3Large, {}, 5483032, 24400],
  ['mobilenetv3_large, n_classes 10', mobileNetV3Large, { n_classes: 10 }, 4214842, 24400],
  ['mobilenetv3_large, n_classes 10, width_mult 0.25', mobileNetV3Large, { n_classes: 10, width_mult: 0.25 }, 2035874, 21264],
  ['mobilenetv3_large, n_classes 10, width_mult 0.5', mobileNetV3Large, { n_classes: 10, width_mult: 0.5 }, 2578274, 22288],
  ['mobilenetv3_large, n_classes 10, width_mult 0.25, chn_in 1', mobileNetV3Large, { n_classes: 10, width_mult: 0.25, chn_in: 1 }, 2035730, 21264],
  ['mobilenetv3_small, defaults (1000 classes)', mobileNetV3Small, {}, 2709464, 12112],
  ['mobilenetv3_small, n_classes 10', mobileNetV3Small, { n_classes: 10 }, 1694714, 12112],
  ['mobilenetv3_small, n_classes 10, width_mult 0.25', mobileNetV3Small, { n_classes: 10, width_mult: 0.25 }, 681514, 10480],
  ['mobilenetv3_small, n_classes 10, width_mult 0.5', mobileNetV3Small, { n_classes: 10, width_mult: 0.5 }, 915898, 11024],
  ['mobilenetv3_small, n_classes 10, width_mult 0.25, chn_in 1', mobileNetV3Small, { n_classes: 10, width_mult: 0.25, chn_in: 1 }, 681370, 10480],
];

describe('mobilenetv3_large / mobilenetv3_small / MobileNetV3', () => {
  for (const [name, def, config, params, bn] of ORIGINAL) {
    it(`${name}: ${params.toLocaleString('en-US')} weights and ${bn} BN statistics, as the original`, async () => {
      const net = await predefined(def, config);
      expect([net.numParams(), bufferSize(net)]).toEqual([params, bn]);
      net.dispose();
    });
  }

  it('MobileNetV3 defaults to the large table; mode small with the small table equals mobilenetv3_small; the dataset gives classes and channels', async () => {
    const a = await predefined(mobileNetV3, { n_classes: 10 });
    expect(a.numParams()).toBe(4214842);
    a.dispose();
    const { MBV3_SMALL_TABLE } = await import('./model.js');
    const b = await predefined(mobileNetV3, { mode: 'small', cfgs: MBV3_SMALL_TABLE.map((r) => [...r]), width_mult: 0.25 }, { numClasses: 10, inputShape: [16, 16, 1] });
    expect(b.numParams()).toBe(681370);
    b.dispose();
  });

  it('has one Slot per block, carrying the block (chn, kernel_size, use_se, use_hs), and the original\'s layout', async () => {
    const net = (await mobileNetV3Small.create(mobileNetV3Small.schema.parse({ width_mult: 0.25 }), makeBuildContext(), { numClasses: 10 })) as MobileNetV3;
    const slots = Slot.find(net);
    expect(slots.map(([p]) => p)).toEqual(Array.from({ length: 11 }, (_, i) => `features.${i + 1}.conv`));
    // the original's Slots, small x 0.25 (printed from the PyTorch re-creation)
    expect(slots.slice(0, 4).map(([, s]) => [s.chnIn, s.chnOut, s.stride, s.args])).toEqual([
      [8, 8, 2, { chn: 16, kernel_size: 3, use_se: 1, use_hs: 0 }],
      [8, 8, 2, { chn: 72, kernel_size: 3, use_se: 0, use_hs: 0 }],
      [8, 8, 1, { chn: 88, kernel_size: 3, use_se: 0, use_hs: 0 }],
      [8, 16, 2, { chn: 96, kernel_size: 5, use_se: 1, use_hs: 1 }],
    ]);
    expect(net.blocks().map((b) => b.identity)).toEqual([false, false, true, false, true, true, true, true, false, true, true]);
    expect(net.children().map(([n]) => n)).toEqual(['features', 'conv', 'avgpool', 'classifier']);
    expect(net.conv.children().map(([, m]) => m.constructor.name)).toEqual(['Conv2d', 'BatchNorm2d', 'HardSwish', 'SqueezeExcite']);
    expect(net.classifier.children().map(([, m]) => m.constructor.name)).toEqual(['Conv2d', 'HardSwish', 'Dropout', 'Conv2d']);
    expect(net.lastChannels).toBe(256);
    net.dispose();
  });

  it('maps 2 x 16x16 (and 2 x 33x33) inputs to logits; the features end at stride 32', async () => {
    for (const def of [mobileNetV3Large, mobileNetV3Small]) {
      const net = await predefined(def, { width_mult: 0.25 }, { numClasses: 5, inputShape: [16, 16, 3] });
      net.eval();
      for (const [h, f] of [[16, 1], [33, 2]]) {
        const x = tf.randomNormal([2, h, h, 3], 0, 1, 'float32', 3);
        const feat = tf.tidy(() => net.features.call(x));
        expect(feat.shape).toEqual([2, f, f, def === mobileNetV3Large ? 40 : 24]);
        const y = tf.tidy(() => net.call(x));
        expect(y.shape).toEqual([2, 5]);
        expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
        tf.dispose([x, feat, y]);
      }
      expect(Slot.find(net).every(([, s]) => s.impl instanceof MobileInvertedConvV3)).toBe(true);
      // at width 0.25 the first block expands 8 -> 16 channels (x2): no M3B primitive builds it
      expect(archDescOf(Slot.find(net)[0][1].impl)).toBeNull();
      net.dispose();
    }
  });

  it('the predefined blocks name the M3B primitive that builds them, where one does (width 1)', async () => {
    const large = await predefined(mobileNetV3Large, { n_classes: 2 });
    const small = await predefined(mobileNetV3Small, { n_classes: 2 });
    // large: 16->16 x1 3x3 ReLU, 16->24 x4 (none), 24->24 x3; small: 16->16 x1 3x3 SE ReLU, 16->24 x4.5 (none), 24->24 x3.67 (none)
    expect(Slot.find(large).slice(0, 3).map(([, s]) => archDescOf(s.impl))).toEqual(['M3B3E1', null, 'M3B3E3']);
    expect(Slot.find(small).slice(0, 3).map(([, s]) => archDescOf(s.impl))).toEqual(['M3B3E1S', null, null]);
    large.dispose();
    small.dispose();
  });

  it('computes the original\'s logits for a fixed input and fixed weights (mobilenetv3_small x 0.25, eval mode)', async () => {
    // PyTorch 1.13, the original's mobilenetv3_small(n_classes=3, width_mult=0.25) with its Slots converted as
    // MobileNetV3PredefinedConstructor does, in eval mode: parameter tensor i (named_parameters order) filled with
    // 0.05 * (((7i) % 11) - 5) / 5, plus 0.5 for BN weights, the last bias [0.1, -0.2, 0.3]; the input
    // linspace(-1, 1, 768) laid out as NHWC [1, 16, 16, 3]. Logits: [0.13121518, -0.16878481, 0.33121520].
    const net = await predefined(mobileNetV3Small, { n_classes: 3, width_mult: 0.25, dropout_rate: 0 });
    net.eval();
    const ps = net.namedParameters();
    expect(ps).toHaveLength(149);
    ps.forEach(([name, p], i) => {
      if (i === ps.length - 1) p.assign(tf.tensor1d([0.1, -0.2, 0.3]));
      else p.assign(tf.fill(p.shape, 0.05 * ((((i * 7) % 11) - 5) / 5) + (p.rank === 1 && name.endsWith('weight') ? 0.5 : 0)));
    });
    const y = tf.tidy(() => net.call(tf.linspace(-1, 1, 768).reshape([1, 16, 16, 3])));
    const got = Array.from(y.dataSync());
    [0.13121518, -0.16878481, 0.3312152].forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));
    y.dispose();
    net.dispose();
  });

  it('trains: a few SGD steps on a fixed batch lower the loss and change the weights of every layer', async () => {
    const net = await predefined(mobileNetV3Small, { width_mult: 0.25, n_classes: 3, dropout_rate: 0 }, undefined);
    net.train();
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 7);
    const y = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const before = net.namedParameters().map(([n, p]) => [n, p.clone()] as const);
    const opt = tf.train.sgd(0.1);
    const loss = (): tf.Scalar => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, net.call(x));
    const l0 = tf.tidy(() => loss().dataSync()[0]);
    for (let i = 0; i < 4; i++) opt.minimize(loss, false, net.parameters());
    const l1 = tf.tidy(() => loss().dataSync()[0]);
    expect(l1).toBeLessThan(l0);
    const params = new Map(net.namedParameters());
    const unchanged = before.filter(([n, p]) => tf.tidy(() => tf.max(tf.abs(tf.sub(params.get(n)!, p))).dataSync()[0]) === 0).map(([n]) => n);
    expect(unchanged).toEqual([]);
    tf.dispose([x, y, ...before.map(([, p]) => p)]);
    opt.dispose();
    net.dispose();
  });

  it('rejects bad cfgs rows with their path', () => {
    expect(() => mobileNetV3.schema.parse({ cfgs: [[3, 0, 16, 0, 1, 2], [4, 16, 16, 0, 0, 1]] })).toThrow(/odd/);
    expect(() => mobileNetV3.schema.parse({ cfgs: [[3, 0, 16, 0, 1, 2], [3, 16, 16, 0, 0, 3]] })).toThrow();
    expect(() => mobileNetV3.schema.parse({ mode: 'medium' })).toThrow();
    expect(() => mobileNetV3Large.schema.parse({ mode: 'small' })).toThrow();
  });
});
