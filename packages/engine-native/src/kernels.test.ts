import { kernelNames, tf } from '@modnas/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasmEngine as engine, engineOptions, engineStatus, kernelStats, loadNative } from './index.js';

// Every engine kernel against tfjs' cpu backend (values and gradients), on random shapes,
// strides and paddings including odd ones; once through the native addon (the own kernels, or
// oneDNN with MODNAS_ENGINE_KERNELS=dnnl) and once through the JavaScript fallback kernels.
const nativeStatus = loadNative();

type Pad = 'same' | 'valid' | number;
let before = '';
let rngState = 12345;
const rand = (): number => {
  rngState = (rngState * 1103515245 + 12345) % 2147483648;
  return rngState / 2147483648;
};
const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const data = (n: number, negative = false): Float32Array => Float32Array.from({ length: n }, () => (negative ? -0.1 - rand() : rand() * 2 - 1));

async function on(backend: string, f: () => Float32Array[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  // Plain arrays leave the tidy; every tensor made inside is freed.
  let out: Float32Array[] = [];
  tf.tidy(() => {
    out = f();
  });
  return out;
}

function close(actual: Float32Array | number[], expected: Float32Array | number[], what: string, tol = 1e-4): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `${what}: worst relative error at ${at} (${actual[at]} vs ${expected[at]})`).toBeLessThan(tol);
}

interface ConvCase {
  n: number;
  h: number;
  w: number;
  c: number;
  o: number;
  k: number;
  s: number;
  pad: Pad;
  mult: number;
}

function convCases(count: number, depthwise: boolean): ConvCase[] {
  const cases: ConvCase[] = [
    // the awkward ones, always present: stride 2 on odd sizes, kernels 7 and 9, 'same' on odd sizes
    { n: 2, h: 9, w: 7, c: 3, o: 5, k: 3, s: 2, pad: 1, mult: 1 },
    { n: 1, h: 11, w: 11, c: 2, o: 3, k: 7, s: 2, pad: 3, mult: 2 },
    { n: 1, h: 13, w: 10, c: 3, o: 2, k: 9, s: 1, pad: 4, mult: 1 },
    { n: 2, h: 7, w: 9, c: 4, o: 4, k: 5, s: 2, pad: 'same', mult: 1 },
    { n: 1, h: 8, w: 5, c: 2, o: 3, k: 3, s: 2, pad: 'valid', mult: 2 },
    { n: 3, h: 5, w: 5, c: 6, o: 8, k: 1, s: 1, pad: 0, mult: 1 },
    { n: 2, h: 6, w: 7, c: 5, o: 4, k: 1, s: 2, pad: 0, mult: 1 },
  ];
  while (cases.length < count) {
    const k = pick([1, 3, 5, 7, 9]);
    const h = int(k, k + 7);
    cases.push({ n: int(1, 3), h, w: int(k, k + 7), c: int(1, 6), o: int(1, 7), k, s: pick([1, 2, 3]), pad: pick<Pad>(['same', 'valid', Math.floor(k / 2), int(0, k - 1)]), mult: pick([1, 2, 3]) });
  }
  return cases.map((cs) => (depthwise ? cs : { ...cs, mult: 1 }));
}

function convRun(cs: ConvCase, depthwise: boolean, xs: Float32Array, ws: Float32Array, rs: Float32Array): Float32Array[] {
  const x = tf.tensor4d(xs, [cs.n, cs.h, cs.w, cs.c]);
  const w = tf.tensor4d(ws, depthwise ? [cs.k, cs.k, cs.c, cs.mult] : [cs.k, cs.k, cs.c, cs.o]);
  const pad = typeof cs.pad === 'number' ? ([[0, 0], [cs.pad, cs.pad], [cs.pad, cs.pad], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]) : cs.pad;
  const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D =>
    depthwise ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, cs.s, pad) : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, cs.s, pad);
  const y = f(x, w);
  const r = tf.tensor(rs.subarray(0, y.size), y.shape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), r)))([x, w]);
  return [y.dataSync() as Float32Array, dx.dataSync() as Float32Array, dw.dataSync() as Float32Array];
}

const modes = [
  { name: `native (${nativeStatus.choice})`, native: true },
  { name: 'fallback', native: false },
];

beforeAll(async () => {
  before = tf.getBackend();
  await engine.setup(tf);
});

afterAll(async () => {
  engineOptions.useNative = true;
  await tf.setBackend(before);
});

/** The reason a native-only test is skipped, in its title (vitest shows it among the skipped). */
const skipWhy = (skip: boolean): string => (skip ? ` (skipped: native kernels not loaded: ${nativeStatus.detail})` : '');

for (const target of ['wasm', 'native'] as const) {
  describe.skipIf(target === 'native' && !nativeStatus.loaded)(`engine kernels on the ${target} backend against the cpu backend${skipWhy(target === 'native' && !nativeStatus.loaded)}`, () => {
  it('reports which kernels are in use', () => {
    const st = engineStatus();
    expect(typeof st.detail).toBe('string');
    if (process.env.MODNAS_REQUIRE_NATIVE === '1') {
      expect(st.native, st.detail).toBe(true);
      expect(tf.findBackendFactory('native'), 'the native backend is registered').toBeTruthy();
    }
  });

  for (const mode of modes) {
    describe(mode.name, () => {
      for (const depthwise of [false, true]) {
        it.skipIf(mode.native && !nativeStatus.loaded)(`${depthwise ? 'depthwise conv' : 'conv2d'}: values and gradients on random shapes, strides and paddings${skipWhy(mode.native && !nativeStatus.loaded)}`, async () => {
          engineOptions.useNative = mode.native;
          for (const cs of convCases(mode.native ? 24 : 12, depthwise)) {
            const o = depthwise ? cs.c * cs.mult : cs.o;
            const xs = data(cs.n * cs.h * cs.w * cs.c);
            const ws = data(cs.k * cs.k * cs.c * (depthwise ? cs.mult : o));
            const rs = data(cs.n * (cs.h + 2 * cs.k) * (cs.w + 2 * cs.k) * o);
            const ref = await on('cpu', () => convRun(cs, depthwise, xs, ws, rs));
            const got = await on(target, () => convRun(cs, depthwise, xs, ws, rs));
            const tag = `${mode.name} ${JSON.stringify(cs)}`;
            close(got[0], ref[0], `${tag} y`);
            close(got[1], ref[1], `${tag} dx`);
            close(got[2], ref[2], `${tag} dw`);
          }
        });
      }

      it.skipIf(!mode.native || !nativeStatus.loaded)(`large shapes: the multi-threaded GEMM paths (row blocks, split k) and wide depthwise convs, all served natively${mode.native ? skipWhy(!nativeStatus.loaded) : ' (skipped: native-only, this is the fallback mode)'}`, async () => {
        engineOptions.useNative = true;
        const served = (): number => Object.values(kernelStats.native).reduce((a, b) => a + b, 0);
        const errors = kernelStats.errors.length;
        const large: Array<[ConvCase, boolean]> = [
          [{ n: 4, h: 16, w: 16, c: 48, o: 72, k: 1, s: 1, pad: 0, mult: 1 }, false],
          [{ n: 8, h: 32, w: 32, c: 8, o: 16, k: 1, s: 1, pad: 0, mult: 1 }, false],
          [{ n: 4, h: 17, w: 17, c: 16, o: 24, k: 3, s: 2, pad: 'same', mult: 1 }, false],
          [{ n: 3, h: 32, w: 32, c: 3, o: 32, k: 3, s: 1, pad: 1, mult: 1 }, false],
          [{ n: 4, h: 16, w: 16, c: 96, o: 96, k: 5, s: 2, pad: 'same', mult: 1 }, true],
          [{ n: 5, h: 15, w: 15, c: 40, o: 40, k: 3, s: 1, pad: 'same', mult: 1 }, true],
        ];
        for (const [cs, depthwise] of large) {
          const o = depthwise ? cs.c : cs.o;
          const xs = data(cs.n * cs.h * cs.w * cs.c);
          const ws = data(cs.k * cs.k * cs.c * (depthwise ? 1 : o));
          const rs = data(cs.n * cs.h * cs.w * o);
          const ref = await on('cpu', () => convRun(cs, depthwise, xs, ws, rs));
          const n0 = served();
          const got = await on(target, () => convRun(cs, depthwise, xs, ws, rs));
          // forward, input gradient and filter gradient all ran natively
          expect(served() - n0, JSON.stringify(cs)).toBeGreaterThanOrEqual(3);
          const tag = `native ${depthwise ? 'depthwise ' : ''}${JSON.stringify(cs)}`;
          close(got[0], ref[0], `${tag} y`);
          close(got[1], ref[1], `${tag} dx`);
          close(got[2], ref[2], `${tag} dw`, 2e-4);
        }
        expect(kernelStats.errors.slice(errors)).toEqual([]);
      });

      it.skipIf(mode.native && !nativeStatus.loaded)(`dilated conv and depthwise conv: values, and gradients of the dilated depthwise kernels${skipWhy(mode.native && !nativeStatus.loaded)}`, async () => {
        engineOptions.useNative = mode.native;
        // Reference: a dilated filter is an undilated one with zeros between its taps.
        for (const [h, w, k, d, s] of [
          [9, 8, 3, 2, 1],
          [11, 11, 3, 3, 1],
          [12, 9, 5, 2, 1],
        ]) {
          const xs = data(2 * h * w * 3);
          const ws = data(k * k * 3 * 2);
          const ke = (k - 1) * d + 1;
          const wide = new Float32Array(ke * ke * 3 * 2);
          for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let q = 0; q < 6; q++) wide[((i * d) * ke + j * d) * 6 + q] = ws[(i * k + j) * 6 + q];
          const pad = Math.floor(ke / 2);
          const pads = [[0, 0], [pad, pad], [pad, pad], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
          const ref = await on('cpu', () => {
            const x = tf.tensor4d(xs, [2, h, w, 3]);
            const f = tf.tensor4d(wide, [ke, ke, 3, 2]);
            const y1 = tf.conv2d(x, f, s, pads);
            const y2 = tf.depthwiseConv2d(x, f, s, pads);
            const r = tf.range(0, y2.size).reshape(y2.shape).mul(0.01).sin();
            const [dx, dfw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pads), r)))([x, f]);
            const dfwv = dfw.dataSync();
            const df = new Float32Array(k * k * 6);
            for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let q = 0; q < 6; q++) df[(i * k + j) * 6 + q] = dfwv[((i * d) * ke + j * d) * 6 + q];
            return [y1.dataSync() as Float32Array, y2.dataSync() as Float32Array, dx.dataSync() as Float32Array, df];
          });
          const got = await on(target, () => {
            const x = tf.tensor4d(xs, [2, h, w, 3]);
            const f = tf.tensor4d(ws, [k, k, 3, 2]);
            const y1 = tf.conv2d(x, f, s, pads, 'NHWC', d);
            const y2 = tf.depthwiseConv2d(x, f, s, pads, 'NHWC', d);
            const r = tf.range(0, y2.size).reshape(y2.shape).mul(0.01).sin();
            const attrs = { strides: s, pad: pads as unknown as number[], dilations: d };
            const dx = tf.engine().runKernel<tf.Tensor>('DepthwiseConv2dNativeBackpropInput', { dy: r, filter: f }, { ...attrs, inputShape: x.shape });
            const df = tf.engine().runKernel<tf.Tensor>('DepthwiseConv2dNativeBackpropFilter', { x, dy: r }, { ...attrs, filterShape: f.shape });
            return [y1, y2, dx, df].map((t) => t.dataSync() as Float32Array);
          });
          ['conv y', 'depthwise y', 'depthwise dx', 'depthwise dw'].forEach((what, i) => close(got[i], ref[i], `${mode.name} dilation ${d} k ${k} s ${s}: ${what}`));
        }
      });

      it.skipIf(mode.native && !nativeStatus.loaded)(`eval-mode batch norm (tf.batchNorm), with and without scale/offset, and broadcast statistics${skipWhy(mode.native && !nativeStatus.loaded)}`, async () => {
        engineOptions.useNative = mode.native;
        const shape = [3, 4, 5, 7];
        const xs = data(3 * 4 * 5 * 7);
        const ms = data(7);
        const vs = data(7).map((v) => v * v + 0.1);
        const gs = data(7);
        const bs = data(7);
        const hw = data(5 * 7).map((v) => v * v + 0.1);
        const run = (): Float32Array[] => {
          const x = tf.tensor4d(xs, shape as [number, number, number, number]);
          const m = tf.tensor1d(ms);
          const v = tf.tensor1d(vs);
          return [
            tf.batchNorm(x, m, v, tf.tensor1d(bs), tf.tensor1d(gs), 1e-5),
            tf.batchNorm(x, m, v),
            tf.batchNorm(x, m.reshape([1, 1, 1, 7]), v.reshape([1, 1, 1, 7]), undefined, tf.tensor1d(gs).reshape([1, 1, 1, 7]), 0.01),
            tf.batchNorm(x, tf.tensor(hw, [5, 7]).mul(0.5) as unknown as tf.Tensor1D, tf.tensor(hw, [5, 7]) as unknown as tf.Tensor1D),
          ].map((t) => t.dataSync() as Float32Array);
        };
        const ref = await on('cpu', run);
        const got = await on(target, run);
        ['affine', 'plain', 'scale only, [1,1,1,C] stats', '[W,C] statistics (fallback)'].forEach((what, i) => close(got[i], ref[i], `${mode.name} batchNorm ${what}`));
      });

      it.skipIf(mode.native && !nativeStatus.loaded)(`training batch norm: batch statistics, output and gradients${skipWhy(mode.native && !nativeStatus.loaded)}`, async () => {
        engineOptions.useNative = mode.native;
        for (const shape of [
          [2, 5, 3, 4],
          [3, 7, 7, 1],
          [4, 4, 4, 17],
          [1, 1, 1, 3],
        ]) {
          const c = shape[3];
          const size = shape.reduce((a, b) => a * b, 1);
          const xs = data(size).map((v, i) => v * 3 + (i % c));
          const gs = data(c);
          const bs = data(c);
          const rs = data(size);
          const eps = 1e-5;
          const ref = await on('cpu', () => {
            const x = tf.tensor(xs, shape);
            const g = tf.tensor(gs);
            const b = tf.tensor(bs);
            const r = tf.tensor(rs, shape);
            const f = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor): tf.Tensor => {
              const { mean, variance } = tf.moments(a, [0, 1, 2]);
              return tf.batchNorm(a, mean, variance, bb, gg, eps);
            };
            const { mean, variance } = tf.moments(x, [0, 1, 2]);
            const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(a, gg, bb), r)))([x, g, b]);
            return [f(x, g, b), mean, variance, ...grads].map((t) => t.dataSync() as Float32Array);
          });
          const got = await on(target, () => {
            const x = tf.tensor(xs, shape);
            const g = tf.tensor(gs);
            const b = tf.tensor(bs);
            const r = tf.tensor(rs, shape);
            const [y, mean, variance] = tf.engine().runKernel<tf.Tensor[]>(kernelNames.BatchNormTrain, { x, scale: g, offset: b }, { epsilon: eps });
            const grads = tf.engine().runKernel<tf.Tensor[]>(kernelNames.BatchNormTrainGrad, { dy: r, x, scale: g, mean, variance }, { epsilon: eps });
            return [y, mean, variance, ...grads].map((t) => t.dataSync() as Float32Array);
          });
          ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => close(got[i], ref[i], `${mode.name} ${shape} ${what}`, 2e-4));
        }
      });
    });
  }

  it('max pool gradient is right when a window maximum is negative', async () => {
    for (const [h, w, k, s, pad] of [
      [6, 6, 2, 2, 'valid'],
      [7, 5, 3, 2, 'same'],
      [9, 9, 3, 1, 'same'],
    ] as Array<[number, number, number, number, 'same' | 'valid']>) {
      const xs = data(2 * h * w * 3, true);
      const run = (): Float32Array[] => {
        const x = tf.tensor4d(xs, [2, h, w, 3]);
        const f = (a: tf.Tensor): tf.Tensor => tf.maxPool(a as tf.Tensor4D, k, s, pad);
        const y = f(x);
        const r = tf.range(1, y.size + 1).reshape(y.shape);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), r)))(x);
        return [y.dataSync() as Float32Array, dx.dataSync() as Float32Array];
      };
      const ref = await on('cpu', run);
      const got = await on(target, run);
      close(got[0], ref[0], `maxPool ${h}x${w} k${k} s${s} ${pad} y`);
      close(got[1], ref[1], `maxPool ${h}x${w} k${k} s${s} ${pad} dx`);
    }
  });

  it('unsortedSegmentSum and the gather gradient that uses it', async () => {
    const xs = data(6 * 4);
    const run = (): Float32Array[] => {
      const x = tf.tensor2d(xs, [6, 4]);
      const ids = tf.tensor1d([0, 2, 2, 1, 0, 5], 'int32');
      const s = tf.unsortedSegmentSum(x, ids, 4);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.gather(a, tf.tensor1d([1, 1, 3, 0], 'int32')), tf.range(0, 16).reshape([4, 4]))))(x);
      return [s.dataSync() as Float32Array, g.dataSync() as Float32Array];
    };
    const ref = await on('cpu', run);
    const got = await on(target, run);
    close(got[0], ref[0], 'unsortedSegmentSum');
    close(got[1], ref[1], 'gather gradient');
  });

  it('leaks no tensors', async () => {
    await tf.setBackend(target);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([2, 7, 7, 4]);
      const w = tf.randomNormal([3, 3, 4, 2]);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w]);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, tf.reshape<tf.Rank.R4>(b, [3, 3, 4, 2]), 2, 'same')))([x, w]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
}
