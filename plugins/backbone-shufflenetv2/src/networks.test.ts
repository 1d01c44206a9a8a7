import type { BuildContext, CategoricalParam, Module, StateTransformer } from '@modnas/core';
import { Slot, getRegistry, setTensorSeed, tf } from '@modnas/core';
import { defaultRecursiveArchDescConstructor } from '@modnas/construct-recursive-arch-desc';
import { recursiveDesc } from '@modnas/export-recursive';
import indexOp from '@modnas/mixed-op-index';
import { BatchNorm2d } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { cifarShuffleNetV2, cifarShuffleNetV2Oneshot, shuffleNetV2, shuffleNetV2Oneshot } from './backbones.js';
import { shuffleNetV2PredefinedConstructor, shuffleNetV2SearchConstructor } from './constructors.js';
import plugin from './index.js';
import type { ShuffleNetV2 } from './model.js';
import type { ShuffleUnit } from './shuffle-unit.js';

beforeAll(() => {
  for (const p of [basic, indexOp, plugin]) getRegistry().register(p);
});

const NETS = { shufflenetv2: shuffleNetV2, cifar_shufflenetv2: cifarShuffleNetV2, shufflenetv2_oneshot: shuffleNetV2Oneshot, cifar_shufflenetv2_oneshot: cifarShuffleNetV2Oneshot } as const;
type NetId = keyof typeof NETS;

/**
 * The original networks at their default cfgs with every Slot filled by ShuffleNetV2PredefinedConstructor
 * (SHU3), re-created from CreeperLin/modnas dev (arch_space/torch/networks/shufflenetv2.py) and counted
 * under PyTorch 1.13: [params for 1000 classes, params for 10 classes, BN running-stat elements, Slots].
 * The CIFAR ShuffleNetV2 has the ImageNet counts (only the stem's stride differs).
 */
const ORIGINAL: Record<NetId, [number, number, number, number]> = {
  shufflenetv2: [2278760, 1265000, 16180, 16],
  cifar_shufflenetv2: [2278760, 1265000, 16180, 16],
  shufflenetv2_oneshot: [3154880, 2141120, 22432, 20],
  cifar_shufflenetv2_oneshot: [3049280, 2035520, 21504, 20],
};
/** The Slots' (chnIn, chnOut, stride) of the original, per stage: [chnIn, chnOut, stride of the first unit, units]. */
const STAGES: Record<NetId, Array<[number, number, number, number]>> = {
  shufflenetv2: [[24, 116, 2, 4], [116, 232, 2, 8], [232, 464, 2, 4]],
  cifar_shufflenetv2: [[24, 116, 2, 4], [116, 232, 2, 8], [232, 464, 2, 4]],
  shufflenetv2_oneshot: [[16, 64, 2, 4], [64, 160, 2, 4], [160, 320, 2, 8], [320, 640, 2, 4]],
  cifar_shufflenetv2_oneshot: [[24, 64, 2, 4], [64, 160, 2, 4], [160, 320, 2, 8], [320, 640, 1, 4]],
};
const slotsOf = (id: NetId): Array<[number, number, number]> =>
  STAGES[id].flatMap(([i, o, s, n]) => Array.from({ length: n }, (_, j): [number, number, number] => (j === 0 ? [i, o, s] : [o, o, 1])));

const bufferSize = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);

async function build(id: NetId, config: Record<string, unknown>, numClasses: number, ctx: BuildContext = makeBuildContext()): Promise<ShuffleNetV2> {
  const def = NETS[id];
  return (await def.create(def.schema.parse(config), ctx, { numClasses, inputShape: [32, 32, 3] })) as ShuffleNetV2;
}
async function construct(def: typeof shuffleNetV2PredefinedConstructor | typeof shuffleNetV2SearchConstructor, config: Record<string, unknown>, net: Module, ctx: BuildContext): Promise<Module> {
  const t: StateTransformer = await def.create(def.schema.parse(config) as never, ctx, undefined);
  return t.apply(net, ctx);
}

describe('ShuffleNetV2 backbones: the original architectures', () => {
  /** [input side, feature map side]: 32x32 inputs for the ImageNet nets (stride 32), 16x16 for the CIFAR ones (stride 16 / 8). */
  const SIDES: Record<NetId, [number, number]> = { shufflenetv2: [32, 1], cifar_shufflenetv2: [16, 2], shufflenetv2_oneshot: [32, 1], cifar_shufflenetv2_oneshot: [16, 2] };
  for (const id of Object.keys(NETS) as NetId[]) {
    it(`${id}: Slots and, filled with SHU3, weights as the original (1000 and 10 classes); outputs [batch, classes] at the table's stride`, async () => {
      const [p1000, p10, bn, slots] = ORIGINAL[id];
      for (const [numClasses, want] of [[1000, p1000], [10, p10]] as const) {
        const ctx = makeBuildContext();
        const net = await build(id, {}, numClasses, ctx);
        expect(net.units().map((s) => [s.chnIn, s.chnOut, s.stride])).toEqual(slotsOf(id));
        expect(net.units()).toHaveLength(slots);
        await construct(shuffleNetV2PredefinedConstructor, {}, net, ctx);
        expect(net.numParams()).toBe(want);
        expect(bufferSize(net)).toBe(bn);
        if (numClasses === 10) {
          const [size, side] = SIDES[id];
          net.eval();
          const [feat, y] = tf.tidy(() => {
            const x = tf.randomNormal([2, size, size, 3]);
            return [net.features.call(x), net.call(x)];
          });
          expect(feat.shape).toEqual([2, side, side, 1024]);
          expect(y.shape).toEqual([2, 10]);
          tf.dispose([feat, y]);
        }
        net.dispose();
      }
    });
  }

  it("initialises what it holds as the original: first conv N(0, 0.01), BN bias 1e-4, classifier N(0, 0.01) without bias", async () => {
    const net = await build('shufflenetv2', {}, 1000);
    const stemW = net.features.at(0).namedParameters()[0][1];
    const std = (t: tf.Tensor): number => tf.tidy(() => Math.sqrt(tf.moments(t).variance.dataSync()[0]));
    expect(std(stemW)).toBeGreaterThan(0.008);
    expect(std(stemW)).toBeLessThan(0.012);
    expect(std(net.classifier.weight)).toBeCloseTo(0.01, 3);
    expect(net.classifier.bias).toBeUndefined();
    const bn = [...net.modules()].map(([, m]) => m).find((m): m is BatchNorm2d => m instanceof BatchNorm2d)!;
    expect(Array.from(bn.beta!.dataSync()).every((v) => Math.abs(v - 1e-4) < 1e-9)).toBe(true);
    net.dispose();
  });

  it('takes a table: cfgs rows [c, n, s, e] give chn_mid = c // 2 x e to the Slots; stride 4 is a conv and a max pool', async () => {
    const net = await build('shufflenetv2', { cfgs: [[8, 1, 4, 1], [16, 2, 2, 0.5], [32, 1, 1, 1]], dropout_rate: 0 }, 3);
    expect(net.units().map((s) => s.args.chn_mid)).toEqual([4, 4]);
    expect(net.features.at(0).children().map(([, m]) => m.constructor.name)).toEqual(['Conv2d', 'BatchNorm2d', 'ReLU', 'MaxPool3x3s2']);
    net.dispose();
  });

  it('a training step on a tiny input changes every conv kernel of every unit and lowers the loss', async () => {
    setTensorSeed(3); // the same weights and input whatever ran before
    const ctx = makeBuildContext();
    const net = await build('cifar_shufflenetv2', { cfgs: [[8, 1, 1, 1], [16, 2, 2, 1], [32, 1, 1, 1]], dropout_rate: 0 }, 3, ctx);
    await construct(shuffleNetV2PredefinedConstructor, {}, net, ctx);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 7);
    const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const loss = (): tf.Scalar => tf.losses.softmaxCrossEntropy(labels, net.call(x));
    const units = net.units().map((s) => s.impl!);
    const before = units.map((u) => u.parameters().map((p) => p.clone()));
    const l0 = loss().dataSync()[0];
    tf.train.sgd(0.05).minimize(loss, false, net.parameters());
    units.forEach((u, i) => {
      const moved = u.parameters().map((p, j) => tf.tidy(() => tf.max(tf.abs(tf.sub(p, before[i][j]))).dataSync()[0]));
      // every conv kernel moves (BN scales and shifts that a following BN cancels get no gradient, in PyTorch too)
      const convs = moved.filter((_, j) => u.parameters()[j].rank === 4);
      expect(convs.length, `unit ${i}`).toBe(i === 0 ? 5 : 3);
      expect(Math.min(...convs), `unit ${i}`).toBeGreaterThan(0);
    });
    expect(loss().dataSync()[0]).toBeLessThan(l0);
    tf.dispose([x, labels, ...before.flat()]);
    net.dispose();
  });
});

describe('ShuffleNetV2SearchConstructor: the SPOS search space', () => {
  const TINY = { cfgs: [[8, 1, 1, 1], [16, 2, 2, 1], [32, 2, 2, 1], [64, 1, 1, 1]], dropout_rate: 0 };
  /**
   * The tiny table above (10 classes, 3 input channels) as the original's supernet: every Slot the
   * candidates SHU3, SHU5, SHU7, SHX3 plus IDT where stride 1 and chn_in == chn_out; PyTorch 1.13
   * counts 19400 params and 1968 BN running-stat elements. The subnet SHU5, IDT, SHX3, SHU7: 6968 / 576.
   */
  const SUPERNET = [19400, 1968];
  const SUBNET = [6968, 576];

  async function supernet(config: Record<string, unknown> = {}): Promise<{ net: ShuffleNetV2; ctx: BuildContext }> {
    const ctx = makeBuildContext();
    const net = await build('shufflenetv2_oneshot', TINY, 10, ctx);
    await construct(shuffleNetV2SearchConstructor, config, net, ctx);
    return { net, ctx };
  }

  it('fills every Slot with an Index mixed op over SHU3, SHU5, SHU7, SHX3 (+ IDT on the shape-keeping Slots); weights as the original supernet', async () => {
    const { net, ctx } = await supernet();
    const params = ctx.space.discrete() as CategoricalParam[];
    expect(params.map((p) => p.choices)).toEqual([
      ['SHU3', 'SHU5', 'SHU7', 'SHX3'],
      ['SHU3', 'SHU5', 'SHU7', 'SHX3', 'IDT'],
      ['SHU3', 'SHU5', 'SHU7', 'SHX3'],
      ['SHU3', 'SHU5', 'SHU7', 'SHX3', 'IDT'],
    ]);
    expect(ctx.space.size()).toBe(4n * 5n * 4n * 5n);
    expect(net.units().every((s) => s.impl?.constructor.name === 'IndexOp')).toBe(true);
    expect([net.numParams(), bufferSize(net)]).toEqual(SUPERNET);
    const y = tf.tidy(() => net.call(tf.randomNormal([2, 16, 16, 3])));
    expect(y.shape).toEqual([2, 10]);
    y.dispose();
    net.dispose();
    ctx.space.dispose();
  });

  it('takes the original\'s candidates and add_identity_op: false', async () => {
    const { net, ctx } = await supernet({ candidates: ['SHX5', 'SHU9'], add_identity_op: false });
    expect((ctx.space.discrete() as CategoricalParam[]).map((p) => p.choices)).toEqual(Array.from({ length: 4 }, () => ['SHX5', 'SHU9']));
    net.dispose();
    ctx.space.dispose();
  });

  it('exports the chosen units (DefaultRecursiveExporter) and DefaultRecursiveArchDescConstructor rebuilds that subnet: weights as the original', async () => {
    const { net, ctx } = await supernet();
    const choose = ['SHU5', 'IDT', 'SHX3', 'SHU7'];
    (ctx.space.discrete() as CategoricalParam[]).forEach((p, i) => (p.index = p.indexOf(choose[i])));
    const desc = recursiveDesc(net);
    expect(desc).toEqual({ features: { 1: 'SHU5', 2: 'IDT', 3: 'SHX3', 4: 'SHU7' } });
    net.dispose();
    ctx.space.dispose();

    const ctx2 = makeBuildContext();
    const fresh = await build('shufflenetv2_oneshot', TINY, 10, ctx2);
    await (await defaultRecursiveArchDescConstructor.create(defaultRecursiveArchDescConstructor.schema.parse({ arch_desc: desc }), ctx2, undefined)).apply(fresh, ctx2);
    expect(fresh.units().map((s) => s.impl?.constructor.name)).toEqual(['ShuffleUnit', 'IdentityOp', 'ShuffleUnit', 'ShuffleUnit']);
    expect((fresh.units()[2].impl as ShuffleUnit).xception).toBe(true);
    expect([fresh.numParams(), bufferSize(fresh)]).toEqual(SUBNET);
    expect(recursiveDesc(fresh)).toEqual(desc);
    expect(Slot.find(fresh).every(([, s]) => s.filled)).toBe(true);
    fresh.dispose();
    ctx2.space.dispose();
  });
});
