import type { BuildContext, Module, StateTransformer, TensorParam } from '@modnas/core';
import { Slot, getRegistry, tf } from '@modnas/core';
import type { z } from '@modnas/core';
import { defaultRecursiveArchDescConstructor } from '@modnas/construct-recursive-arch-desc';
import { defaultRecursiveExporter } from '@modnas/export-recursive';
import type { CategoricalMixedOp } from '@modnas/kit-mixed-op';
import { MixedOp, archDescOf } from '@modnas/kit-mixed-op';
import indexPlugin from '@modnas/mixed-op-index';
import weightedSumPlugin from '@modnas/mixed-op-weighted-sum';
import { MobileInvertedConvV3 } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { mobileNetV3Large, mobileNetV3Small } from './backbones.js';
import { MBV3_DEFAULT_PRIMITIVES, mobileNetV3ArchDescConstructor, mobileNetV3PredefinedConstructor, mobileNetV3SearchConstructor } from './constructors.js';
import type { MobileNetV3 } from './model.js';

beforeAll(() => {
  for (const p of [mbconv, basic, indexPlugin, weightedSumPlugin]) getRegistry().register(p);
});

const bufferSize = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);
const TWO = ['M3B3E3', 'M3B5E6'];
type Variant = 'small' | 'large';
const DEF = { small: mobileNetV3Small, large: mobileNetV3Large } as const;

async function backbone(v: Variant, ctx: BuildContext): Promise<MobileNetV3> {
  return (await DEF[v].create(DEF[v].schema.parse({ width_mult: 0.25, n_classes: 10 }), ctx, undefined)) as MobileNetV3;
}
async function construct(def: { schema: z.ZodType; create: (c: never, ctx: BuildContext, i: undefined) => StateTransformer | Promise<StateTransformer> }, config: Record<string, unknown>, net: Module, ctx: BuildContext): Promise<Module> {
  const t = await def.create(def.schema.parse(config) as never, ctx, undefined);
  return t.apply(net, ctx);
}
async function supernet(v: Variant, config: Record<string, unknown>, ctx = makeBuildContext()): Promise<{ net: MobileNetV3; ctx: BuildContext }> {
  const net = await backbone(v, ctx);
  await construct(mobileNetV3SearchConstructor, { mixed_op: 'WeightedSum', primitives: TWO, ...config }, net, ctx);
  return { net, ctx };
}
const mixedOps = (m: Module): MixedOp[] => MixedOp.find(m).map(([, x]) => x);

/**
 * The original's MobileNetV3SearchConstructor (fix_first, add_zero_op, keep_config) over
 * candidates [M3B3E3, M3B5E6] on mobilenetv3_{small,large}(n_classes=10, width_mult=0.25): Slots,
 * mixed ops, those with NIL, supernet weights and BN statistics (a weighted-sum mixed op holds no
 * weights of its own). Re-created from CreeperLin/modnas (dev) under PyTorch 1.13, the candidates
 * built as its M3B builders with the block's use_se / use_hs.
 */
const SUPER = {
  small: { slots: 11, nil: 7, params: 202306, bn: 6528 },
  large: { slots: 15, nil: 9, params: 472370, bn: 13184 },
};

/**
 * Round trip: Slot i >= 1 chooses NIL at the first skippable block, else M3B3E3 at odd i and M3B5E6 at
 * even i; the fixed network's weights and BN statistics from the same PyTorch re-creation.
 */
const FIXED = {
  small: { desc: ['M3B3E3', 'NIL', 'M3B3E3', 'M3B5E6', 'M3B3E3', 'M3B5E6', 'M3B3E3', 'M3B5E6', 'M3B3E3', 'M3B5E6'], params: 129226, bn: 3296 },
  large: { desc: ['M3B3E3', 'NIL', 'M3B3E3', 'M3B5E6', 'M3B3E3', 'M3B5E6', 'M3B3E3', 'M3B5E6', 'M3B3E3', 'M3B5E6', 'M3B3E3', 'M3B5E6', 'M3B3E3', 'M3B5E6'], params: 284938, bn: 6720 },
};

describe('MobileNetV3SearchConstructor', () => {
  for (const v of ['small', 'large'] as const) {
    it(`mobilenetv3_${v}: first block fixed, a mixed op over the M3B candidates per other block, NIL where it can be skipped; weights as the original`, async () => {
      const w = SUPER[v];
      const { net, ctx } = await supernet(v, {});
      const slots = Slot.find(net);
      expect(slots).toHaveLength(w.slots);
      expect(slots[0][1].impl).toBeInstanceOf(MobileInvertedConvV3);
      const ops = mixedOps(net);
      expect(ops).toHaveLength(w.slots - 1);
      ops.forEach((m, i) => {
        const block = net.blocks()[i + 1];
        expect(m.candidateNames()).toEqual(block.identity ? [...TWO, 'NIL'] : TWO);
        // keep_config: each candidate has the block's squeeze-excite and activation
        for (const c of m.candidates().slice(0, 2) as MobileInvertedConvV3[]) expect([c.useSe, c.useHs]).toEqual([Boolean(block.useSe), Boolean(block.useHs)]);
      });
      expect(ops.filter((m) => m.candidateNames().includes('NIL'))).toHaveLength(w.nil);
      expect(ctx.space.all()).toHaveLength(w.slots - 1);
      expect([net.numParams(), bufferSize(net)]).toEqual([w.params, w.bn]);
      net.dispose();
      ctx.space.dispose();
    });
  }

  it('defaults to the six M3B candidates; keep_config false gives plain ReLU convs without SE; fix_first false searches block 1', async () => {
    const { net, ctx } = await supernet('small', { primitives: undefined, mixed_op: 'Index', keep_config: false, fix_first: false, add_zero_op: false });
    const ops = mixedOps(net);
    expect(ops).toHaveLength(11);
    expect(ops.every((m) => m.candidateNames().join() === MBV3_DEFAULT_PRIMITIVES.join())).toBe(true);
    expect(ops.flatMap((m) => m.candidates() as MobileInvertedConvV3[]).every((c) => !c.useSe && !c.useHs)).toBe(true);
    net.dispose();
    ctx.space.dispose();
  });

  it('trains the supernet: one step moves the weights and the arch params', async () => {
    const { net, ctx } = await supernet('small', { primitives: ['M3B3E1', 'M3B3E3H'] });
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 11);
    const y = tf.oneHot(tf.tensor1d([1, 7], 'int32'), 10);
    const alphas = (ctx.space.all() as TensorParam[]).map((p) => p.value);
    const vars = [...net.parameters(), ...alphas];
    const before = vars.map((p) => p.clone());
    const opt = tf.train.sgd(0.1);
    opt.minimize(() => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, net.call(x)), false, vars);
    const moved = vars.map((p, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(p, before[i]))).dataSync()[0]) > 0);
    expect(moved.slice(net.parameters().length).every(Boolean)).toBe(true);
    expect(moved.filter(Boolean).length).toBe(vars.length);
    tf.dispose([x, y, ...before]);
    opt.dispose();
    net.dispose();
    ctx.space.dispose();
  });
});

describe('round trip: search space -> exported arch_desc -> the fixed network', () => {
  for (const v of ['small', 'large'] as const) {
    it(`mobilenetv3_${v}: the exported desc rebuilds a network with the original's weights (${FIXED[v].params.toLocaleString('en-US')})`, async () => {
      const rt = FIXED[v];
      const { net, ctx } = await supernet(v, { mixed_op: 'Index' });
      mixedOps(net).forEach((m, i) => ((m as CategoricalMixedOp).archParam.value = rt.desc[i]));
      const flat = Slot.find(net).map(([, s]) => archDescOf(s.impl));
      const nested = (await defaultRecursiveExporter.create(defaultRecursiveExporter.schema.parse({}), ctx, undefined)).export(net, ctx.space);
      // the candidates name themselves with the block's flags (M3B3E3 in an SE + h-swish block is M3B3E3SH)
      const blocks = net.blocks();
      const suffix = (i: number): string => `${blocks[i].useSe ? 'S' : ''}${blocks[i].useHs ? 'H' : ''}`;
      // the fixed first block (8->8 expanded to 16 at width 0.25: x2) is no M3B primitive: it names none
      expect(flat[0]).toBeNull();
      expect(flat.slice(1)).toEqual(rt.desc.map((d, i) => (d === 'NIL' ? 'NIL' : `${d}${suffix(i + 1)}`)));
      net.dispose();
      ctx.space.dispose();

      const forms: Array<[string, typeof mobileNetV3ArchDescConstructor | typeof defaultRecursiveArchDescConstructor, Record<string, unknown>]> = [
        ['exported list', mobileNetV3ArchDescConstructor, { arch_desc: flat }],
        ['exported list, keep_config false (the names carry the flags)', mobileNetV3ArchDescConstructor, { arch_desc: flat, keep_config: false }],
        ["the original's form (null + one-element lists of plain names, keep_config)", mobileNetV3ArchDescConstructor, { arch_desc: [null, ...rt.desc.map((d) => [d])] }],
        ['recursive exporter -> DefaultRecursiveArchDescConstructor', defaultRecursiveArchDescConstructor, { arch_desc: nested }],
      ];
      for (const [form, def, config] of forms) {
        const c = makeBuildContext();
        const fixed = await backbone(v, c);
        await construct(def, config, fixed, c);
        if (def === defaultRecursiveArchDescConstructor) {
          // the first block is left out of the nested desc (it names no primitive): the predefined constructor fills it
          expect(Slot.find(fixed).map(([, s]) => s.filled), form).toEqual(Slot.find(fixed).map((_, i) => i > 0));
          await construct(mobileNetV3PredefinedConstructor, {}, fixed, c);
        }
        expect([fixed.numParams(), bufferSize(fixed)], form).toEqual([rt.params, rt.bn]);
        expect(c.space.all(), form).toHaveLength(0);
        expect(Slot.find(fixed).every(([, s]) => s.filled), form).toBe(true);
        fixed.eval();
        const y = tf.tidy(() => fixed.call(tf.randomNormal([1, 16, 16, 3])));
        expect(y.shape).toEqual([1, 10]);
        y.dispose();
        fixed.dispose();
      }
    });
  }

  it('without keep_config the plain names build plain convs: fewer weights than the original search gave', async () => {
    const rt = FIXED.small;
    const c = makeBuildContext();
    const fixed = await backbone('small', c);
    await construct(mobileNetV3ArchDescConstructor, { arch_desc: [null, ...rt.desc], keep_config: false }, fixed, c);
    expect(fixed.numParams()).toBeLessThan(rt.params);
    expect(Slot.find(fixed).slice(1).filter(([, s]) => s.impl instanceof MobileInvertedConvV3).every(([, s]) => !(s.impl as MobileInvertedConvV3).useSe)).toBe(true);
    fixed.dispose();
  });

  it('rejects a desc of the wrong length', async () => {
    const c = makeBuildContext();
    const fixed = await backbone('small', c);
    await expect(construct(mobileNetV3ArchDescConstructor, { arch_desc: ['M3B3E3'] }, fixed, c)).rejects.toThrow(/entries/);
    fixed.dispose();
  });
});
