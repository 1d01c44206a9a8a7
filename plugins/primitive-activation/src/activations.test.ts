import { getRegistry, tf } from '@modnas/core';
import { makeBuildContext } from '@modnas/testkit';
import type { Module } from '@modnas/core';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from './index.js';

// Outputs and gradients (of the sum of outputs) of torch.nn's modules, PyTorch 1.13 (Debian's
// python3-torch), on the inputs X, e.g. `nn.ELU(alpha=0.5)(x).sum().backward()`; HardSigmoid and
// HardSwish are torch's nn.Hardsigmoid and nn.Hardswish (the original's formulas), Swish nn.SiLU,
// RReLU in eval mode. Rounded to 6 decimals.
const X = [-4.0, -2.5, -1.0, -0.6, -0.3, 0.0, 0.2, 0.55, 1.0, 2.0, 3.5, 25.0];
const TORCH: Record<string, { config: Record<string, unknown>; y: number[]; g: number[] }> = {
  ELU: { config: {}, y: [-0.981684, -0.917915, -0.632121, -0.451188, -0.259182, 0.0, 0.2, 0.55, 1.0, 2.0, 3.5, 25.0], g: [0.018316, 0.082085, 0.367879, 0.548812, 0.740818, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  'ELU alpha 0.5': { config: { alpha: 0.5 }, y: [-0.490842, -0.458957, -0.31606, -0.225594, -0.129591, 0.0, 0.2, 0.55, 1.0, 2.0, 3.5, 25.0], g: [0.009158, 0.041042, 0.18394, 0.274406, 0.370409, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  CELU: { config: { alpha: 2 }, y: [-1.729329, -1.42699, -0.786939, -0.518364, -0.278584, 0.0, 0.2, 0.55, 1.0, 2.0, 3.5, 25.0], g: [0.135335, 0.286505, 0.606531, 0.740818, 0.860708, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  SELU: { config: {}, y: [-1.725899, -1.613786, -1.111331, -0.793234, -0.455667, 0.0, 0.21014, 0.577886, 1.050701, 2.101402, 3.677454, 26.267525], g: [0.032201, 0.144314, 0.646769, 0.964865, 1.302432, 1.758099, 1.050701, 1.050701, 1.050701, 1.050701, 1.050701, 1.050701] },
  LeakyReLU: { config: { negative_slope: 0.1 }, y: [-0.4, -0.25, -0.1, -0.06, -0.03, 0.0, 0.2, 0.55, 1.0, 2.0, 3.5, 25.0], g: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  PReLU: { config: {}, y: [-1.0, -0.625, -0.25, -0.15, -0.075, 0.0, 0.2, 0.55, 1.0, 2.0, 3.5, 25.0], g: [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  Hardtanh: { config: { min_val: -2, max_val: 1.5 }, y: [-2.0, -2.0, -1.0, -0.6, -0.3, 0.0, 0.2, 0.55, 1.0, 1.5, 1.5, 1.5], g: [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0] },
  Hardshrink: { config: {}, y: [-4.0, -2.5, -1.0, -0.6, 0.0, 0.0, 0.0, 0.55, 1.0, 2.0, 3.5, 25.0], g: [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  Softshrink: { config: {}, y: [-3.5, -2.0, -0.5, -0.1, 0.0, 0.0, 0.0, 0.05, 0.5, 1.5, 3.0, 24.5], g: [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  Tanhshrink: { config: {}, y: [-3.000671, -1.513386, -0.238406, -0.06295, -0.008687, 0.0, 0.002625, 0.04948, 0.238406, 1.035972, 2.501822, 24.0], g: [0.998659, 0.973408, 0.580026, 0.288422, 0.084863, 0.0, 0.038957, 0.250521, 0.580026, 0.929349, 0.996359, 1.0] },
  Threshold: { config: { threshold: 0.1, value: 20 }, y: [20.0, 20.0, 20.0, 20.0, 20.0, 20.0, 0.2, 0.55, 1.0, 2.0, 3.5, 25.0], g: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  Sigmoid: { config: {}, y: [0.017986, 0.075858, 0.268941, 0.354344, 0.425557, 0.5, 0.549834, 0.634136, 0.731059, 0.880797, 0.970688, 1.0], g: [0.017663, 0.070104, 0.196612, 0.228784, 0.244458, 0.25, 0.247517, 0.232008, 0.196612, 0.104994, 0.028453, 0.0] },
  LogSigmoid: { config: {}, y: [-4.01815, -2.57889, -1.313262, -1.037488, -0.854355, -0.693147, -0.598139, -0.455492, -0.313262, -0.126928, -0.02975, -0.0], g: [0.982014, 0.924142, 0.731059, 0.645656, 0.574443, 0.5, 0.450166, 0.365864, 0.268941, 0.119203, 0.029312, 0.0] },
  Tanh: { config: {}, y: [-0.999329, -0.986614, -0.761594, -0.53705, -0.291313, 0.0, 0.197375, 0.50052, 0.761594, 0.964028, 0.998178, 1.0], g: [0.001341, 0.026592, 0.419974, 0.711578, 0.915137, 1.0, 0.961043, 0.749479, 0.419974, 0.070651, 0.003641, 0.0] },
  Softplus: { config: {}, y: [0.01815, 0.07889, 0.313262, 0.437488, 0.554355, 0.693147, 0.798139, 1.005492, 1.313262, 2.126928, 3.52975, 25.0], g: [0.017986, 0.075858, 0.268941, 0.354344, 0.425557, 0.5, 0.549834, 0.634136, 0.731059, 0.880797, 0.970688, 1.0] },
  'Softplus beta 2 threshold 5': { config: { beta: 2, threshold: 5 }, y: [0.000168, 0.003358, 0.063464, 0.131641, 0.218744, 0.346574, 0.456508, 0.693668, 1.063464, 2.009075, 3.5, 25.0], g: [0.000335, 0.006693, 0.119203, 0.231475, 0.354344, 0.5, 0.598688, 0.75026, 0.880797, 0.982014, 1.0, 1.0] },
  Softsign: { config: {}, y: [-0.8, -0.714286, -0.5, -0.375, -0.230769, 0.0, 0.166667, 0.354839, 0.5, 0.666667, 0.777778, 0.961538], g: [0.04, 0.081633, 0.25, 0.390625, 0.591716, 1.0, 0.694444, 0.416233, 0.25, 0.111111, 0.049383, 0.001479] },
  Swish: { config: {}, y: [-0.071945, -0.189645, -0.268941, -0.212606, -0.127667, 0.0, 0.109967, 0.348775, 0.731059, 1.761594, 3.397407, 25.0], g: [-0.052665, -0.099401, 0.072329, 0.217073, 0.35222, 0.5, 0.599337, 0.76174, 0.927671, 1.090784, 1.070274, 1.0] },
  HardSigmoid: { config: {}, y: [0.0, 0.083333, 0.333333, 0.4, 0.45, 0.5, 0.533333, 0.591667, 0.666667, 0.833333, 1.0, 1.0], g: [0.0, 0.166667, 0.166667, 0.166667, 0.166667, 0.166667, 0.166667, 0.166667, 0.166667, 0.166667, 0.0, 0.0] },
  HardSwish: { config: {}, y: [-0.0, -0.208333, -0.333333, -0.24, -0.135, 0.0, 0.106667, 0.325417, 0.666667, 1.666667, 3.5, 25.0], g: [0.0, -0.333333, 0.166667, 0.3, 0.4, 0.5, 0.566667, 0.683333, 0.833333, 1.166667, 1.0, 1.0] },
  RReLU: { config: {}, y: [-0.916667, -0.572917, -0.229167, -0.1375, -0.06875, 0.0, 0.2, 0.55, 1.0, 2.0, 3.5, 25.0], g: [0.229167, 0.229167, 0.229167, 0.229167, 0.229167, 0.229167, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
};
/** x = 0 is a kink of most of them, where each library picks its own one-sided derivative: not compared. */
const KINK = X.indexOf(0);

const keep = { chnIn: 1, chnOut: 1, stride: 1 };

async function build(id: string, config: Record<string, unknown>, spec = keep): Promise<Module> {
  const def = await getRegistry().resolve('primitive', id);
  return (await def.create(def.schema.parse(config), makeBuildContext(), spec)) as Module;
}

describe('the original\'s activations against torch.nn', () => {
  beforeAll(() => getRegistry().register(plugin));

  it('registers the 21 names the original registers', () => {
    expect(plugin.components.map((c) => c.id).sort()).toEqual(
      ['CELU', 'ELU', 'HardSigmoid', 'HardSwish', 'Hardshrink', 'Hardtanh', 'LeakyReLU', 'LogSigmoid', 'PReLU', 'RReLU', 'ReLU', 'ReLU6', 'SELU', 'Sigmoid', 'Softplus', 'Softshrink', 'Softsign', 'Swish', 'Tanh', 'Tanhshrink', 'Threshold'].sort(),
    );
  });

  for (const [name, ref] of Object.entries(TORCH)) {
    it(`${name}: outputs and gradients equal torch's`, async () => {
      const m = await build(name.split(' ')[0], ref.config);
      m.eval();
      const x = tf.tensor4d(X, [1, 1, X.length, 1]);
      const y = m.call(x);
      expect(Array.from(y.dataSync())).toEqual(ref.y.map((v) => expect.closeTo(v, 4)));
      const g = tf.grad((t: tf.Tensor) => tf.sum(m.call(t)))(x);
      const gs = Array.from(g.dataSync());
      for (let i = 0; i < X.length; i++) if (i !== KINK) expect(gs[i], `d/dx at x = ${X[i]}`).toBeCloseTo(ref.g[i], 4);
      tf.dispose([x, y, g]);
    });
  }

  it('RReLU draws its negative slopes from [lower, upper] in training', async () => {
    const m = await build('RReLU', { lower: 0.1, upper: 0.3 });
    m.train();
    const x = tf.fill([1, 1, 1000, 1], -1);
    const slopes = Array.from(m.call(x).dataSync()).map((v) => -v);
    expect(Math.min(...slopes)).toBeGreaterThanOrEqual(0.1);
    expect(Math.max(...slopes)).toBeLessThanOrEqual(0.3);
    expect(new Set(slopes.map((s) => s.toFixed(3))).size).toBeGreaterThan(50);
    expect(slopes.reduce((a, b) => a + b) / slopes.length).toBeCloseTo(0.2, 1);
  });

  it('PReLU learns one slope per channel when num_parameters is the channel count', async () => {
    const m = await build('PReLU', { num_parameters: 3 }, { chnIn: 3, chnOut: 3, stride: 1 });
    expect(m.numParams()).toBe(3);
    const x = tf.tensor4d([-1, -2, -3, 1, 2, 3], [1, 1, 2, 3]);
    const { grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(m.call(x)), m.parameters());
    const gw = Object.values(grads)[0];
    expect(Array.from(gw.dataSync())).toEqual([-1, -2, -3]);
    await expect(build('PReLU', { num_parameters: 2 }, { chnIn: 3, chnOut: 3, stride: 1 })).rejects.toMatchObject({ code: 'MODNAS_E_PRIMITIVE_ARGS', where: 'num_parameters' });
  });

  it('refuses a Slot that changes channels or resolution, naming the Slot and the fix', async () => {
    await expect(build('ReLU', {}, { chnIn: 4, chnOut: 8, stride: 1 })).rejects.toMatchObject({ code: 'MODNAS_E_PRIMITIVE_ARGS', message: expect.stringContaining('chnOut 8') });
    await expect(build('Tanh', {}, { chnIn: 4, chnOut: 4, stride: 2 })).rejects.toMatchObject({ code: 'MODNAS_E_PRIMITIVE_ARGS', message: expect.stringContaining('stride 2') });
  });

  it('refuses contradictory arguments', async () => {
    await expect(build('Hardtanh', { min_val: 1, max_val: 1 })).rejects.toMatchObject({ code: 'MODNAS_E_PRIMITIVE_ARGS', where: 'min_val' });
    await expect(build('RReLU', { lower: 0.5, upper: 0.2 })).rejects.toMatchObject({ code: 'MODNAS_E_PRIMITIVE_ARGS', where: 'lower' });
    const def = await getRegistry().resolve('primitive', 'Threshold');
    expect(def.schema.safeParse({}).success).toBe(false);
  });
});
