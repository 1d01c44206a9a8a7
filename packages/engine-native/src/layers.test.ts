import { kernelNames, tf } from '@modnas/core';
import { BatchNorm2d, ReLU6 } from '@modnas/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasmEngine as engine, engineOptions, kernelStats, loadNative } from './index.js';

const nativeStatus = loadNative();

// @modnas/nn's BatchNorm2d (training mode) and ReLU6 on the engine's fused kernels give the same
// output, running statistics and gradients as the plain tfjs composition on the cpu backend.

let before = '';
beforeAll(async () => {
  before = tf.getBackend();
  await engine.setup(tf);
});
afterAll(async () => {
  engineOptions.useNative = true;
  await tf.setBackend(before);
});

function run(backend: string, xs: Float32Array, shape: number[]): Promise<Float32Array[]> {
  return tf.setBackend(backend).then(() => {
    const bn = new BatchNorm2d(shape[3], { momentum: 0.3 });
    const act = new ReLU6();
    let out: Float32Array[] = [];
    tf.tidy(() => {
      const x = tf.tensor(xs, shape);
      const r = tf.range(0, x.size).reshape(shape).mul(0.37).sin();
      const f = (a: tf.Tensor): tf.Scalar => tf.sum(tf.mul(act.call(bn.call(tf.mul(a, 4))), r));
      const params = bn.parameters();
      const { value, grads } = tf.variableGrads(() => f(x), params);
      const dx = tf.grad((a: tf.Tensor) => f(a))(x);
      out = [value, dx, grads[params[0].name], grads[params[1].name], bn.runningMean, bn.runningVar].map((t) => t.dataSync() as Float32Array);
    });
    bn.dispose();
    return out;
  });
}

describe('nn layers on the engine', () => {
  for (const native of [true, false]) {
    // skipped (with the reason in its name) where the addon did not build
    it.skipIf(native && !nativeStatus.loaded)(`BatchNorm2d + ReLU6 training step matches the cpu backend (${native ? `native: ${nativeStatus.detail}` : 'fallback'})`, async () => {
      engineOptions.useNative = native;
      const shape = [3, 5, 4, 6];
      const xs = Float32Array.from({ length: 3 * 5 * 4 * 6 }, (_, i) => Math.sin(i * 1.7) + (i % 6) * 0.5);
      const ref = await run('cpu', xs, shape);
      const calls = kernelStats.native[kernelNames.BatchNormTrain] ?? 0;
      const fallbacks = kernelStats.fallback[kernelNames.BatchNormTrain] ?? 0;
      const got = await run('wasm', xs, shape);
      // the fused kernel was used
      expect((kernelStats.native[kernelNames.BatchNormTrain] ?? 0) - calls + (kernelStats.fallback[kernelNames.BatchNormTrain] ?? 0) - fallbacks).toBeGreaterThan(0);
      ['loss', 'dx', 'dgamma', 'dbeta', 'running mean', 'running var'].forEach((what, k) => {
        expect(got[k].length).toBe(ref[k].length);
        for (let i = 0; i < ref[k].length; i++) expect(Math.abs(got[k][i] - ref[k][i]), `${what}[${i}]`).toBeLessThan(2e-4 * (1 + Math.abs(ref[k][i])));
      });
    });
  }

  it('a training step leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const bn = new BatchNorm2d(4);
    const x = tf.randomNormal([2, 3, 3, 4]);
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.relu6(bn.call(x))), bn.parameters());
        tf.dispose(grads);
      });
    }
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
  });
});
