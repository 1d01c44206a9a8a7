import type { TensorParam } from '@modnas/core';
import { tf } from '@modnas/core';

/**
 * The gradient of `loss` w.r.t. a tensor arch param, by autodiff and by central finite
 * differences (step h), for a mixed op's gradient test; also whether autodiff left a tensor behind.
 * The param is restored afterwards.
 */
export function alphaGradients(alpha: TensorParam, loss: () => tf.Scalar, h = 1e-2): { grad: number[]; fd: number[]; leaked: number } {
  const before = tf.memory().numTensors;
  const grad = tf.tidy(() => Array.from(tf.variableGrads(loss, [alpha.variable]).grads[alpha.variable.name].dataSync()));
  const leaked = tf.memory().numTensors - before;
  const a0 = alpha.toArray();
  const fd = a0.map((_, i) => {
    const at = (d: number): number => {
      alpha.assign(a0.map((v, j) => (j === i ? v + d : v)));
      return tf.tidy(() => loss().dataSync()[0]);
    };
    return (at(h) - at(-h)) / (2 * h);
  });
  alpha.assign(a0);
  return { grad, fd, leaked };
}
