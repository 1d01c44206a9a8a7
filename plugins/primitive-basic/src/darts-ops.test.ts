import type { Module, SlotSpec } from '@modnas/core';
import { tf } from '@modnas/core';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { KERNEL_SIZES, dartsOps } from './darts-ops.js';
import plugin from './index.js';

const numBuffers = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);
const build = async (id: string, spec: SlotSpec): Promise<Module> => {
  const def = dartsOps.find((d) => d.id === id);
  if (!def) throw new Error(`no ${id}`);
  return (await def.create({}, makeBuildContext(), spec)) as Module;
};

describe("the original's basic ops (ops.py): AP/MP/SC/SS/NC/DC/DD in every kernel size, AVG, MAX, FTR", () => {
  it('registers each under its name, in kernel sizes 1 to 13, and IDF as the IDT it is', () => {
    const ids = new Set(plugin.components.map((c) => c.id));
    for (const f of ['AP', 'MP', 'SC', 'SS', 'NC', 'DC', 'DD']) for (const k of KERNEL_SIZES) expect(ids.has(`${f}${k}`), `${f}${k}`).toBe(true);
    for (const id of ['AVG', 'MAX', 'FTR', 'IDT', 'NIL']) expect(ids.has(id), id).toBe(true);
    expect(plugin.components.find((c) => c.id === 'IDT')?.aliases).toContain('IDF');
  });

  it("has the original's parameter and BN-statistic counts and output sizes (PyTorch 1.13, a 9x9 input)", async () => {
    // CreeperLin/modnas (dev) arch_space/torch/ops.py, built with its own padding rules:
    // [id, spec, params, BN running-stat elements, output h/w]
    const original: Array<[string, SlotSpec, number, number, number[]]> = [
      ['AP3', { chnIn: 16, chnOut: 16, stride: 1 }, 32, 32, [9, 9]],
      ['AP3', { chnIn: 16, chnOut: 16, stride: 2 }, 32, 32, [5, 5]],
      ['MP5', { chnIn: 16, chnOut: 16, stride: 1 }, 32, 32, [9, 9]],
      ['MP5', { chnIn: 16, chnOut: 16, stride: 2 }, 32, 32, [5, 5]],
      ['SC3', { chnIn: 16, chnOut: 16, stride: 1 }, 864, 64, [9, 9]],
      ['SC3', { chnIn: 8, chnOut: 16, stride: 2 }, 368, 32, [5, 5]],
      ['SC5', { chnIn: 16, chnOut: 16, stride: 2 }, 1376, 64, [5, 5]],
      ['SC5', { chnIn: 8, chnOut: 16, stride: 2 }, 624, 32, [5, 5]],
      ['SS7', { chnIn: 16, chnOut: 16, stride: 1 }, 1072, 32, [9, 9]],
      ['SS7', { chnIn: 8, chnOut: 16, stride: 2 }, 536, 16, [5, 5]],
      ['NC1', { chnIn: 16, chnOut: 16, stride: 2 }, 288, 32, [5, 5]],
      ['NC1', { chnIn: 8, chnOut: 16, stride: 2 }, 144, 16, [5, 5]],
      ['NC3', { chnIn: 16, chnOut: 16, stride: 1 }, 2336, 32, [9, 9]],
      ['NC3', { chnIn: 8, chnOut: 16, stride: 2 }, 1168, 16, [5, 5]],
      ['DC3', { chnIn: 16, chnOut: 16, stride: 1 }, 432, 32, [9, 9]],
      ['DC3', { chnIn: 8, chnOut: 16, stride: 2 }, 216, 16, [5, 5]],
      ['DC5', { chnIn: 16, chnOut: 16, stride: 2 }, 688, 32, [5, 5]],
      ['DC5', { chnIn: 8, chnOut: 16, stride: 2 }, 344, 16, [5, 5]],
      ['DD3', { chnIn: 16, chnOut: 16, stride: 1 }, 432, 32, [9, 9]],
      ['DD3', { chnIn: 8, chnOut: 16, stride: 2 }, 216, 16, [5, 5]],
      ['AVG', { chnIn: 16, chnOut: 16, stride: 2 }, 32, 32, [5, 5]],
      ['MAX', { chnIn: 16, chnOut: 16, stride: 1 }, 32, 32, [9, 9]],
    ];
    for (const [id, spec, params, stats, hw] of original) {
      const m = await build(id, spec);
      expect([id, m.numParams(), numBuffers(m)]).toEqual([id, params, stats]);
      const y = tf.tidy(() => m.call(tf.randomNormal([2, 9, 9, spec.chnIn])));
      expect([id, ...y.shape]).toEqual([id, 2, ...hw, spec.chnOut]);
      expect((m as unknown as { toArchDesc(): string }).toArchDesc()).toBe(id);
      y.dispose();
      m.dispose();
    }
  });

  it('pools over the real pixels only (count_include_pad=False) and max-pools as if padded with -inf', async () => {
    const x = tf.tensor4d(Array.from({ length: 25 }, (_, i) => i - 20), [1, 5, 5, 1]);
    for (const [id, stride] of [['AP3', 1], ['AP5', 2], ['MP3', 2], ['MP7', 1]] as const) {
      const m = await build(id, { chnIn: 1, chnOut: 1, stride });
      m.eval(); // BN with its initial running stats: (x - 0) / sqrt(1 + 1e-5)
      const got = tf.tidy(() => m.call(x).dataSync());
      const k = Number(id.slice(2));
      const p = Math.floor(k / 2);
      const n = Math.floor((5 + 2 * p - k) / stride) + 1;
      const want: number[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const vals: number[] = [];
          for (let a = i * stride - p; a < i * stride - p + k; a++) for (let b = j * stride - p; b < j * stride - p + k; b++) if (a >= 0 && a < 5 && b >= 0 && b < 5) vals.push((a * 5 + b - 20) / Math.sqrt(1 + 1e-5));
          want.push(id.startsWith('AP') ? vals.reduce((s, v) => s + v, 0) / vals.length : Math.max(...vals));
        }
      }
      expect(got.length, id).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(got[i], `${id}[${i}]`).toBeCloseTo(want[i], 4);
      m.dispose();
    }
    x.dispose();
  });

  it('refuses pooling in a Slot that changes channels, naming it (as the original does)', async () => {
    await expect(build('MP3', { chnIn: 8, chnOut: 16, stride: 2 })).rejects.toMatchObject({ code: 'MODNAS_E_PRIMITIVE_ARGS', message: expect.stringContaining('MP3') });
  });

  it('FTR factorizes whatever the Slot, where IDT is the identity', async () => {
    const m = await build('FTR', { chnIn: 16, chnOut: 16, stride: 1 });
    expect(m.numParams()).toBeGreaterThan(0);
    expect((m as unknown as { toArchDesc(): string }).toArchDesc()).toBe('FTR');
    const y = tf.tidy(() => m.call(tf.randomNormal([1, 8, 8, 16])));
    expect(y.shape).toEqual([1, 8, 8, 16]);
    y.dispose();
    m.dispose();
  });
});
