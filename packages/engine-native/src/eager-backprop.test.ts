import { tf } from '@modnas/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasmEngine as engine } from './index.js';
import { installEagerBackprop, uninstallEagerBackprop } from './eager-backprop.js';

// The eager backprop gives tfjs' own gradients bit for bit, leaks nothing, and holds less memory
// during the backward pass.

let before = '';
beforeAll(async () => {
  before = tf.getBackend();
  await engine.setup(tf);
  await tf.setBackend('wasm');
});
afterAll(async () => {
  installEagerBackprop(tf);
  await tf.setBackend(before);
});

interface Run {
  values: Float32Array[];
  /** tf.memory().numBytes seen inside the first layer's gradient (the end of backprop). */
  bytesAtEnd: number;
  leaked: number;
}

/** A deep chain with a shared input (add(x, x)), a custom gradient, a residual and a variable. */
function run(): Run {
  const n0 = tf.memory().numTensors;
  let bytesAtEnd = 0;
  const probe = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([x]);
    return { value: tf.mul(x, 1), gradFunc: (dy: tf.Tensor) => ((bytesAtEnd = tf.memory().numBytes), [tf.mul(dy, 2)]) };
  });
  const w = tf.tidy(() => tf.variable(tf.reshape<tf.Rank.R2>(tf.linspace(-1, 1, 64 * 64), [64, 64]), true, 'eager_w'));
  const x = tf.tidy(() => tf.reshape<tf.Rank.R2>(tf.linspace(-2, 2, 32 * 64), [32, 64]));
  const values = tf.tidy(() => {
    const f = (): tf.Scalar => {
      let h = probe(tf.matMul(x, w)) as tf.Tensor2D;
      h = tf.add(h, h);
      for (let i = 0; i < 12; i++) h = tf.add<tf.Tensor2D>(h, tf.relu6(tf.matMul(h, w)).mul(0.1));
      return tf.sum(tf.square(h));
    };
    const { value, grads } = tf.variableGrads(f, [w]);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.sigmoid(tf.add(a, a).mul(a))))(x);
    const dy = tf.onesLike(x).mul(3);
    const [dxs] = tf.grads((a: tf.Tensor) => tf.exp(a.mul(0.1)))([x], dy);
    return [value, grads.eager_w, dx, dxs, dy].map((t) => t.dataSync() as Float32Array);
  });
  w.dispose();
  x.dispose();
  return { values, bytesAtEnd, leaked: tf.memory().numTensors - n0 };
}

describe('eager backprop', () => {
  it('gives tfjs gradients exactly, leaks no tensor, keeps the caller dy, and frees memory during backprop', () => {
    installEagerBackprop(tf);
    const eager = run();
    uninstallEagerBackprop(tf);
    const plain = run();
    installEagerBackprop(tf);
    expect([eager.leaked, plain.leaked]).toEqual([0, 0]);
    expect(eager.values.length).toBe(plain.values.length);
    eager.values.forEach((v, i) => expect(Array.from(v), `output ${i}`).toEqual(Array.from(plain.values[i])));
    // by the first layer's gradient, the 12 layers' saved activations and gradients are gone
    expect(eager.bytesAtEnd).toBeLessThan(plain.bytesAtEnd * 0.5);
  });

  it('nested gradients (a gradient inside a forward) keep working', () => {
    installEagerBackprop(tf);
    const g = tf.tidy(() => {
      const x = tf.scalar(1.5);
      // d/dx (x * d/dx x^3) = d/dx 3x^3 = 9x^2
      const outer = tf.grad((a: tf.Tensor) => tf.mul(a, tf.grad((b: tf.Tensor) => tf.pow(b, 3))(a)));
      return outer(x).dataSync()[0];
    });
    expect(g).toBeCloseTo(9 * 1.5 * 1.5, 4);
  });
});
