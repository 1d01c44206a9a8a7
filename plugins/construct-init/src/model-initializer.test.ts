import type { BuildContext , Module} from '@modnas/core';
import { Sequential, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, Linear, PReLU } from '@modnas/nn';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { calculateGain, defaultModelInitializerSchema } from './model-initializer.js';

const net = (): Module => new Sequential([new Conv2d(16, 32, { kernelSize: 3, bias: true }), new BatchNorm2d(32), new Conv2d(32, 32, { kernelSize: 3, groups: 32 }), new PReLU(32), new Linear(64, 48)]);

async function init(config: Record<string, unknown>, m: Module, ctx: BuildContext = makeBuildContext()): Promise<Module> {
  const def = plugin.components.find((c) => c.id === 'DefaultModelInitializer')!;
  const t = (await def.create(def.schema.parse(config), ctx, undefined)) as { apply(m: Module, c: BuildContext): Module };
  return t.apply(m, ctx);
}

const values = (v: tf.Variable | undefined): number[] => Array.from(v!.dataSync());
const std = (xs: number[]): number => Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length - (xs.reduce((a, x) => a + x, 0) / xs.length) ** 2);
const maxAbs = (xs: number[]): number => Math.max(...xs.map(Math.abs));

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { TorchInitConstructor: {} },
  step: {
    DefaultModelInitializer: (t) => {
      const m = net();
      (t as { apply(m: Module, c: BuildContext): Module }).apply(m, makeBuildContext());
      m.dispose();
    },
  },
});

describe('DefaultModelInitializer', () => {
  it('computes the gain as torch.nn.init.calculate_gain (values from PyTorch 1.13)', () => {
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(0.5773502691896258, 12);
    expect(calculateGain('relu')).toBeCloseTo(1.4142135623730951, 12);
    expect(calculateGain('tanh')).toBeCloseTo(1.6666666666666667, 12);
    expect(calculateGain('selu')).toBe(0.75);
    expect(calculateGain('leaky_relu')).toBeCloseTo(1.4141428569978354, 12);
    expect(() => calculateGain('gelu')).toThrow(expect.objectContaining({ code: 'MODNAS_E_CONSTRUCT_INIT', where: 'nonlinear' }));
  });

  it("leaves every weight as built by default (the original's rules are all null)", async () => {
    const m = net();
    const before = m.parameters().map((p) => values(p));
    await init({}, m);
    expect(m.parameters().map((p) => values(p))).toEqual(before);
  });

  it('draws conv weights by the rule, from the fans of the kernel and the channels (divided by the groups)', async () => {
    const m = net();
    await init({ init_config: { conv: { type: 'he_normal_fout' }, bias: { type: 'zeros' } }, nonlinear: 'relu' }, m);
    const [conv, , dw] = m.children().map(([, c]) => c) as [Conv2d, BatchNorm2d, Conv2d];
    // N(0, gain / sqrt(fan_out)), fan_out = 3·3·32 = 288, gain √2: std 0.0833, over 4608 draws
    expect(std(values(conv.weight)) / (Math.SQRT2 / Math.sqrt(288))).toBeCloseTo(1, 1);
    expect(values(conv.bias)).toEqual(new Array(32).fill(0));
    // depthwise: 32 groups, fan_out = 3·3·32 / 32 = 9: std √2/3
    expect(std(values(dw.weight)) / (Math.SQRT2 / 3)).toBeCloseTo(1, 0);
    expect(std(values(dw.weight))).toBeGreaterThan(0.3);
  });

  it('uniform rules stay within their bound and fill it; fc, norm and the other leaves get theirs', async () => {
    const m = net();
    const [, bn, , prelu, fc] = m.children().map(([, c]) => c) as [Conv2d, BatchNorm2d, Conv2d, PReLU, Linear];
    bn.runningMean.assign(tf.fill([32], 3));
    await init({ init_config: { fc: { type: 'xavier_uniform' }, norm: { type: 'ones', momentum: 0.01, eps: 1e-3 }, bias: { type: 'ones' } }, default_init_type: 'zeros', neg_slope: 0 }, m);
    // xavier_uniform: ±√6 · gain / √(64 + 48), gain of leaky_relu at slope 0 = √2
    const b = (Math.sqrt(6) * Math.SQRT2) / Math.sqrt(112);
    expect(maxAbs(values(fc.weight))).toBeLessThanOrEqual(b);
    expect(maxAbs(values(fc.weight))).toBeGreaterThan(0.95 * b);
    expect(values(fc.bias)).toEqual(new Array(48).fill(1));
    expect(values(bn.runningMean)).toEqual(new Array(32).fill(0));
    expect([bn.momentum, bn.eps]).toEqual([0.01, 1e-3]);
    expect(values(bn.beta)).toEqual(new Array(32).fill(1));
    expect(values(prelu.weight)).toEqual(new Array(32).fill(0));
  });

  it('module_init_map names more classes; one that is not such a layer is a coded error', async () => {
    class MyConv extends Conv2d {}
    const m = new Sequential([new MyConv(4, 4, { kernelSize: 1 })]);
    await init({ init_config: { conv: { type: 'ones' } } }, m);
    expect(values((m.children()[0][1] as Conv2d).weight)).toEqual(new Array(16).fill(1));
    await expect(init({ module_init_map: { PReLU: 'conv' } }, new Sequential([new PReLU()]))).rejects.toThrow(expect.objectContaining({ code: 'MODNAS_E_CONSTRUCT_INIT', where: 'module_init_map' }));
    expect(defaultModelInitializerSchema.safeParse({ init_config: { conv: { type: 'kaiming' } } }).success).toBe(false);
  });
});

describe('DefaultInitConstructor / TorchInitConstructor', () => {
  const weightsAfter = async (id: string, seed: number): Promise<number[]> => {
    const def = plugin.components.find((c) => c.id === id)!;
    const ctx = makeBuildContext();
    const t = (await def.create(def.schema.parse({ seed }), ctx, undefined)) as { apply(m: Module, c: BuildContext): Module };
    const m = t.apply(new Sequential([]), ctx);
    m.dispose();
    const conv = new Conv2d(2, 2, { kernelSize: 3 });
    const w = values(conv.weight);
    conv.dispose();
    return w;
  };

  it('the same seed gives the same weights to what is built after it; another seed others', async () => {
    const a = await weightsAfter('DefaultInitConstructor', 7);
    expect(await weightsAfter('DefaultInitConstructor', 7)).toEqual(a);
    expect(await weightsAfter('TorchInitConstructor', 7)).toEqual(a);
    expect(await weightsAfter('DefaultInitConstructor', 8)).not.toEqual(a);
  });

  it("TorchInitConstructor refuses the original's global ops_conf, naming it", async () => {
    const def = plugin.components.find((c) => c.id === 'TorchInitConstructor')!;
    await expect(Promise.resolve().then(() => def.create(def.schema.parse({ ops_conf: { ops_order: 'act_weight_bn' } }), makeBuildContext({ where: 'construct.init' }), undefined))).rejects.toThrow(
      expect.objectContaining({ code: 'MODNAS_E_CONSTRUCT_INIT', where: 'construct.init.ops_conf' }),
    );
  });
});
