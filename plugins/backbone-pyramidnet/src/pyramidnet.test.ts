import type { BuildContext, Module } from '@modnas/core';
import { Slot, setTensorSeed, tf } from '@modnas/core';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { pyramidNet, pyramidNetPredefinedConstructor } from './components.js';
import type { BottleneckBlock , PyramidNet} from './model.js';
import { GroupConv, pyRound } from './model.js';

/**
 * The original PyramidNet (CreeperLin/modnas dev, arch_space/torch/networks/pyramidnet.py) with its
 * Slots filled by PyramidNetPredefinedConstructor, re-created and counted under PyTorch 1.13
 * (/usr/bin/python3): parameters, BN running-stat elements, and per block [chn_in, chn, chn x ratio, stride].
 */
const DEFAULTS = { params10: 1162242, params100: 1185372, bn: 29344 }; // chn 16, groups 3, blocks 12, alpha 48, ratio 4, conv_groups 1
const DEFAULT_BLOCKS = [
  [16, 17, 68, 1], [68, 19, 76, 1], [76, 20, 80, 1], [80, 21, 84, 1], [84, 23, 92, 1], [92, 24, 96, 1], [96, 25, 100, 1], [100, 27, 108, 1], [108, 28, 112, 1], [112, 29, 116, 1], [116, 31, 124, 1], [124, 32, 128, 1],
  [128, 33, 132, 2], [132, 35, 140, 1], [140, 36, 144, 1], [144, 37, 148, 1], [148, 39, 156, 1], [156, 40, 160, 1], [160, 41, 164, 1], [164, 43, 172, 1], [172, 44, 176, 1], [176, 45, 180, 1], [180, 47, 188, 1], [188, 48, 192, 1],
  [192, 49, 196, 2], [196, 51, 204, 1], [204, 52, 208, 1], [208, 53, 212, 1], [212, 55, 220, 1], [220, 56, 224, 1], [224, 57, 228, 1], [228, 59, 236, 1], [236, 60, 240, 1], [240, 61, 244, 1], [244, 63, 252, 1], [252, 64, 256, 1],
];
const PYRAMIDNET_272 = { params: 26274082, bn: 210864 }; // blocks 30, alpha 200, 10 classes
const TINY = { params: 5454, bn: 556, blocks: [[4, 5, 10, 1], [10, 6, 12, 1], [12, 7, 14, 2], [14, 8, 16, 1], [16, 9, 18, 2], [18, 10, 20, 1]] }; // chn 4, 5 classes, blocks 2, ratio 2, alpha 6
const TINY_CG2 = [[4, 4, 8, 1], [8, 6, 12, 1], [12, 6, 12, 2], [12, 8, 16, 1], [16, 8, 16, 2], [16, 10, 20, 1]]; // as TINY, conv_groups 2

const bufferSize = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);
const progression = (net: PyramidNet): number[][] => net.blockList().map((b) => [b.chnIn, b.chn, b.chnOut, b.stride]);

async function build(config: Record<string, unknown>, numClasses = 10, ctx: BuildContext = makeBuildContext()): Promise<PyramidNet> {
  return (await pyramidNet.create(pyramidNet.schema.parse(config), ctx, { numClasses, inputShape: [16, 16, 3] })) as PyramidNet;
}
async function fill(net: Module, ctx: BuildContext = makeBuildContext()): Promise<Module> {
  return (await pyramidNetPredefinedConstructor.create({}, ctx, undefined)).apply(net, ctx);
}
const tinyConfig = { chn: 4, blocks: 2, alpha: 6, bottleneck_ratio: 2 };

describe('PyramidNet: the original architecture', () => {
  it('at the defaults (PyramidNet-110, alpha 48): channel progression, and filled, weights as the original (10 and 100 classes)', async () => {
    for (const [numClasses, want] of [[10, DEFAULTS.params10], [100, DEFAULTS.params100]] as const) {
      const net = await build({}, numClasses);
      expect(progression(net)).toEqual(DEFAULT_BLOCKS);
      expect(Slot.find(net).map(([, s]) => [s.chnIn, s.chnOut, s.stride, s.args.groups])).toEqual(DEFAULT_BLOCKS.map(([, c, , s]) => [c, c, s, 1]));
      await fill(net);
      expect(net.numParams()).toBe(want);
      expect(bufferSize(net)).toBe(DEFAULTS.bn);
      net.dispose();
    }
  });

  it('PyramidNet-272, alpha 200: weights as the original', async () => {
    const net = await build({ blocks: 30, alpha: 200 });
    await fill(net);
    expect([net.numParams(), bufferSize(net), net.chnFin]).toEqual([PYRAMIDNET_272.params, PYRAMIDNET_272.bn, 864]);
    net.dispose();
  });

  it('a tiny PyramidNet: progression, weights, output shape; conv_groups rounds the channels down to its multiple', async () => {
    const net = await build(tinyConfig, 5);
    expect(progression(net)).toEqual(TINY.blocks);
    await fill(net);
    expect([net.numParams(), bufferSize(net)]).toEqual([TINY.params, TINY.bn]);
    net.eval();
    const y = tf.tidy(() => net.call(tf.randomNormal([2, 16, 16, 3])));
    expect(y.shape).toEqual([2, 5]);
    y.dispose();
    net.dispose();
    const grouped = await build({ ...tinyConfig, conv_groups: 2 }, 5);
    expect(progression(grouped)).toEqual(TINY_CG2);
    expect(Slot.find(grouped).map(([, s]) => s.args.groups)).toEqual([2, 2, 2, 2, 2, 2]);
    grouped.dispose();
  });

  it("ends with the last block's width where the original's int() of the summed increments falls short (alpha 48, 18 blocks: 63.99...)", async () => {
    const net = await build({ blocks: 18 });
    expect(net.blockList().at(-1)!.chnOut).toBe(256);
    expect(net.chnFin).toBe(256);
    expect(net.fc.inFeatures).toBe(256);
    net.dispose();
  });

  it('rounds as Python: halves to even', () => {
    expect([0.5, 1.5, 2.5, 16.5, 17.5, 2.4, 2.6].map(pyRound)).toEqual([0, 2, 2, 16, 18, 2, 3]);
  });
});

describe('PyramidNet blocks: zero-padded shortcuts', () => {
  it('adds the input, zero-padded to the wider output, to the residual (stride 1)', async () => {
    const net = await build(tinyConfig, 5);
    await fill(net);
    net.eval();
    const block = net.blockList()[0];
    expect([block.chnIn, block.chnOut]).toEqual([4, 10]);
    const x = tf.randomNormal([2, 6, 6, 4]);
    const d = tf.sub(block.call(x), block.residual(x));
    // the first 4 channels carry x, the other 6 nothing
    expect(tf.max(tf.abs(tf.sub(tf.slice(d, [0, 0, 0, 0], [2, 6, 6, 4]), x))).dataSync()[0]).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(tf.slice(d, [0, 0, 0, 4], [2, 6, 6, 6]))).dataSync()[0]).toBe(0);
    tf.dispose([x, d]);
    net.dispose();
  });

  it('at stride 2 the shortcut is a 2x2 average pool, keeping the last partial window of an odd map (ceil mode)', async () => {
    const net = await build(tinyConfig, 5);
    await fill(net);
    net.eval();
    const block: BottleneckBlock = net.blockList()[2];
    expect([block.chnIn, block.chnOut, block.stride]).toEqual([12, 14, 2]);
    const x = tf.randomNormal([1, 5, 5, 12]);
    const y = block.call(x);
    expect(y.shape).toEqual([1, 3, 3, 14]);
    const d = tf.sub(y, block.residual(x));
    // the corner window (4, 4) covers one element: the pool passes it unchanged
    const corner = tf.slice(d, [0, 2, 2, 0], [1, 1, 1, 12]);
    expect(tf.max(tf.abs(tf.sub(corner, tf.slice(x, [0, 4, 4, 0], [1, 1, 1, 12])))).dataSync()[0]).toBeLessThan(1e-5);
    // the first window averages x[0:2, 0:2]
    const first = tf.slice(d, [0, 0, 0, 0], [1, 1, 1, 12]);
    const mean = tf.mean(tf.slice(x, [0, 0, 0, 0], [1, 2, 2, 12]), [1, 2], true);
    expect(tf.max(tf.abs(tf.sub(first, mean))).dataSync()[0]).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(tf.slice(d, [0, 0, 0, 12], [1, 3, 3, 2]))).dataSync()[0]).toBe(0);
    tf.dispose([x, y, d, corner, first, mean]);
    net.dispose();
  });

  it('PyramidNetPredefinedConstructor fills each Slot with BN, ReLU, 3x3 conv (bias, the stride); grouped convs other than depthwise are refused', async () => {
    const net = await build(tinyConfig, 5);
    await fill(net);
    const cell = net.blockList()[2].cell.impl as GroupConv;
    expect(cell).toBeInstanceOf(GroupConv);
    expect(cell.net.children().map(([, m]) => m.constructor.name)).toEqual(['BatchNorm2d', 'ReLU', 'Conv2d']);
    net.dispose();
    const grouped = await build({ ...tinyConfig, conv_groups: 2 }, 5);
    await expect(fill(grouped)).rejects.toThrow(/asks for a conv in 2 groups/);
    grouped.dispose();
  });

  it('a training step on a tiny input changes every conv of every block and lowers the loss', async () => {
    setTensorSeed(3); // the same weights and input whatever ran before (seeds 0 ... 5 pass)
    const net = await build(tinyConfig, 3);
    await fill(net);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 7);
    const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const loss = (): tf.Scalar => tf.losses.softmaxCrossEntropy(labels, net.call(x));
    const kernels = net.namedParameters().filter(([n, p]) => n.startsWith('pyramid.') && p.rank === 4);
    expect(kernels).toHaveLength(6 * 3);
    const before = kernels.map(([, p]) => p.clone());
    const l0 = loss().dataSync()[0];
    tf.train.sgd(0.05).minimize(loss, false, net.parameters());
    kernels.forEach(([n, p], i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(p, before[i]))).dataSync()[0]), n).toBeGreaterThan(0));
    expect(loss().dataSync()[0]).toBeLessThan(l0);
    tf.dispose([x, labels, ...before]);
    net.dispose();
  });
});
