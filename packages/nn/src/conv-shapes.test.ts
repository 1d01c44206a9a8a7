import { tf } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { Conv2d, countMacs, dilateKernel } from './index.js';

interface Geometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  s: number;
  ph: number;
  pw: number;
  d: number;
  g: number;
}

const seq = (n: number, a: number, b: number, f: (v: number) => number = Math.sin): Float32Array => Float32Array.from({ length: n }, (_, i) => f(a * i + b));

/**
 * The reference: a plain loop over NHWC input and a [kh, kw, ci/g, co] kernel, group by group
 * (output channel o reads input channels of group floor(o / (co/g))). Returns y and, for the loss
 * sum(y * r), its gradients dX and dW.
 */
function loopConv(x: Float32Array, wt: Float32Array, r: Float32Array | null, c: Geometry): { y: Float64Array; dx: Float64Array; dw: Float64Array; ho: number; wo: number } {
  const ho = Math.floor((c.h + 2 * c.ph - c.d * (c.kh - 1) - 1) / c.s) + 1;
  const wo = Math.floor((c.w + 2 * c.pw - c.d * (c.kw - 1) - 1) / c.s) + 1;
  const cig = c.ci / c.g;
  const cog = c.co / c.g;
  const y = new Float64Array(c.n * ho * wo * c.co);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(wt.length);
  for (let b = 0; b < c.n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        for (let o = 0; o < c.co; o++) {
          const yi = ((b * ho + i) * wo + j) * c.co + o;
          const grp = Math.floor(o / cog);
          for (let a = 0; a < c.kh; a++) {
            const ih = i * c.s - c.ph + a * c.d;
            if (ih < 0 || ih >= c.h) continue;
            for (let e = 0; e < c.kw; e++) {
              const iw = j * c.s - c.pw + e * c.d;
              if (iw < 0 || iw >= c.w) continue;
              for (let k = 0; k < cig; k++) {
                const xi = ((b * c.h + ih) * c.w + iw) * c.ci + grp * cig + k;
                const wi = ((a * c.kw + e) * cig + k) * c.co + o;
                y[yi] += x[xi] * wt[wi];
                if (r) {
                  dw[wi] += x[xi] * r[yi];
                  dx[xi] += wt[wi] * r[yi];
                }
              }
            }
          }
        }
      }
    }
  }
  return { y, dx, dw, ho, wo };
}

/** Our conv with the given weights: y, and the gradients of sum(y * r). */
function ours(conv: Conv2d, x: Float32Array, wt: Float32Array, r: Float32Array | null, c: Geometry): { y: Float32Array; dx: Float32Array; dw: Float32Array; shape: number[] } {
  tf.tidy(() => conv.weight.assign(tf.tensor4d(wt, conv.weight.shape as [number, number, number, number])));
  const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.ci]);
  const y = conv.call(xt);
  const shape = y.shape;
  const yv = y.dataSync() as Float32Array;
  let dx: Float32Array = new Float32Array(0);
  let dw: Float32Array = new Float32Array(0);
  if (r) {
    const rt = tf.tensor(r, shape);
    // dX through tf.grad, dW through variableGrads (the conv's own weight, as training sees it)
    const gx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(conv.call(xx), rt)))(xt);
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(conv.call(xt), rt)), [conv.weight]);
    dx = gx.dataSync() as Float32Array;
    dw = grads[conv.weight.name].dataSync() as Float32Array;
    tf.dispose([rt, gx, value, ...Object.values(grads)]);
  }
  tf.dispose([xt, y]);
  return { y: yv, dx, dw, shape };
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string): void => {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  expect(worst, what).toBeLessThan(1e-4);
};

const geom = (g: Partial<Geometry>): Geometry => ({ n: 2, h: 7, w: 6, ci: 4, co: 6, kh: 3, kw: 3, s: 1, ph: 1, pw: 1, d: 1, g: 1, ...g });

describe('Conv2d: grouped convs and non-square kernels', () => {
  const cases: Array<[string, Geometry]> = [
    ['grouped 2 of 4->6, 3x3, stride 2', geom({ g: 2, s: 2 })],
    ['grouped 4 of 8->12, 3x3', geom({ ci: 8, co: 12, g: 4 })],
    ['grouped 2 of 4->8, 1x1', geom({ co: 8, g: 2, kh: 1, kw: 1, ph: 0, pw: 0 })],
    ['non-square 1x3, 4->6', geom({ kh: 1, kw: 3, ph: 0, pw: 1 })],
    ['non-square 5x1 stride 2, 4->6', geom({ kh: 5, kw: 1, ph: 2, pw: 0, s: 2 })],
    ['non-square 3x2 grouped 2, stride 2', geom({ kh: 3, kw: 2, ph: 1, pw: 1, g: 2, s: 2 })],
    ['non-square 3x1 grouped 4 of 4->8, dilation 2 (in training)', geom({ co: 8, kh: 3, kw: 1, ph: 2, pw: 0, d: 2, g: 4 })],
    ['non-square 3x1 grouped 2, dilation 2 (in training)', geom({ co: 8, kh: 3, kw: 1, ph: 2, pw: 0, d: 2, g: 2 })],
  ];
  for (const [name, c] of cases) {
    it(`${name}: output, dX and dW equal a plain loop's`, () => {
      const before = tf.memory().numTensors;
      const conv = new Conv2d(c.ci, c.co, { kernelSize: c.kh === c.kw ? c.kh : [c.kh, c.kw], stride: c.s, dilation: c.d, groups: c.g });
      // the default padding is PyTorch's usual choice: k // 2 * dilation per axis
      expect([conv.paddingH, conv.paddingW]).toEqual([c.ph, c.pw]);
      expect(conv.weight.shape).toEqual(c.g === c.ci ? [c.kh, c.kw, c.ci, c.co / c.ci] : [c.kh, c.kw, c.ci / c.g, c.co]);
      const x = seq(c.n * c.h * c.w * c.ci, 0.7, 0.3);
      const wt = seq(conv.weight.size, 1.3, 0.1, Math.cos);
      const r = seq(loopConv(x, wt, null, c).y.length, 0.37, 0);
      // a depthwise (g = ci) kernel [kh, kw, ci, m] has the flat order of the grouped [kh, kw, 1, ci * m]
      const ref = loopConv(x, wt, r, c);
      const got = ours(conv, x, wt, r, c);
      expect(got.shape).toEqual([c.n, ref.ho, ref.wo, c.co]);
      close(got.y, ref.y, `${name}: y`);
      close(got.dx, ref.dx, `${name}: dX`);
      close(got.dw, ref.dw, `${name}: dW`);
      conv.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("matches PyTorch's F.conv2d (weights [co, ci/g, kh, kw] transposed to [kh, kw, ci/g, co]), gradients included", () => {
    // /usr/bin/python3, torch 1.13, float64: x = sin(0.7 i + 0.3) (NHWC order), w = cos(1.3 i) (our
    // [kh, kw, ci/g, co] order, permuted to torch's), r = sin(0.37 i) over y (NHWC); L = sum(y * r);
    // dw and dx are sum(grad * cos(0.11 i)) in our layouts.
    const torch: Array<[Geometry, { shape: number[]; L: number; y0: number; ylast: number; dw: number; dx: number }]> = [
      [geom({ n: 2, h: 7, w: 6, ci: 4, co: 6, kh: 3, kw: 2, s: 2, ph: 1, pw: 1, g: 2 }), { shape: [2, 4, 4, 6], L: 1.570962, y0: 0.738736, ylast: 0.696472, dw: -29.521503, dx: -1.043937 }],
      [geom({ n: 2, h: 7, w: 7, ci: 6, co: 4, kh: 1, kw: 3, s: 1, ph: 0, pw: 1, g: 2 }), { shape: [2, 7, 7, 4], L: 23.494094, y0: -0.884845, ylast: 2.801837, dw: -10.673955, dx: 2.39219 }],
      [geom({ n: 1, h: 9, w: 8, ci: 4, co: 8, kh: 3, kw: 1, s: 1, ph: 2, pw: 0, d: 2, g: 4 }), { shape: [1, 9, 8, 8], L: -13.664861, y0: -0.498982, ylast: 0.70518, dw: -34.90322, dx: -0.037074 }],
    ];
    for (const [c, want] of torch) {
      const conv = new Conv2d(c.ci, c.co, { kernelSize: [c.kh, c.kw], stride: c.s, padding: [c.ph, c.pw], dilation: c.d, groups: c.g });
      const x = seq(c.n * c.h * c.w * c.ci, 0.7, 0.3);
      // the depthwise case (g = ci) too: its [kh, kw, ci, m] kernel has the flat order of torch's grouped one
      const wt = seq(c.kh * c.kw * (c.ci / c.g) * c.co, 1.3, 0, Math.cos);
      const r = seq(want.shape.reduce((a, b) => a * b, 1), 0.37, 0);
      const got = ours(conv, x, wt, r, c);
      expect(got.shape).toEqual(want.shape);
      const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
      expect(dot(got.y, r)).toBeCloseTo(want.L, 3);
      expect(got.y[0]).toBeCloseTo(want.y0, 4);
      expect(got.y[got.y.length - 1]).toBeCloseTo(want.ylast, 4);
      expect(dot(got.dw, seq(got.dw.length, 0.11, 0, Math.cos))).toBeCloseTo(want.dw, 3);
      expect(dot(got.dx, seq(got.dx.length, 0.11, 0, Math.cos))).toBeCloseTo(want.dx, 3);
      conv.dispose();
    }
  });

  it('counts the MACs of a grouped, non-square conv: ho * wo * kh * kw * chnIn/groups * chnOut', () => {
    const conv = new Conv2d(8, 16, { kernelSize: [3, 1], stride: 2, groups: 4 });
    const x = tf.zeros([1, 9, 8, 8]);
    const macs = countMacs(() => tf.dispose(conv.call(x)));
    // out 5 x 4 (pad 1 on H, 0 on W), 3 x 1 taps, 2 input channels per group, 16 outputs
    expect(macs).toBe(5 * 4 * 3 * 1 * 2 * 16);
    tf.dispose(x);
    conv.dispose();
  });

  it('keeps kernelSize a number (square: the side; non-square: the larger side), with kernelH/kernelW and paddingH/paddingW', () => {
    const sq = new Conv2d(4, 4, { kernelSize: 5, dilation: 2 });
    expect([sq.kernelSize, sq.kernelH, sq.kernelW, sq.padding, sq.paddingH, sq.paddingW, sq.depthwise]).toEqual([5, 5, 5, 4, 4, 4, false]);
    const ns = new Conv2d(4, 8, { kernelSize: [1, 7], groups: 2 });
    expect([ns.kernelSize, ns.kernelH, ns.kernelW, ns.padding, ns.paddingH, ns.paddingW, ns.depthwise, ns.groups]).toEqual([7, 1, 7, 3, 0, 3, false, 2]);
    expect(ns.describe()).toBe('4->8, k=1x7, s=1, groups=2');
    const dw = new Conv2d(4, 4, { kernelSize: 3, groups: 4 });
    expect([dw.depthwise, dw.weight.shape]).toEqual([true, [3, 3, 4, 1]]);
    // PyTorch's fan_in: chnIn/groups * kh * kw
    const wide = new Conv2d(64, 64, { kernelSize: [1, 3], groups: 8 });
    const bound = 1 / Math.sqrt((64 / 8) * 3);
    expect(tf.max(tf.abs(wide.weight)).dataSync()[0]).toBeLessThanOrEqual(bound);
    expect(tf.max(tf.abs(wide.weight)).dataSync()[0]).toBeGreaterThan(0.9 * bound);
    tf.dispose([sq, ns, dw, wide].map((c) => c.weight));
  });

  it('refuses groups that do not divide chnIn and chnOut', () => {
    expect(() => new Conv2d(6, 8, { groups: 4 })).toThrow(/groups must be a positive integer dividing chnIn \(6\), got 4/);
    expect(() => new Conv2d(8, 6, { groups: 4 })).toThrow(/chnOut \(6\) must be a multiple of groups \(4\)/);
    expect(() => new Conv2d(4, 6, { groups: 4 })).toThrow(/depthwise/);
  });

  it('dilateKernel spreads a non-square kernel per axis', () => {
    const w = tf.tensor4d([1, 2, 3, 4, 5, 6], [3, 2, 1, 1]);
    const got = dilateKernel(w, 2);
    expect(got.shape).toEqual([5, 3, 1, 1]);
    expect(Array.from(got.dataSync())).toEqual([1, 0, 2, 0, 0, 0, 3, 0, 4, 0, 0, 0, 5, 0, 6]);
    tf.dispose([w, got]);
  });
});
