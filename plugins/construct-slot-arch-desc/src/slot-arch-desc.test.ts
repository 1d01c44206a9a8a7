import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildContext } from '@modnas/core';
import { Module, Slot, Tokens, getRegistry, tf } from '@modnas/core';
import { archDescOf } from '@modnas/kit-mixed-op';
import { Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from './index.js';
import { defaultSlotArchDescConstructor } from './slot-arch-desc.js';

beforeAll(() => {
  getRegistry().register(mbconv);
  getRegistry().register(basic);
});

/** Three Slots: 4->4 s1, 4->8 s2, 8->8 s1. */
class TinyNet extends Module {
  readonly stem = this.addModule('stem', new Conv2d(3, 4, { kernelSize: 3 }));
  readonly a = this.addModule('a', new Slot({ chnIn: 4, chnOut: 4, stride: 1 }));
  readonly b = this.addModule('b', new Slot({ chnIn: 4, chnOut: 8, stride: 2 }));
  readonly c = this.addModule('c', new Slot({ chnIn: 8, chnOut: 8, stride: 1 }));
  readonly pool = this.addModule('pool', new GlobalAvgPool());
  readonly fc = this.addModule('fc', new Linear(8, 3));

  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(this.pool.call(this.c.call(this.b.call(this.a.call(this.stem.call(x))))));
  }
}

const apply = async (config: Record<string, unknown>, ctx: BuildContext = makeBuildContext(), net = new TinyNet()): Promise<TinyNet> => {
  const t = await defaultSlotArchDescConstructor.create(defaultSlotArchDescConstructor.schema.parse(config), ctx, undefined);
  await t.apply(net, ctx);
  return net;
};
const descs = (net: Module): unknown[] => Slot.find(net).map(([, s]) => archDescOf(s.impl) ?? null);

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { DefaultSlotArchDescConstructor: { arch_desc: ['MB3E3', 'MB5E6', 'NIL'] } },
  step: {
    DefaultSlotArchDescConstructor: async (t) => {
      const ctx = makeBuildContext();
      const net = await (t as { apply(m: Module, c: BuildContext): Promise<Module> }).apply(new TinyNet(), ctx);
      tf.dispose(tf.tidy(() => net.call(tf.randomNormal([1, 6, 6, 3]))));
      net.dispose();
    },
  },
});

describe('DefaultSlotArchDescConstructor', () => {
  it('builds the i-th Slot from the i-th entry: flat list, one-element lists (the original\'s export), specs, [id, {args}] pairs', async () => {
    for (const arch_desc of [
      ['MB3E3', 'MB5E6', 'NIL'],
      [['MB3E3'], ['MB5E6'], ['NIL']],
      [{ type: 'MB3E3' }, ['MB5E6'], 'NIL'],
      [['MB3E3', {}], { type: 'MB5E6', args: {} }, ['NIL']],
    ]) {
      const net = await apply({ arch_desc });
      expect(descs(net)).toEqual(['MB3E3', 'MB5E6', 'NIL']);
      // MB3E3 4->4: 48+24+108+24+48+8 = 260; MB5E6 4->8: 1000 (the original's count); NIL: 0
      expect(net.numParams()).toBe(108 + 260 + 1000 + 0 + 27);
      net.dispose();
    }
  });

  it('reads the experiment\'s arch_desc (Tokens.ArchDesc) when it has none of its own', async () => {
    const ctx = makeBuildContext();
    ctx.container.registerInstance(Tokens.ArchDesc, ['IDT', 'IDT', 'MB9E9']);
    const net = await apply({}, ctx);
    expect(descs(net)).toEqual(['IDT', 'IDT', 'MB9E9']);
    net.dispose();
  });

  it('reads YAML and JSON files and YAML text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-archdesc-'));
    writeFileSync(join(dir, 'a.yaml'), '- [MB3E1]\n- [MB7E3]\n- [NIL]\n');
    writeFileSync(join(dir, 'b.json'), '["MB3E9", "IDT", "MB5E1"]');
    let net = await apply({ arch_desc: join(dir, 'a.yaml') });
    expect(descs(net)).toEqual(['MB3E1', 'MB7E3', 'NIL']);
    net.dispose();
    net = await apply({ arch_desc: join(dir, 'b.json') });
    expect(descs(net)).toEqual(['MB3E9', 'IDT', 'MB5E1']);
    net.dispose();
    net = await apply({ arch_desc: '[MB3E6, MB3E6, IDT]' });
    expect(descs(net)).toEqual(['MB3E6', 'MB3E6', 'IDT']);
    net.dispose();
    await expect(apply({ arch_desc: join(dir, 'missing.yaml') })).rejects.toThrow(/does not exist/);
  });

  it('visits only empty Slots; a null entry leaves its Slot to a later constructor', async () => {
    const ctx = makeBuildContext();
    const net = new TinyNet();
    const kept = await ctx.build('primitive', 'MB3E1', { chnIn: 4, chnOut: 8, stride: 2 });
    net.b.fill(kept);
    await apply({ arch_desc: [null, 'IDT'] }, ctx, net);
    expect(net.a.filled).toBe(false);
    expect(net.b.impl).toBe(kept);
    expect(archDescOf(net.c.impl)).toBe('IDT');
    await apply({ arch_desc: ['MB5E3'] }, ctx, net);
    expect(descs(net)).toEqual(['MB5E3', 'MB3E1', 'IDT']);
    net.dispose();
  });

  it('rejects a short list, a mapping, an entry of several ops, and names unknown ops', async () => {
    await expect(apply({ arch_desc: ['MB3E3'] })).rejects.toThrow(/1 entries, but the model has 3 empty Slots/);
    await expect(apply({ arch_desc: { a: 'MB3E3' } })).rejects.toThrow(/DefaultRecursiveArchDescConstructor/);
    await expect(apply({ arch_desc: ['MB3E3', ['MB3E3', 'MB5E3'], 'NIL'] })).rejects.toThrow(/one op per Slot/);
    await expect(apply({ arch_desc: ['MB3E3', 'MB4E3', 'NIL'] })).rejects.toThrow(/MB4E3/);
    await expect(apply({}, makeBuildContext())).rejects.toThrow(/no architecture description/);
  });

  it('lists inline entries for up-front validation', () => {
    const refs = defaultSlotArchDescConstructor.refs!(defaultSlotArchDescConstructor.schema.parse({ arch_desc: [null, ['MB3E3'], { type: 'IDT' }] }));
    expect(refs).toEqual([
      { kind: 'primitive', spec: 'MB3E3', path: 'arch_desc.1' },
      { kind: 'primitive', spec: { type: 'IDT' }, path: 'arch_desc.2' },
    ]);
  });
});
