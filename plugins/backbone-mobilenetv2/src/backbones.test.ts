import type { BuildContext, StateTransformer, Module } from '@modnas/core';
import { Slot, getRegistry, tf } from '@modnas/core';
import { archDescOf } from '@modnas/kit-mixed-op';
import opPlugin, { defaultOpConstructor } from '@modnas/construct-op';
import { BatchNorm2d } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { cifarMobileNetV2, cifarMobileNetV2Gpu, imageNetMobileNetV2, imageNetMobileNetV2Gpu, mobileNetV2 } from './backbones.js';
import { mobileNetV2PredefinedConstructor } from './constructors.js';
import original from './fixtures/original-numbers.json' with { type: 'json' };
import plugin from './index.js';
import type { MobileNetV2 } from './model.js';
import { roundFilters, roundRepeats } from './model.js';

beforeAll(() => {
  for (const p of [mbconv, basic, opPlugin]) getRegistry().register(p);
});

const tiny = { cfgs: [[0, 8, 1, 1], [1, 8, 1, 1], [6, 16, 2, 2]], dropout_rate: 0 };
const runConstructor = async (t: unknown): Promise<void> => {
  const ctx = makeBuildContext();
  const net = await mobileNetV2.create(mobileNetV2.schema.parse(tiny), ctx, { numClasses: 3, inputShape: [8, 8, 3] });
  await (t as StateTransformer).apply(net, ctx);
  tf.dispose(tf.tidy(() => net.call(tf.randomNormal([1, 8, 8, 3]))));
  net.dispose();
  ctx.space.dispose();
};

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  skipCreate: {
    MobileNetV2SearchConstructor: 'needs a mixed op from plugins/mixed-op-*; constructors.test.ts runs it with a stand-in',
  },
  step: { MobileNetV2PredefinedConstructor: runConstructor, MobileNetV2ArchDescConstructor: runConstructor },
  configs: { MobileNetV2ArchDescConstructor: { arch_desc: [null, 'MB5E3', 'IDT'] } },
});

const bufferSize = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);
const numBN = (m: Module): number => [...m.modules()].filter(([, x]) => x instanceof BatchNorm2d).length;

const VARIANTS = {
  ImageNet_MobileNetV2: imageNetMobileNetV2,
  CIFAR_MobileNetV2: cifarMobileNetV2,
  ImageNet_MobileNetV2_GPU: imageNetMobileNetV2Gpu,
  CIFAR_MobileNetV2_GPU: cifarMobileNetV2Gpu,
} as const;

/**
 * The original's numbers (CreeperLin/modnas@21a5166 under PyTorch 1.13, /work/notes/modnas-original.md
 * section 1.5): [Slots, strides of the table, (params, BN running-stat elements, BN layers) for
 * predefined / every Slot MB3E6, each for 1000 and 10 classes]. CIFAR variants have the ImageNet
 * counts (strides change no weights).
 */
const ORIGINAL = {
  ori: { slots: 17, predefined: { 1000: 3504872, 10: 2236682, bn: 34112, nbn: 52 }, allMB3E6: { 1000: 3515720, 10: 2247530, bn: 34816, nbn: 53 } },
  gpu: { slots: 22, predefined: { 1000: 4684776, 10: 3416586, bn: 48672, nbn: 67 }, allMB3E6: { 1000: 4695624, 10: 3427434, bn: 49376, nbn: 68 } },
};
const STRIDES: Record<keyof typeof VARIANTS, number[]> = {
  ImageNet_MobileNetV2: [2, 1, 2, 2, 2, 1, 2, 1],
  CIFAR_MobileNetV2: [1, 1, 2, 2, 2, 1, 1, 1],
  ImageNet_MobileNetV2_GPU: [2, 1, 2, 2, 2, 1, 2, 1],
  CIFAR_MobileNetV2_GPU: [1, 1, 2, 2, 2, 1, 1, 1],
};

async function build(id: keyof typeof VARIANTS, numClasses: number, ctx: BuildContext = makeBuildContext()): Promise<MobileNetV2> {
  const def = VARIANTS[id];
  return (await def.create(def.schema.parse({}), ctx, { numClasses, inputShape: [32, 32, 3] })) as MobileNetV2;
}

async function fill(net: Module, how: 'predefined' | 'allMB3E6', ctx: BuildContext = makeBuildContext()): Promise<Module> {
  const t = how === 'predefined' ? await mobileNetV2PredefinedConstructor.create({}, ctx, undefined) : await defaultOpConstructor.create({ op: 'MB3E6' }, ctx, undefined);
  return t.apply(net, ctx);
}

describe('MobileNetV2 backbones: the original architectures', () => {
  for (const id of Object.keys(VARIANTS) as Array<keyof typeof VARIANTS>) {
    const o = id.endsWith('_GPU') ? ORIGINAL.gpu : ORIGINAL.ori;
    for (const numClasses of [10, 1000] as const) {
      it(`${id}, ${numClasses} classes: Slots, strides, parameters and BN statistics equal the original's`, async () => {
        const net = await build(id, numClasses);
        expect(Slot.find(net)).toHaveLength(o.slots);
        expect(net.s).toEqual(STRIDES[id]);
        expect(net.blocks().filter((b) => b.residual)).toHaveLength(id.endsWith('_GPU') ? 15 : 10);
        await fill(net, 'predefined');
        expect([net.numParams(), bufferSize(net), numBN(net)]).toEqual([o.predefined[numClasses], o.predefined.bn, o.predefined.nbn]);
        net.dispose();
        const all = await build(id, numClasses);
        await fill(all, 'allMB3E6');
        expect([all.numParams(), bufferSize(all), numBN(all)]).toEqual([o.allMB3E6[numClasses], o.allMB3E6.bn, o.allMB3E6.nbn]);
        all.dispose();
      });
    }
  }

  it('each variant builds again unchanged after a CIFAR one (the original edits its table in place)', async () => {
    const c = await build('CIFAR_MobileNetV2', 10);
    const i = await build('ImageNet_MobileNetV2', 10);
    expect(i.s).toEqual(STRIDES.ImageNet_MobileNetV2);
    c.dispose();
    i.dispose();
  });

  /** Features, then the head on them: one forward pass gives both shapes. */
  const run = (net: MobileNetV2, shape: number[]): number[][] => {
    const [f, y] = tf.tidy(() => {
      const feat = net.features(tf.randomNormal(shape));
      return [feat, net.fc.call(net.dropout.call(net.avgpool.call(feat)))];
    });
    const out = [f.shape, y.shape];
    tf.dispose([f, y]);
    return out;
  };

  it('CIFAR variants map 32x32 inputs to 4x4 features and logits of the class count', async () => {
    for (const [id, numClasses] of [['CIFAR_MobileNetV2', 1000], ['CIFAR_MobileNetV2_GPU', 10]] as const) {
      const net = (await fill(await build(id, numClasses), 'predefined')) as MobileNetV2;
      net.eval();
      expect(run(net, [1, 32, 32, 3])).toEqual([[1, 4, 4, 1280], [1, numClasses]]);
      net.dispose();
    }
  });

  it('ImageNet variants downsample 32 times: 224 -> 7x7 features, other sizes to ceil(size/32)', async () => {
    const net = (await fill(await build('ImageNet_MobileNetV2', 1000), 'predefined')) as MobileNetV2;
    net.eval();
    expect(run(net, [1, 224, 224, 3])).toEqual([[1, 7, 7, 1280], [1, 1000]]);
    net.dispose();
    const gpu = (await fill(await build('ImageNet_MobileNetV2_GPU', 10), 'predefined')) as MobileNetV2;
    gpu.eval();
    expect(run(gpu, [2, 40, 40, 3])).toEqual([[2, 2, 2, 1280], [2, 10]]);
    gpu.dispose();
  });

  it('has the original\'s layout: names, block order, one Slot per block with the block\'s expansion', async () => {
    const net = await build('ImageNet_MobileNetV2', 10);
    expect(net.children().map(([n]) => n)).toEqual(['conv_first', 'bottlenecks', 'conv_last', 'avgpool', 'dropout', 'fc']);
    const slots = Slot.find(net);
    expect(slots[0][0]).toBe('bottlenecks.Bottlenecks_0.MobileInvertedResidualBlock_0_0.conv');
    expect(slots[16][0]).toBe('bottlenecks.Bottlenecks_6.MobileInvertedResidualBlock_6_0.conv');
    expect(slots.map(([, s]) => [s.chnIn, s.chnOut, s.stride, s.args.expansion])).toEqual([
      [32, 16, 1, 1],
      [16, 24, 2, 6], [24, 24, 1, 6],
      [24, 32, 2, 6], [32, 32, 1, 6], [32, 32, 1, 6],
      [32, 64, 2, 6], [64, 64, 1, 6], [64, 64, 1, 6], [64, 64, 1, 6],
      [64, 96, 1, 6], [96, 96, 1, 6], [96, 96, 1, 6],
      [96, 160, 2, 6], [160, 160, 1, 6], [160, 160, 1, 6],
      [160, 320, 1, 6],
    ]);
    await fill(net, 'predefined');
    expect(Slot.find(net).map(([, s]) => archDescOf(s.impl))).toEqual(['MB3E1', ...Array(16).fill('MB3E6')]);
    net.dispose();
  });

  it('the residual is added outside the Slot: a Slot of zeros makes its block the identity', async () => {
    const ctx = makeBuildContext();
    const net = (await mobileNetV2.create(mobileNetV2.schema.parse({ cfgs: [[0, 4, 1, 1], [1, 4, 2, 1]], dropout_rate: 0 }), ctx, { numClasses: 2 })) as MobileNetV2;
    const [b0, b1] = net.blocks();
    expect([b0.residual, b1.residual]).toEqual([true, true]);
    for (const b of [b0, b1]) b.conv.fill(await ctx.build('primitive', 'NIL', { chnIn: 4, chnOut: 4, stride: 1 }));
    const x = tf.randomNormal([1, 5, 5, 4]);
    const y = tf.tidy(() => net.bottlenecks.call(x));
    expect(tf.tidy(() => tf.abs(tf.sub(x, y)).max().dataSync()[0])).toBe(0);
    tf.dispose([x, y]);
    net.dispose();
  });
});

describe('MobileNetV2 (generic): width and depth multipliers, class count, input channels', () => {
  const table = original.width as Record<string, { params: number; bn: number; slots: number; c: number[]; n: number[]; last: number }>;
  for (const [key, want] of Object.entries(table)) {
    it(`${key}: channels, repeats, parameters and BN statistics equal the original's`, async () => {
      const [, w, d, n] = /w=([\d.]+) d=([\d.]+) n=(\d+)/.exec(key)!.map(Number);
      const ctx = makeBuildContext();
      const net = (await mobileNetV2.create(mobileNetV2.schema.parse({ width_coeff: w, depth_coeff: d, n_classes: n }), ctx, undefined)) as MobileNetV2;
      expect([net.c, net.n, net.lastChannels, Slot.find(net).length]).toEqual([want.c, want.n, want.last, want.slots]);
      await fill(net, 'predefined', ctx);
      expect([net.numParams(), bufferSize(net)]).toEqual([want.params, want.bn]);
      net.dispose();
    });
  }

  it('rounds as the original (EfficientNet-style: nearest multiple of 8, never 10% down; repeats up)', () => {
    expect([roundFilters(32, 0.35), roundFilters(16, 0.35), roundFilters(1280, 1.4), roundFilters(24, 0.75), roundFilters(32, 0), roundFilters(20, 1)]).toEqual([16, 8, 1792, 24, 32, 24]);
    expect([roundRepeats(3, 1.2), roundRepeats(1, 1.2), roundRepeats(4, 0)]).toEqual([4, 2, 4]);
  });

  it('takes the class count and input channels from the config, else the dataset, else 1000 and 3', async () => {
    const ctx = makeBuildContext();
    const parse = (c: Record<string, unknown>) => imageNetMobileNetV2.schema.parse(c);
    const cases: Array<[Record<string, unknown>, { numClasses?: number; inputShape?: [number, number, number] } | undefined, number, number]> = [
      [{}, undefined, 1000, 3],
      [{}, { numClasses: 7, inputShape: [28, 28, 1] }, 7, 1],
      [{ num_classes: 5, chn_in: 4 }, { numClasses: 7, inputShape: [28, 28, 1] }, 5, 4],
      [{ n_classes: 10 }, undefined, 10, 3],
    ];
    for (const [config, input, classes, chnIn] of cases) {
      const net = (await imageNetMobileNetV2.create(parse(config), ctx, input)) as MobileNetV2;
      expect([net.fc.outFeatures, (net.conv_first.at(0) as unknown as { chnIn: number }).chnIn]).toEqual([classes, chnIn]);
      net.dispose();
    }
    await expect(Promise.resolve().then(() => imageNetMobileNetV2.create(parse({ num_classes: 5, n_classes: 6 }), ctx, undefined))).rejects.toThrow(/disagree/);
  });
});
