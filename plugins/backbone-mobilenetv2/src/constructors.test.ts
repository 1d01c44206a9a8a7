import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchSpace, BuildContext, CategoricalParam, SlotSpec, StateTransformer, TensorParam } from '@modnas/core';
import { Module, Slot, defineComponent, definePlugin, getRegistry, tf, z } from '@modnas/core';
import { writeYamlAtomic } from '@modnas/kit-io';
import { archDescOf } from '@modnas/kit-mixed-op';
import { defaultMixedOpConstructor } from '@modnas/construct-mixed-op';
import { defaultRecursiveArchDescConstructor } from '@modnas/construct-recursive-arch-desc';
import { defaultSlotArchDescConstructor } from '@modnas/construct-slot-arch-desc';
import { defaultParamsExporter } from '@modnas/export-params';
import { defaultRecursiveExporter } from '@modnas/export-recursive';
import { defaultSlotTraversalExporter } from '@modnas/export-slot-traversal';
import { BatchNorm2d } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { cifarMobileNetV2, cifarMobileNetV2Gpu, imageNetMobileNetV2, imageNetMobileNetV2Gpu } from './backbones.js';
import { mobileNetV2ArchDescConstructor, mobileNetV2SearchConstructor } from './constructors.js';
import original from './fixtures/original-numbers.json' with { type: 'json' };
import type { MobileNetV2 } from './model.js';

/**
 * A stand-in mixed op (the real BinGate, Index ... live in plugins/mixed-op-*): holds its candidates
 * as children (so the supernet's weights are theirs), one arch param (a logits tensor, or a
 * categorical over the names with `discrete`), runs the chosen candidate, describes itself by it.
 * `lazy` builds no candidates (for counting the discrete space of big supernets cheaply).
 */
class StandInMixed extends Module {
  constructor(
    readonly names: string[],
    readonly ops: Module[],
    readonly param: TensorParam | CategoricalParam,
  ) {
    super();
    ops.forEach((m, i) => this.addModule(names[i], m));
  }

  get chosen(): number {
    return this.param.type === 'tensor' ? this.param.argmax() : this.param.index;
  }

  choose(name: string): void {
    const k = this.names.indexOf(name);
    if (k < 0) throw new Error(`no candidate ${name} in ${this.names.join(',')}`);
    if (this.param.type === 'tensor') this.param.assign(this.names.map((_, i) => (i === k ? 1 : 0)));
    else this.param.index = k;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.ops[this.chosen].call(x);
  }

  toArchDesc(): string {
    return this.names[this.chosen];
  }
}
const standIn = defineComponent({
  kind: 'mixed-op',
  id: 'StandInMixed',
  description: 'test stand-in for a mixed op',
  schema: z.strictObject({ primitives: z.array(z.string()).default([]), discrete: z.boolean().default(false), lazy: z.boolean().default(false) }),
  async create(config, ctx: BuildContext, spec: SlotSpec) {
    const ops: Module[] = [];
    if (!config.lazy) for (const p of config.primitives) ops.push(await ctx.build('primitive', p, spec));
    const param = config.discrete ? ctx.space.categorical({ choices: config.primitives }, 'c') : ctx.space.tensor({ shape: [config.primitives.length], init: 'normal' }, 't');
    return new StandInMixed(config.primitives, ops, param);
  },
});

beforeAll(() => {
  for (const p of [mbconv, basic, definePlugin({ meta: { name: 'backbone-mobilenetv2-test', version: '0.0.0' }, components: [standIn] })]) getRegistry().register(p);
});

const VARIANTS = { ImageNet_MobileNetV2: imageNetMobileNetV2, CIFAR_MobileNetV2: cifarMobileNetV2, ImageNet_MobileNetV2_GPU: imageNetMobileNetV2Gpu, CIFAR_MobileNetV2_GPU: cifarMobileNetV2Gpu } as const;
type VariantId = keyof typeof VARIANTS;
const SIX = ['MB3E3', 'MB3E6', 'MB5E3', 'MB5E6', 'MB7E3', 'MB7E6'];

const bufferSize = (m: Module): number => m.namedBuffers().reduce((a, [, v]) => a + v.size, 0);
const numBN = (m: Module): number => [...m.modules()].filter(([, x]) => x instanceof BatchNorm2d).length;
const mixedOps = (m: Module): StandInMixed[] => [...m.modules()].map(([, x]) => x).filter((x): x is StandInMixed => x instanceof StandInMixed);

async function backbone(id: VariantId, numClasses: number, ctx: BuildContext): Promise<MobileNetV2> {
  const def = VARIANTS[id];
  return (await def.create(def.schema.parse({}), ctx, { numClasses })) as MobileNetV2;
}
async function construct(def: { schema: z.ZodType; create: (c: never, ctx: BuildContext, i: undefined) => StateTransformer | Promise<StateTransformer> }, config: Record<string, unknown>, net: Module, ctx: BuildContext): Promise<Module> {
  const t = await def.create(def.schema.parse(config) as never, ctx, undefined);
  return t.apply(net, ctx);
}
async function supernet(id: VariantId, numClasses: number, config: Record<string, unknown>, ctx = makeBuildContext()): Promise<{ net: MobileNetV2; ctx: BuildContext }> {
  const net = await backbone(id, numClasses, ctx);
  await construct(mobileNetV2SearchConstructor, { mixed_op: 'StandInMixed', ...config }, net, ctx);
  return { net, ctx };
}
const free = (net: Module, space: ArchSpace): void => {
  net.dispose();
  space.dispose();
};

type Sup = { params: number; bn: number; arch_params: number; cat_size: number };
const SUPER = original.supernets as unknown as Record<string, Sup>;

describe('MobileNetV2SearchConstructor: the original\'s search space', () => {
  // CreeperLin/modnas@21a5166, MobileNetV2SearchConstructor(candidates=six, mixed_op=BinaryGateMixedOp) under
  // PyTorch 1.13 (notes section 1.5): params for 1000 / 10 classes, BN running-stat elements, BN layers.
  const WANT = {
    ori: { 1000: 10440680, 10: 9172490, bn: 148448, nbn: 292, mixed: 16, nil: 10 },
    gpu: { 1000: 16034168, 10: 14765978, bn: 215648, nbn: 382, mixed: 21, nil: 15 },
  };
  for (const id of Object.keys(VARIANTS) as VariantId[]) {
    for (const numClasses of [10, 1000] as const) {
      it(`${id}, ${numClasses} classes: first block fixed, ${id.endsWith('GPU') ? 21 : 16} mixed ops, NIL where a block can be skipped; weights as the original`, async () => {
        const w = id.endsWith('GPU') ? WANT.gpu : WANT.ori;
        const { net, ctx } = await supernet(id, numClasses, {});
        const slots = Slot.find(net);
        expect(archDescOf(slots[0][1].impl)).toBe('MB3E1');
        const ops = mixedOps(net);
        expect(ops).toHaveLength(w.mixed);
        expect(ops.filter((m) => m.names.includes('NIL'))).toHaveLength(w.nil);
        expect(ops.every((m, i) => m.names.slice(0, 6).join() === SIX.join() && (m.names.length === 6 || m.names[6] === 'NIL') && (m.names.length === 7) === net.blocks()[i + 1].residual)).toBe(true);
        expect(ctx.space.all()).toHaveLength(w.mixed);
        expect([net.numParams(), bufferSize(net), numBN(net)]).toEqual([w[numClasses], w.bn, w.nbn]);
        free(net, ctx.space);
      });
    }
  }

  it('runs: the CIFAR supernet maps 32x32 inputs to logits', async () => {
    const { net, ctx } = await supernet('CIFAR_MobileNetV2', 10, { primitives: ['MB3E3', 'IDT'] });
    net.eval();
    const y = tf.tidy(() => net.call(tf.randomNormal([1, 32, 32, 3])));
    expect(y.shape).toEqual([1, 10]);
    y.dispose();
    free(net, ctx.space);
  });

  for (const name of ['ori', 'gpu'] as const) {
    const id: VariantId = name === 'ori' ? 'ImageNet_MobileNetV2' : 'ImageNet_MobileNetV2_GPU';
    it(`${id}: discrete space size and arch params as the original's with an index mixed op (with and without NIL, other candidate sets)`, async () => {
      for (const cands of [SIX, ['MB3E3', 'MB5E6'], ['MB3E1', 'MB9E9', 'IDT']]) {
        for (const zero of [true, false]) {
          const want = SUPER[`super ${name} ${cands.join('+')} IndexMixedOp zero=${zero ? 'True' : 'False'}`];
          const { net, ctx } = await supernet(id, 10, { mixed_op: { type: 'StandInMixed', discrete: true, lazy: true }, primitives: cands, add_zero_op: zero });
          expect([ctx.space.all().length, ctx.space.size()]).toEqual([want.arch_params, BigInt(want.cat_size)]);
          free(net, ctx.space);
        }
      }
    });

    it(`${id}: weights of supernets over other candidate sets equal the original's`, async () => {
      for (const cands of [['MB3E3', 'MB5E6'], ['MB3E1', 'MB9E9', 'IDT']]) {
        const want = SUPER[`super ${name} ${cands.join('+')} BinaryGateMixedOp zero=True`];
        const { net, ctx } = await supernet(id, 10, { primitives: cands });
        expect([net.numParams(), bufferSize(net), ctx.space.all().length]).toEqual([want.params, want.bn, want.arch_params]);
        free(net, ctx.space);
      }
    });

    it(`${id} + DefaultMixedOpConstructor (no fixed block, no NIL): weights, arch params and space size as the original's`, async () => {
      const want = SUPER[`defaultmixed ${name} n=10`];
      const ctx = makeBuildContext();
      const net = await backbone(id, 10, ctx);
      await construct(defaultMixedOpConstructor, { mixed_op: 'StandInMixed', primitives: SIX }, net, ctx);
      expect([net.numParams(), bufferSize(net), ctx.space.all().length]).toEqual([want.params, want.bn, want.arch_params]);
      free(net, ctx.space);
      const ctx2 = makeBuildContext();
      const lazy = await backbone(id, 10, ctx2);
      await construct(defaultMixedOpConstructor, { mixed_op: { type: 'StandInMixed', discrete: true, lazy: true }, primitives: SIX }, lazy, ctx2);
      expect(ctx2.space.size()).toBe(BigInt(SUPER[`defaultmixed index ${name} n=10 catsize`] as unknown as string));
      free(lazy, ctx2.space);
    });
  }

  it('fix_first: false searches the first block too; NIL is not added twice', async () => {
    const { net, ctx } = await supernet('CIFAR_MobileNetV2', 10, { fix_first: false, primitives: ['MB3E3', 'NIL'], mixed_op: { type: 'StandInMixed', lazy: true } });
    const ops = mixedOps(net);
    expect(ops).toHaveLength(17);
    expect(ops.every((m) => m.names.join() === 'MB3E3,NIL')).toBe(true);
    free(net, ctx.space);
  });
});

type RoundTrip = { desc: Array<[string] | null>; params: number; bn: number };
const ROUND_TRIPS = original.roundtrip as unknown as Record<string, RoundTrip>;

describe('round trip: search space -> exported arch_desc -> the fixed network', () => {
  for (const [key, rt] of Object.entries(ROUND_TRIPS)) {
    const [name, pattern] = key.split(' ');
    const id: VariantId = name === 'ori' ? 'CIFAR_MobileNetV2' : 'ImageNet_MobileNetV2_GPU';
    it(`${id}, choices "${pattern}": the exported desc rebuilds a network with the original's weights (${rt.params.toLocaleString('en-US')})`, async () => {
      // The original exported rt.desc from a BinaryGate supernet after the same choices, then rebuilt it with
      // MobileNetV2ArchDescConstructor: rt.params / rt.bn (CreeperLin/modnas@21a5166, PyTorch 1.13).
      const { net, ctx } = await supernet(id, 10, { mixed_op: { type: 'StandInMixed', lazy: true } });
      const chosen = rt.desc.slice(1).map((d) => d![0]);
      mixedOps(net).forEach((m, i) => m.choose(chosen[i]));
      const exporter = await defaultSlotTraversalExporter.create(defaultSlotTraversalExporter.schema.parse({}), ctx, undefined);
      const desc = exporter.export(net, ctx.space) as string[];
      // ours names the fixed first block (MB3E1) where the original writes null
      expect(desc).toEqual(['MB3E1', ...chosen]);
      free(net, ctx.space);

      const forms: Array<[string, typeof mobileNetV2ArchDescConstructor | typeof defaultSlotArchDescConstructor, unknown]> = [
        ['ours', mobileNetV2ArchDescConstructor, desc],
        ['ours, generic constructor', defaultSlotArchDescConstructor, desc],
        ['the original\'s form (null + one-element lists)', mobileNetV2ArchDescConstructor, rt.desc],
      ];
      for (const [form, def, arch_desc] of forms) {
        const c = makeBuildContext();
        const fixed = await backbone(id, 10, c);
        await construct(def, { arch_desc }, fixed, c);
        expect([fixed.numParams(), bufferSize(fixed)], form).toEqual([rt.params, rt.bn]);
        expect(Slot.find(fixed).map(([, s]) => archDescOf(s.impl)), form).toEqual(['MB3E1', ...chosen]);
        expect(c.space.all(), form).toHaveLength(0);
        fixed.dispose();
      }
    });
  }

  it('DefaultSlotArchDescConstructor on CIFAR_MobileNetV2 builds the original\'s accepted example with its weights', async () => {
    // /work/notes/modnas-original.md section 5: [['MB3E1'], ['MB3E6'] x6, 'NIL', ['MB5E3'] x9] -> 1,389,258 (10 classes)
    const ctx = makeBuildContext();
    const fixed = await backbone('CIFAR_MobileNetV2', 10, ctx);
    await construct(defaultSlotArchDescConstructor, { arch_desc: [['MB3E1'], ...Array(6).fill(['MB3E6']), 'NIL', ...Array(9).fill(['MB5E3'])] }, fixed, ctx);
    expect(fixed.numParams()).toBe(1389258);
    fixed.dispose();
  });

  it('the fixed network has exactly the chosen candidates\' weights (counted one by one) and runs', async () => {
    const rt = ROUND_TRIPS['ori cycle'];
    const ctx = makeBuildContext();
    const fixed = await backbone('CIFAR_MobileNetV2', 10, ctx);
    await construct(mobileNetV2ArchDescConstructor, { arch_desc: rt.desc }, fixed, ctx);
    const slots = Slot.find(fixed);
    let want = fixed.numParams() - slots.reduce((a, [, s]) => a + s.numParams(), 0);
    for (const [i, [, s]] of slots.entries()) {
      const op = await ctx.build('primitive', i === 0 ? 'MB3E1' : rt.desc[i]![0], { chnIn: s.chnIn, chnOut: s.chnOut, stride: s.stride });
      want += op.numParams();
      op.dispose();
    }
    expect(fixed.numParams()).toBe(want);
    fixed.eval();
    const y = tf.tidy(() => fixed.call(tf.randomNormal([1, 32, 32, 3])));
    expect(y.shape).toEqual([1, 10]);
    y.dispose();
    fixed.dispose();
  });

  it('through a YAML file, a flat list, the recursive exporter and constructor, and the params exporter', async () => {
    const rt = ROUND_TRIPS['gpu cycle'];
    const chosen = rt.desc.slice(1).map((d) => d![0]);
    const { net, ctx } = await supernet('CIFAR_MobileNetV2_GPU', 10, { mixed_op: { type: 'StandInMixed', discrete: true, lazy: true } });
    mixedOps(net).forEach((m, i) => m.choose(chosen[i]));
    const slotDesc = (await defaultSlotTraversalExporter.create(defaultSlotTraversalExporter.schema.parse({}), ctx, undefined)).export(net, ctx.space);
    const nested = (await defaultRecursiveExporter.create(defaultRecursiveExporter.schema.parse({}), ctx, undefined)).export(net, ctx.space) as Record<string, unknown>;
    const params = (await defaultParamsExporter.create(defaultParamsExporter.schema.parse({}), ctx, undefined)).export(net, ctx.space);
    expect(Object.values(params as Record<string, string>)).toEqual(chosen);
    expect(Object.keys(nested)).toEqual(['bottlenecks']);
    free(net, ctx.space);

    const dir = mkdtempSync(join(tmpdir(), 'modnas-rt-'));
    writeYamlAtomic(join(dir, 'arch.yaml'), slotDesc);
    const cases: Array<[string, typeof mobileNetV2ArchDescConstructor | typeof defaultRecursiveArchDescConstructor, unknown]> = [
      ['YAML file', mobileNetV2ArchDescConstructor, join(dir, 'arch.yaml')],
      ['flat list with a leading null', mobileNetV2ArchDescConstructor, [null, ...chosen]],
      ['recursive', defaultRecursiveArchDescConstructor, nested],
    ];
    for (const [form, def, arch_desc] of cases) {
      const c = makeBuildContext();
      const fixed = await backbone('CIFAR_MobileNetV2_GPU', 10, c);
      await construct(def, { arch_desc }, fixed, c);
      expect([fixed.numParams(), bufferSize(fixed)], form).toEqual([rt.params, rt.bn]);
      fixed.dispose();
    }
  });
});
