import type { ArchSpace, BuildContext, SlotSpec } from '@modnas/core';
import { Module, Slot, defineComponent, definePlugin, getRegistry, tf, z } from '@modnas/core';
import { Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from './index.js';
import { defaultMixedOpConstructor } from './mixed-op.js';

/** A stand-in mixed op (the real ones live in plugins/mixed-op-*): softmax-weighted sum, records what it was given. */
const seen: Array<{ config: unknown; spec: SlotSpec }> = [];
class StandInMixed extends Module {
  constructor(
    readonly names: string[],
    readonly ops: Module[],
    readonly alpha: ReturnType<ArchSpace['tensor']>,
  ) {
    super();
    ops.forEach((m, i) => this.addModule(String(i), m));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const w = tf.softmax(this.alpha.variable);
    return tf.addN(this.ops.map((m, i) => tf.mul(m.call(x), tf.gather(w, i))));
  }

  toArchDesc(): string {
    return this.names[this.alpha.argmax()];
  }
}
const standIn = defineComponent({
  kind: 'mixed-op',
  id: 'StandInMixed',
  description: 'test stand-in',
  schema: z.strictObject({ primitives: z.array(z.string()).default(['IDT']), scale: z.number().default(1) }),
  async create(config, ctx: BuildContext, spec: SlotSpec) {
    seen.push({ config, spec });
    const ops: Module[] = [];
    for (const p of config.primitives) ops.push(await ctx.build('primitive', p, spec));
    return new StandInMixed(config.primitives, ops, ctx.space.tensor({ shape: [ops.length], init: 'zeros' }));
  },
});
const testPlugin = definePlugin({ meta: { name: 'construct-mixed-op-test', version: '0.0.0' }, components: [standIn] });

beforeAll(() => {
  getRegistry().register(mbconv);
  getRegistry().register(basic);
  getRegistry().register(testPlugin);
});

/** stem conv, two Slots (4->4 s1, 4->8 s2), pool, fc. */
class TinyNet extends Module {
  readonly stem = this.addModule('stem', new Conv2d(3, 4, { kernelSize: 3 }));
  readonly a = this.addModule('a', new Slot({ chnIn: 4, chnOut: 4, stride: 1 }));
  readonly b = this.addModule('b', new Slot({ chnIn: 4, chnOut: 8, stride: 2, expansion: 6 }));
  readonly pool = this.addModule('pool', new GlobalAvgPool());
  readonly fc = this.addModule('fc', new Linear(8, 3));

  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(this.pool.call(this.b.call(this.a.call(this.stem.call(x)))));
  }
}

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { DefaultMixedOpConstructor: { mixed_op: 'StandInMixed', primitives: ['MB3E3', 'IDT'] } },
  step: {
    DefaultMixedOpConstructor: async (t) => {
      const ctx = makeBuildContext();
      const net = await (t as { apply(m: Module, c: BuildContext): Promise<Module> }).apply(new TinyNet(), ctx);
      tf.dispose(tf.tidy(() => net.call(tf.randomNormal([1, 6, 6, 3]))));
      net.dispose();
      ctx.space.dispose();
    },
  },
});

describe('DefaultMixedOpConstructor', () => {
  it('fills every empty Slot with the mixed op over the primitives, passing each Slot\'s spec', async () => {
    seen.length = 0;
    const ctx = makeBuildContext();
    const prims = ['MB3E3', 'MB5E6', 'IDT'];
    const t = await defaultMixedOpConstructor.create(defaultMixedOpConstructor.schema.parse({ mixed_op: { type: 'StandInMixed', scale: 2 }, primitives: prims }), ctx, undefined);
    const net = await t.apply(new TinyNet(), ctx);
    const slots = Slot.find(net);
    expect(slots.map(([p, s]) => [p, s.impl?.constructor.name])).toEqual([['a', 'StandInMixed'], ['b', 'StandInMixed']]);
    expect(seen.map((s) => s.config)).toEqual([{ primitives: prims, scale: 2 }, { primitives: prims, scale: 2 }]);
    expect(seen.map((s) => [s.spec.chnIn, s.spec.chnOut, s.spec.stride, s.spec.args])).toEqual([[4, 4, 1, {}], [4, 8, 2, { expansion: 6 }]]);
    // one arch param per Slot, and the weights are the candidates' weights (counted one by one)
    expect(ctx.space.tensors().map((p) => p.shape)).toEqual([[3], [3]]);
    let want = 3 * 4 * 3 * 3 + 8 * 3 + 3;
    for (const spec of [{ chnIn: 4, chnOut: 4, stride: 1 }, { chnIn: 4, chnOut: 8, stride: 2 }]) {
      for (const p of prims) {
        const m = await ctx.build('primitive', p, spec);
        want += m.numParams();
        m.dispose();
      }
    }
    expect(net.numParams()).toBe(want);
    const y = tf.tidy(() => net.call(tf.randomNormal([2, 8, 8, 3])));
    expect(y.shape).toEqual([2, 3]);
    y.dispose();
    net.dispose();
    ctx.space.dispose();
  });

  it('leaves filled Slots alone, and takes the original\'s key "candidates" and a bare mixed-op id', async () => {
    const ctx = makeBuildContext();
    const net = new TinyNet();
    const idt = await ctx.build('primitive', 'IDT', { chnIn: 4, chnOut: 4, stride: 1 });
    net.a.fill(idt);
    const t = await defaultMixedOpConstructor.create(defaultMixedOpConstructor.schema.parse({ mixed_op: 'StandInMixed', candidates: ['MB3E1', 'MB3E6'] }), ctx, undefined);
    await t.apply(net, ctx);
    expect(net.a.impl).toBe(idt);
    expect((net.b.impl as StandInMixed).names).toEqual(['MB3E1', 'MB3E6']);
    expect(ctx.space.tensors()).toHaveLength(1);
    net.dispose();
    ctx.space.dispose();
  });

  it('defaults to BinGate over the six MobileNetV2 candidates, and lists them for up-front validation', () => {
    const config = defaultMixedOpConstructor.schema.parse({});
    expect(config.mixed_op).toEqual({ type: 'BinGate' });
    expect(config.primitives).toEqual(['MB3E3', 'MB3E6', 'MB5E3', 'MB5E6', 'MB7E3', 'MB7E6']);
    const refs = defaultMixedOpConstructor.refs!(config);
    expect(refs[0]).toEqual({ kind: 'mixed-op', spec: { type: 'BinGate', primitives: config.primitives }, path: 'mixed_op' });
    expect(refs.slice(1).map((r) => [r.kind, r.spec, r.path])).toEqual(config.primitives.map((p, i) => ['primitive', p, `primitives.${i}`]));
  });

  it('names the unknown primitive when a Slot cannot be built', async () => {
    const ctx = makeBuildContext();
    const t = await defaultMixedOpConstructor.create(defaultMixedOpConstructor.schema.parse({ mixed_op: 'StandInMixed', primitives: ['MB3E3', 'MB4E4'] }), ctx, undefined);
    const net = new TinyNet();
    await expect(t.apply(net, ctx)).rejects.toThrow(/MB4E4/);
    net.dispose();
    ctx.space.dispose();
  });
});
