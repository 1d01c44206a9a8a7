import type { BuildContext, StateTransformer, Module } from '@modnas/core';
import { Slot, getRegistry, tf } from '@modnas/core';
import { MixedOp, archDescOf } from '@modnas/kit-mixed-op';
import { defaultSlotArchDescConstructor } from '@modnas/construct-slot-arch-desc';
import { defaultSlotTraversalExporter } from '@modnas/export-slot-traversal';
import bingate from '@modnas/mixed-op-bingate';
import gumbel from '@modnas/mixed-op-gumbel-sum';
import index from '@modnas/mixed-op-index';
import weighted from '@modnas/mixed-op-weighted-sum';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { cifarMobileNetV2 } from './backbones.js';
import { mobileNetV2ArchDescConstructor, mobileNetV2SearchConstructor } from './constructors.js';
import type { MobileNetV2 } from './model.js';

beforeAll(() => {
  for (const p of [mbconv, basic, bingate, gumbel, index, weighted]) getRegistry().register(p);
});

const bufferSize = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);

async function apply(def: { schema: { parse(c: unknown): unknown }; create: (c: never, ctx: BuildContext, i: undefined) => StateTransformer | Promise<StateTransformer> }, config: Record<string, unknown>, net: Module, ctx: BuildContext): Promise<void> {
  await (await def.create(def.schema.parse(config) as never, ctx, undefined)).apply(net, ctx);
}

describe('the seed\'s search space with the real mixed ops: CIFAR_MobileNetV2 + MobileNetV2SearchConstructor', () => {
  // CreeperLin/modnas@21a5166 under PyTorch 1.13 (notes section 1.5 and the issue-3 fixtures): 9,172,490
  // weights and 148,448 BN statistics for 10 classes, 16 arch params; an index op spans 6^6 x 7^10 points.
  for (const type of ['BinGate', 'BinGateUniform', 'WeightedSum', 'GumbelSum', 'Index']) {
    it(`${type}: weights, arch params and space as the original's; exported desc rebuilds the chosen network`, async () => {
      const ctx = makeBuildContext({ seed: 3 });
      const net = (await cifarMobileNetV2.create(cifarMobileNetV2.schema.parse({}), ctx, { numClasses: 10 })) as MobileNetV2;
      await apply(mobileNetV2SearchConstructor, { mixed_op: { type } }, net, ctx);
      const ops = MixedOp.find(net).map(([, m]) => m);
      expect(ops).toHaveLength(16);
      expect([net.numParams(), bufferSize(net), ctx.space.all().length]).toEqual([9172490, 148448, 16]);
      expect(ctx.space.size()).toBe(type === 'Index' ? 13179165217344n : 1n);
      expect(ops.filter((m) => m.candidateNames().at(-1) === 'NIL')).toHaveLength(10);

      // choose candidate (i mod n) of each op through its arch param, export, rebuild
      ops.forEach((m, i) => {
        const k = (i * 5 + 1) % m.numCandidates;
        const p = m.archParam;
        if (p.type === 'tensor') (p as unknown as { assign(v: number[]): void }).assign(m.candidateNames().map((_, j) => (j === k ? 3 : 0)));
        else (p as unknown as { index: number }).index = k;
      });
      const chosen = ops.map((m, i) => m.candidateNames()[(i * 5 + 1) % m.numCandidates]);
      const desc = (await defaultSlotTraversalExporter.create(defaultSlotTraversalExporter.schema.parse({}), ctx, undefined)).export(net, ctx.space);
      expect(desc).toEqual(['MB3E1', ...chosen]);
      net.eval();
      const y = tf.tidy(() => net.call(tf.randomNormal([1, 32, 32, 3])));
      expect(y.shape).toEqual([1, 10]);
      y.dispose();
      net.dispose();
      ctx.space.dispose();

      // the original rebuilt the same choices ("ori cycle" of the fixtures) with 1,822,218 weights
      for (const def of [mobileNetV2ArchDescConstructor, defaultSlotArchDescConstructor]) {
        const c = makeBuildContext();
        const fixed = await cifarMobileNetV2.create(cifarMobileNetV2.schema.parse({}), c, { numClasses: 10 });
        await apply(def, { arch_desc: desc }, fixed, c);
        expect([fixed.numParams(), bufferSize(fixed)]).toEqual([1822218, 25680]);
        expect(Slot.find(fixed).map(([, s]) => archDescOf(s.impl))).toEqual(desc);
        fixed.dispose();
      }
    });
  }
});
