import type { Module, SlotSpec } from '@modnas/core';
import { tf } from '@modnas/core';
import { Conv2d } from '@modnas/nn';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import type { FacConv } from './fc-ops.js';
import { fcOps } from './fc-ops.js';
import plugin from './index.js';

const numBuffers = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);
const build = async (id: string, spec: SlotSpec): Promise<Module> => {
  const def = fcOps.find((d) => d.id === id);
  if (!def) throw new Error(`no ${id}`);
  return (await def.create({}, makeBuildContext(), spec)) as Module;
};
const seq = (n: number, a: number, b: number, f: (v: number) => number = Math.sin): Float32Array => Float32Array.from({ length: n }, (_, i) => f(a * i + b));

describe("the original's factorized convs FC1 ... FC13 (ops.py FacConv)", () => {
  it('registers FC1, FC3, ..., FC13', () => {
    const ids = new Set(plugin.components.map((c) => c.id));
    for (const k of [1, 3, 5, 7, 9, 11, 13]) expect(ids.has(`FC${k}`), `FC${k}`).toBe(true);
  });

  it("has the original's parameter and BN-statistic counts and output sizes (PyTorch 1.13, a 9x9 input)", async () => {
    // CreeperLin/modnas (dev) ops.py FacConv re-created in torch 1.13: BatchNorm2d(C_in), ReLU,
    // Conv2d(C_in, C_in, (k, 1), stride, (k//2, 0)), Conv2d(C_in, C_out, (1, k), 1, (0, k//2)), no bias.
    // [id, spec, params, BN running-stat elements, output h/w]
    const original: Array<[string, SlotSpec, number, number, number[]]> = [
      ['FC1', { chnIn: 16, chnOut: 16, stride: 1 }, 544, 32, [9, 9]],
      ['FC3', { chnIn: 16, chnOut: 16, stride: 1 }, 1568, 32, [9, 9]],
      ['FC3', { chnIn: 8, chnOut: 16, stride: 2 }, 592, 16, [5, 5]],
      ['FC5', { chnIn: 16, chnOut: 16, stride: 2 }, 2592, 32, [5, 5]],
      ['FC7', { chnIn: 8, chnOut: 16, stride: 1 }, 1360, 16, [9, 9]],
      ['FC9', { chnIn: 4, chnOut: 8, stride: 2 }, 440, 8, [5, 5]],
      ['FC11', { chnIn: 4, chnOut: 4, stride: 1 }, 360, 8, [9, 9]],
      ['FC13', { chnIn: 4, chnOut: 8, stride: 2 }, 632, 8, [5, 5]],
    ];
    for (const [id, spec, params, stats, hw] of original) {
      const m = await build(id, spec);
      expect([id, m.numParams(), numBuffers(m)]).toEqual([id, params, stats]);
      const y = tf.tidy(() => m.call(tf.randomNormal([2, 9, 9, spec.chnIn])));
      expect([id, ...y.shape]).toEqual([id, 2, ...hw, spec.chnOut]);
      expect((m as FacConv).toArchDesc()).toBe(id);
      y.dispose();
      m.dispose();
    }
  });

  it("computes the original's output: k x 1 (with the stride) first, then 1 x k (PyTorch 1.13, float64)", async () => {
    // FacConv(2, 3, 3, stride 2, padding 1) in torch, BN in training mode, on x = sin(0.7 i + 0.3)
    // (NHWC [2, 5, 6, 2]), the 3x1 weight cos(1.3 i) and the 1x3 weight cos(0.9 i + 0.5), each in
    // our [kh, kw, in, out] order (permuted to torch's [out, in, kh, kw]); y printed in NHWC order.
    const want = [
      -0.159517, -0.126717, 0.00198, -0.063454, -0.203272, -0.189258, -0.218529, -0.33403, -0.196744, 1.534207, 1.807847, 0.713344, 2.087726, 1.981483, 0.375693, 1.890817, 1.446351, -0.092684, -0.192476, -0.209841, -0.068402,
      -0.107477, 0.028623, 0.143061, 0.101475, 0.023281, -0.072532, 0.823313, 1.173159, 0.635183, 1.319998, 1.208466, 0.182392, 1.17004, 0.687019, -0.315924, 0.100964, -0.113705, -0.242324, -0.03511, -0.215584, -0.232909,
      -0.189523, -0.321011, -0.209565, 0.704976, 1.470991, 1.123789, 1.39098, 1.608477, 0.60871, 1.211048, 1.033877, 0.074289,
    ];
    const m = (await build('FC3', { chnIn: 2, chnOut: 3, stride: 2 })) as FacConv;
    const [first, second] = m.children().map(([, c]) => c).filter((c): c is Conv2d => c instanceof Conv2d);
    expect([first.kernelH, first.kernelW, first.stride, second.kernelH, second.kernelW, second.stride]).toEqual([3, 1, 2, 1, 3, 1]);
    tf.tidy(() => {
      first.weight.assign(tf.tensor4d(seq(6 * 2, 1.3, 0, Math.cos), [3, 1, 2, 2]));
      second.weight.assign(tf.tensor4d(seq(6 * 3, 0.9, 0.5, Math.cos), [1, 3, 2, 3]));
    });
    const x = tf.tensor4d(seq(2 * 5 * 6 * 2, 0.7, 0.3), [2, 5, 6, 2]);
    const y = m.call(x);
    expect(y.shape).toEqual([2, 3, 3, 3]);
    const got = y.dataSync();
    for (let i = 0; i < want.length; i++) expect(got[i], `y[${i}]`).toBeCloseTo(want[i], 3);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('refuses a missing Slot spec with MODNAS_E_PRIMITIVE_ARGS', async () => {
    await expect(Promise.resolve().then(() => fcOps[0].create({}, makeBuildContext(), undefined))).rejects.toMatchObject({ code: 'MODNAS_E_PRIMITIVE_ARGS' });
  });
});
