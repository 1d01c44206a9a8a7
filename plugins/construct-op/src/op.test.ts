import type { BuildContext } from '@modnas/core';
import { Module, Slot, getRegistry, tf } from '@modnas/core';
import { archDescOf } from '@modnas/kit-mixed-op';
import { Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from './index.js';
import { defaultOpConstructor } from './op.js';

beforeAll(() => {
  getRegistry().register(mbconv);
  getRegistry().register(basic);
});

class TinyNet extends Module {
  readonly stem = this.addModule('stem', new Conv2d(3, 4, { kernelSize: 3 }));
  readonly a = this.addModule('a', new Slot({ chnIn: 4, chnOut: 4, stride: 1 }));
  readonly b = this.addModule('b', new Slot({ chnIn: 4, chnOut: 8, stride: 2 }));
  readonly pool = this.addModule('pool', new GlobalAvgPool());
  readonly fc = this.addModule('fc', new Linear(8, 3));

  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(this.pool.call(this.b.call(this.a.call(this.stem.call(x)))));
  }
}

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { DefaultOpConstructor: { op: 'MB3E6' } },
  step: {
    DefaultOpConstructor: async (t) => {
      const ctx = makeBuildContext();
      const net = await (t as { apply(m: Module, c: BuildContext): Promise<Module> }).apply(new TinyNet(), ctx);
      tf.dispose(tf.tidy(() => net.call(tf.randomNormal([1, 6, 6, 3]))));
      net.dispose();
    },
  },
});

describe('DefaultOpConstructor', () => {
  it('fills every empty Slot with the op; the network has the op\'s weights (original counts for MB5E3 4->8: 508)', async () => {
    const ctx = makeBuildContext();
    const t = await defaultOpConstructor.create(defaultOpConstructor.schema.parse({ op: 'MB5E3' }), ctx, undefined);
    const net = await t.apply(new TinyNet(), ctx);
    expect(Slot.find(net).map(([, s]) => archDescOf(s.impl))).toEqual(['MB5E3', 'MB5E3']);
    // MB5E3 4->4: expand 4*12 + BN 24 + dw 25*12 + BN 24 + project 12*4 + BN 8 = 452; 4->8 (stride does not
    // change weights): 508, as the original's MB5E3 builder (CreeperLin/modnas@21a5166 under PyTorch 1.13).
    expect(net.numParams()).toBe(3 * 4 * 9 + 452 + 508 + 8 * 3 + 3);
    expect(ctx.space.all()).toHaveLength(0);
    const y = tf.tidy(() => net.call(tf.randomNormal([2, 8, 8, 3])));
    expect(y.shape).toEqual([2, 3]);
    y.dispose();
    net.dispose();
  });

  it('takes a spec, leaves filled Slots, and validates the op up front', async () => {
    const ctx = makeBuildContext();
    const net = new TinyNet();
    const keep = await ctx.build('primitive', 'NIL', { chnIn: 4, chnOut: 4, stride: 1 });
    net.a.fill(keep);
    const config = defaultOpConstructor.schema.parse({ op: { type: 'IDT' } });
    expect(defaultOpConstructor.refs!(config)).toEqual([{ kind: 'primitive', spec: { type: 'IDT' }, path: 'op' }]);
    await (await defaultOpConstructor.create(config, ctx, undefined)).apply(net, ctx);
    expect(net.a.impl).toBe(keep);
    expect(archDescOf(net.b.impl)).toBe('IDT');
    expect(net.b.impl?.constructor.name).toBe('FactorizedReduce');
    net.dispose();
  });

  it('says op is missing when none is given', async () => {
    const ctx = makeBuildContext();
    const t = await defaultOpConstructor.create(defaultOpConstructor.schema.parse({}), ctx, undefined);
    const net = new TinyNet();
    await expect(t.apply(net, ctx)).rejects.toThrow(/needs the op/);
    net.dispose();
  });
});
