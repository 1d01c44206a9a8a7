import type { AnyComponentDef, Module } from '@modnas/core';
import { ArchSpace, Slot, getRegistry, setTensorSeed, tf } from '@modnas/core';
import { buildMixedOp } from '@modnas/kit-mixed-op';
import weightedSum from '@modnas/mixed-op-weighted-sum';
import { Conv2d, Linear } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { resNetBackbones } from './backbones.js';
import { resNetPredefinedConstructor } from './constructors.js';
import type { ResNet } from './model.js';

beforeAll(() => {
  for (const p of [basic, weightedSum]) getRegistry().register(p);
});

const def = (id: string): AnyComponentDef => {
  const d = resNetBackbones.find((c) => c.id === id);
  if (!d) throw new Error(`no ${id}`);
  return d;
};
const make = async (id: string, config: Record<string, unknown>, input?: unknown): Promise<ResNet> => {
  const d = def(id);
  return (await d.create(d.schema.parse(config), makeBuildContext(), input)) as ResNet;
};
/** The plain network: every Slot a 3x3 conv (ResNetPredefinedConstructor). */
const predefined = async (m: Module, useBn = false): Promise<Module> => {
  const ctx = makeBuildContext();
  const t = await resNetPredefinedConstructor.create(resNetPredefinedConstructor.schema.parse({ use_bn: useBn }), ctx, undefined);
  return t.apply(m, ctx);
};
const numBuffers = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);
const seq = (n: number, a: number, b: number, f: (v: number) => number = Math.sin): Float32Array => Float32Array.from({ length: n }, (_, i) => f(a * i + b));
const slots = (m: Module): Slot[] => Slot.find(m, { nested: true }).map(([, s]) => s);

describe('ResNet / ResNeXt backbones (the original networks/resnet.py)', () => {
  it('registers the 22 networks under the original names', () => {
    const ids = resNetBackbones.map((c) => c.id);
    for (const p of ['CIFAR', 'ImageNet']) {
      for (const n of ['ResNet', 'ResNet-10', 'ResNet-18', 'ResNet-32', 'ResNet-34', 'ResNet-50', 'ResNet-56', 'ResNet-101', 'ResNet-152', 'ResNeXt-50', 'ResNeXt-101']) expect(ids).toContain(`${p}-${n}`);
    }
    expect(ids).toHaveLength(22);
  });

  it("has the original's parameter and BN-statistic counts once its Slots are filled (PyTorch 1.13)", async () => {
    // networks/resnet.py (CreeperLin/modnas dev) re-created in torch 1.13 with its Slots converted as
    // ResNetPredefinedConstructor does (3x3 conv, the Slot's groups, BN only with use_bn), input 3
    // channels; sum(p.numel()) and the BN running mean/var elements. (torchvision's resnet50 has 25557032:
    // the original has no BN after the Slots by default.)
    // [id, config, constructor use_bn, params, BN statistics]
    const original: Array<[string, Record<string, unknown>, boolean, number, number]> = [
      ['CIFAR-ResNet-18', { chn: 64, n_classes: 10 }, false, 11166282, 1920],
      ['CIFAR-ResNet-56', { chn: 16, n_classes: 10 }, false, 851738, 224],
      ['CIFAR-ResNet-32', { chn: 16, n_classes: 10 }, false, 464666, 224],
      ['CIFAR-ResNeXt-50', { chn: 16, n_classes: 10 }, false, 6297562, 24608],
      ['ImageNet-ResNet-50', { chn: 64, n_classes: 1000 }, false, 25549480, 45568],
      ['ImageNet-ResNet-10', { chn: 16, n_classes: 10 }, false, 309786, 480],
      ['CIFAR-ResNet', { chn: 4, n_classes: 10, layers: [1, 1, 1, 1], groups: 2 }, false, 16566, 120],
      // every knob: bottleneck, 2 stages, groups 2 x width 8, BN in the blocks and after the Slots, expansion 2
      ['ImageNet-ResNet', { chn: 16, n_classes: 7, layers: [1, 2], bottleneck: true, groups: 2, width_per_group: 8, use_bn: true, expansion: 2 }, true, 24695, 1024],
    ];
    for (const [id, config, bn, params, stats] of original) {
      const m = await predefined(await make(id, config), bn);
      expect([id, m.numParams(), numBuffers(m)]).toEqual([id, params, stats]);
      m.dispose();
    }
  });

  it("computes the original's outputs (PyTorch 1.13, float64, BN in training mode)", async () => {
    // The re-created original with its Slots converted as ResNetPredefinedConstructor does; conv k (in
    // module order, the same in both) gets w[i] = cos(0.37 i + k) / sqrt(fan_in) in our [kh, kw, in/g,
    // out] order (permuted to torch's), the classifier the same in our [in, out] order and bias 0; the
    // input x = sin(0.7 i + 0.3) in NHWC order, batch 2; the [2, 3] logits, row by row.
    const cases: Array<[string, Record<string, unknown>, boolean, number, number[]]> = [
      ['CIFAR-ResNet', { chn: 4, n_classes: 3, layers: [1, 1], bottleneck: true, groups: 2, width_per_group: 2, use_bn: true }, true, 8, [-0.08628, -0.04647, -0.00038, -0.04785, 0.0191, 0.08346]],
      ['ImageNet-ResNet-10', { chn: 4, n_classes: 3 }, false, 16, [-0.18857, -0.39649, -0.55075, 0.35428, 0.46647, 0.51552]],
    ];
    for (const [id, config, bn, hw, want] of cases) {
      const m = await predefined(await make(id, config), bn);
      let k = 0;
      tf.tidy(() => {
        for (const [, c] of m.modules()) {
          if (c instanceof Conv2d) {
            const [kh, kw, ig] = c.weight.shape;
            c.weight.assign(tf.tensor(seq(c.weight.size, 0.37, k++, Math.cos).map((v) => v / Math.sqrt(kh * kw * ig)), c.weight.shape));
          } else if (c instanceof Linear) {
            c.weight.assign(tf.tensor(seq(c.weight.size, 0.37, k++, Math.cos).map((v) => v / Math.sqrt(c.inFeatures)), c.weight.shape));
            c.bias?.assign(tf.zerosLike(c.bias));
          }
        }
      });
      const x = tf.tensor4d(seq(2 * hw * hw * 3, 0.7, 0.3), [2, hw, hw, 3]);
      const y = m.call(x);
      expect(y.shape).toEqual([2, 3]);
      const got = Array.from(y.dataSync());
      for (let i = 0; i < want.length; i++) expect(got[i], `${id} y[${i}]`).toBeCloseTo(want[i], 3);
      tf.dispose([x, y]);
      m.dispose();
    }
  });

  it('puts a Slot at every 3x3 conv, the first of each block with its stride and (ResNeXt) groups', async () => {
    const r18 = await make('CIFAR-ResNet-18', { chn: 4 });
    const s18 = slots(r18);
    expect(s18).toHaveLength(16);
    expect(s18.slice(0, 6).map((s) => [s.chnIn, s.chnOut, s.stride])).toEqual([[4, 4, 1], [4, 4, 1], [4, 4, 1], [4, 4, 1], [4, 8, 2], [8, 8, 1]]);
    r18.dispose();
    const x50 = await make('ImageNet-ResNeXt-50', { chn: 16 });
    const sx = slots(x50);
    expect(sx).toHaveLength(16);
    // 32x4d: bottleneck widths 128, 256, 512, 1024, the 3x3 convs grouped in 32
    expect([sx[0], sx[3], sx[7], sx[13]].map((s) => [s.chnIn, s.stride, s.args.groups])).toEqual([[128, 1, 32], [256, 2, 32], [512, 2, 32], [1024, 2, 32]]);
    expect(x50.chnOut).toBe(512);
    x50.dispose();
  });

  it("takes the dataset's classes and channels, else 10 (CIFAR) or 1000 (ImageNet), and outputs [batch, classes]", async () => {
    for (const [id, input, hw, classes] of [
      ['CIFAR-ResNet-10', { numClasses: 5, inputShape: [16, 16, 1] }, 16, 5],
      ['ImageNet-ResNet-10', undefined, 16, 1000],
      ['CIFAR-ResNet-32', undefined, 8, 10],
      ['ImageNet-ResNet-50', { numClasses: 3, inputShape: [16, 16, 2] }, 16, 3],
    ] as const) {
      const m = await predefined(await make(id, { chn: 4 }, input));
      const y = tf.tidy(() => m.call(tf.randomNormal([2, hw, hw, input?.inputShape[2] ?? 3])));
      expect([id, ...y.shape]).toEqual([id, 2, classes]);
      y.dispose();
      m.dispose();
    }
  });

  it('runs a ResNeXt (grouped 3x3 convs) forward', async () => {
    const m = await predefined(await make('CIFAR-ResNeXt-50', { chn: 4 }));
    const convs = [...m.modules()].map(([, c]) => c).filter((c): c is Conv2d => c instanceof Conv2d && c.groups === 32);
    expect(convs).toHaveLength(16);
    expect(convs[0].weight.shape).toEqual([3, 3, 4, 128]);
    const y = tf.tidy(() => m.call(tf.randomNormal([2, 8, 8, 3])));
    expect(y.shape).toEqual([2, 10]);
    expect(Number.isFinite(tf.tidy(() => tf.sum(y).dataSync()[0]))).toBe(true);
    y.dispose();
    m.dispose();
  });

  it('trains: one SGD step on a tiny input changes the weights (stem, Slot convs, classifier) and lowers the loss', async () => {
    setTensorSeed(3); // the same initial weights whatever ran before (any seed of 0 ... 9 passes)
    const m = await predefined(await make('CIFAR-ResNet-10', { chn: 4, n_classes: 3 }));
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 1);
    const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const loss = (): tf.Scalar => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(labels, m.call(x));
    const vars = m.parameters();
    const before = vars.map((v) => v.clone());
    const l0 = tf.tidy(() => loss().dataSync()[0]);
    const opt = tf.train.sgd(0.01);
    tf.tidy(() => {
      opt.minimize(loss, false, vars);
    });
    const l1 = tf.tidy(() => loss().dataSync()[0]);
    const changed = vars.filter((v, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(v, before[i]))).dataSync()[0]) > 0);
    const names = new Map(m.namedParameters().map(([n, v]) => [v, n]));
    const changedNames = changed.map((v) => names.get(v) ?? '');
    expect(changedNames).toContain('conv1.0.weight');
    expect(changedNames).toContain('fc.weight');
    expect(changedNames.some((n) => /^layers\.0\.0\.conv1\..*weight$/.test(n))).toBe(true);
    expect(changed.length).toBeGreaterThan(vars.length / 2);
    expect(l1).toBeLessThan(l0);
    tf.dispose([x, labels, ...before]);
    opt.dispose();
    m.dispose();
  });

  it("is searchable: its Slots take mixed ops over the primitives (NC3, FC3, IDT) whose α get gradients", async () => {
    const space = new ArchSpace();
    const ctx = makeBuildContext({ space });
    const m = await make('CIFAR-ResNet-10', { chn: 4 });
    for (const s of slots(m)) s.fill(await buildMixedOp(s, 'WeightedSum', ['NC3', 'FC3', 'IDT'], ctx));
    const alphas = space.tensors().map((t) => t.variable);
    expect(alphas).toHaveLength(8);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.mean(tf.square(m.call(tf.randomNormal([2, 8, 8, 3])))), alphas);
      expect(Object.values(grads).filter((g) => tf.sum(tf.abs(g)).dataSync()[0] > 0).length).toBe(8);
    });
    m.dispose();
    space.dispose();
  });

  it('refuses configs the network cannot build, naming the keys', async () => {
    await expect(make('CIFAR-ResNet-18', { n_classes: 10, num_classes: 5 })).rejects.toMatchObject({ code: 'MODNAS_E_CONFIG_INVALID', message: expect.stringMatching(/num_classes \(5\) and n_classes \(10\)/) });
    await expect(make('CIFAR-ResNet-18', { chn: 4, groups: 3 })).rejects.toMatchObject({ code: 'MODNAS_E_CONFIG_INVALID', message: expect.stringMatching(/groups \(3\)/) });
    await expect(make('CIFAR-ResNet-18', { chn: 4, expansion: 2 })).rejects.toMatchObject({ code: 'MODNAS_E_CONFIG_INVALID', message: expect.stringMatching(/expansion 2 needs bottleneck/) });
    expect(def('CIFAR-ResNeXt-50').schema.safeParse({ groups: 8 }).success).toBe(false);
    expect(def('CIFAR-ResNet-50').schema.safeParse({ layers: [1] }).success).toBe(false);
  });
});
