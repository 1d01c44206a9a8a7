import { fileURLToPath } from 'node:url';
import type { BuildContext, ComponentKind, ComponentSpec, KindInput, KindOutput } from '@modnas/core';
import { specConfig } from '@modnas/config';
import { ArchSpace, Registry, Rng, Slot, silentLogger, tf } from '@modnas/core';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { discoverPlugins } from '@modnas/discovery';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The names of the seed README that issue 3 covers, by kind. */
const SEED = {
  backbone: ['ImageNet_MobileNetV2', 'CIFAR_MobileNetV2', 'ImageNet_MobileNetV2_GPU', 'CIFAR_MobileNetV2_GPU'],
  primitive: [...[3, 5, 7, 9].flatMap((k) => [1, 3, 6, 9].map((e) => `MB${k}E${e}`)), 'NIL', 'IDT'],
  construct: ['DefaultMixedOpConstructor', 'DefaultOpConstructor', 'DefaultSlotArchDescConstructor', 'DefaultRecursiveArchDescConstructor'],
  exporter: ['DefaultSlotTraversalExporter', 'DefaultRecursiveExporter', 'DefaultParamsExporter'],
} as const;

function buildContext(registry: Registry): BuildContext {
  const ctx: BuildContext = {
    container: rootContainer.createChildContainer(),
    space: new ArchSpace(),
    rng: new Rng(0),
    logger: silentLogger,
    where: 'test',
    build: async <K extends ComponentKind>(kind: K, spec: ComponentSpec | string, input?: KindInput[K]): Promise<KindOutput[K]> => {
      const { type, config } = specConfig(spec);
      const def = await registry.resolve(kind, type);
      return (await def.create(def.schema.parse(config), ctx, input)) as KindOutput[K];
    },
  };
  return ctx;
}

describe('every seed name of issue 3 resolves through discovery (built packages) and builds', () => {
  it('backbones, primitives, constructors and exporters', async () => {
    const registry = new Registry();
    discoverPlugins({ cwd: root, registry });
    const ctx = buildContext(registry);
    for (const id of SEED.primitive) {
      const m = await ctx.build('primitive', id, { chnIn: 8, chnOut: 8, stride: 1 });
      expect((m as unknown as { toArchDesc(): unknown }).toArchDesc()).toBe(id);
      m.dispose();
    }
    for (const id of SEED.backbone) {
      const net = await ctx.build('backbone', id, { numClasses: 10 });
      const desc = Array(Slot.find(net).length).fill('MB3E3');
      const t = await ctx.build('construct', { type: 'DefaultSlotArchDescConstructor', arch_desc: desc });
      await t.apply(net, ctx);
      expect(net.numParams()).toBeGreaterThan(0);
      net.dispose();
    }
    const net = await ctx.build('backbone', { type: 'CIFAR_MobileNetV2', width_coeff: 0.35, depth_coeff: 0.3 }, { numClasses: 10 });
    const specs: Record<string, ComponentSpec> = {
      DefaultMixedOpConstructor: { type: 'DefaultMixedOpConstructor', mixed_op: 'Index', primitives: ['MB3E3', 'IDT'] },
      DefaultOpConstructor: { type: 'DefaultOpConstructor', op: 'MB3E1' },
      DefaultSlotArchDescConstructor: { type: 'DefaultSlotArchDescConstructor', arch_desc: [] },
      DefaultRecursiveArchDescConstructor: { type: 'DefaultRecursiveArchDescConstructor', arch_desc: {} },
    };
    for (const id of SEED.construct) {
      const t = await ctx.build('construct', specs[id]);
      expect(typeof t.apply).toBe('function');
    }
    await (await ctx.build('construct', specs.DefaultMixedOpConstructor)).apply(net, ctx);
    const exported = [];
    for (const id of SEED.exporter) exported.push((await ctx.build('exporter', id)).export(net, ctx.space));
    expect((exported[0] as unknown[]).length).toBe(Slot.find(net).length);
    expect(Object.keys(exported[2] as object)).toHaveLength(ctx.space.all().length);
    tf.dispose(tf.tidy(() => net.call(tf.randomNormal([1, 8, 8, 3]))));
    net.dispose();
    ctx.space.dispose();
  });
});
