import { tf } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { Conv2d, dilateKernel } from './layers.js';

describe('dilated convs', () => {
  it('dilateKernel puts d-1 zeros between the taps', () => {
    const w = tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]);
    const got = dilateKernel(w, 3);
    expect(got.shape).toEqual([4, 4, 1, 1]);
    expect(Array.from(got.dataSync())).toEqual([1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 4]);
    tf.dispose([w, got]);
  });

  for (const groups of ['dense', 'depthwise'] as const) {
    it(`a ${groups} conv with dilation 2 computes the same in training (dilated kernel) and inference (native dilation), and has a gradient that matches finite differences`, () => {
      const c = new Conv2d(3, groups === 'depthwise' ? 3 : 4, { kernelSize: 3, dilation: 2, stride: 1, groups: groups === 'depthwise' ? 3 : 1 });
      const x = tf.randomNormal([2, 7, 7, 3], 0, 1, 'float32', 5);
      c.train();
      const yt = c.call(x);
      c.eval();
      const ye = c.call(x);
      expect(yt.shape).toEqual([2, 7, 7, groups === 'depthwise' ? 3 : 4]);
      expect(tf.max(tf.abs(tf.sub(yt, ye))).dataSync()[0]).toBeLessThan(1e-5);
      c.train();
      const f = (): tf.Scalar => tf.sum(tf.square(c.call(x)));
      const { grads } = tf.variableGrads(f, [c.weight]);
      const g = grads[c.weight.name].dataSync();
      // central difference on three taps
      const w0 = c.weight.clone();
      for (const at of [0, 5, 13]) {
        const e = 1e-2;
        const val = (delta: number): number => {
          const v = w0.dataSync().slice();
          v[at] += delta;
          c.weight.assign(tf.tensor(v, w0.shape));
          return f().dataSync()[0];
        };
        const fd = (val(e) - val(-e)) / (2 * e);
        expect(g[at]).toBeCloseTo(fd, 0);
        expect(Math.abs(g[at] - fd) / Math.max(Math.abs(fd), 1)).toBeLessThan(2e-2);
      }
      c.weight.assign(w0);
      tf.dispose([x, yt, ye, w0, ...Object.values(grads)]);
    });
  }
});
