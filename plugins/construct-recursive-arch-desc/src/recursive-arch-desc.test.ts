import type { BuildContext, Logger } from '@modnas/core';
import type { ArchDescConvert } from '@modnas/kit-mixed-op';
import { Module, Slot, Tokens, getRegistry, tf } from '@modnas/core';
import { archDescOf } from '@modnas/kit-mixed-op';
import { Conv2d } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from './index.js';
import { defaultRecursiveArchDescConstructor } from './recursive-arch-desc.js';

beforeAll(() => {
  getRegistry().register(mbconv);
  getRegistry().register(basic);
});

class Chain extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    let y = x;
    for (const [, m] of this.children()) y = m.call(y);
    return y;
  }
}

/** A cell that builds itself from a list of [op, repeat]: the kind of module the recursive constructor is for. */
class Cell extends Chain {
  built: unknown;
  constructor(readonly chn: number) {
    super();
    this.addModule('e0', new Slot({ chnIn: chn, chnOut: chn, stride: 1 }));
    this.addModule('e1', new Slot({ chnIn: chn, chnOut: chn, stride: 1 }));
  }

  async buildFromArchDesc(desc: unknown, convert: ArchDescConvert): Promise<void> {
    this.built = desc;
    const [op0, op1] = desc as [string, string];
    await convert(this.getModule('e1') as Slot, op1);
    await convert(this.getModule('e0') as Slot, [op0]);
  }
}

/** stem, a Slot, a block of two Slots, a self-building cell. */
class Net extends Chain {
  constructor() {
    super();
    this.addModule('stem', new Conv2d(3, 4, { kernelSize: 3 }));
    this.addModule('a', new Slot({ chnIn: 4, chnOut: 8, stride: 2 }));
    const blk = this.addModule('blk', new Chain());
    blk.addModule('x', new Slot({ chnIn: 8, chnOut: 8, stride: 1 }));
    blk.addModule('y', new Slot({ chnIn: 8, chnOut: 8, stride: 1 }));
    this.addModule('cell', new Cell(8));
  }
}

const apply = async (config: Record<string, unknown>, ctx: BuildContext = makeBuildContext(), net = new Net()): Promise<Net> => {
  const t = await defaultRecursiveArchDescConstructor.create(defaultRecursiveArchDescConstructor.schema.parse(config), ctx, undefined);
  await t.apply(net, ctx);
  return net;
};
const descs = (net: Module): Record<string, unknown> => Object.fromEntries(Slot.find(net).map(([p, s]) => [p, archDescOf(s.impl) ?? null]));

const DESC = { a: ['MB3E6'], blk: { x: 'IDT', y: 'NIL' }, cell: ['MB5E3', 'MB3E1'] };

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { DefaultRecursiveArchDescConstructor: { arch_desc: DESC } },
  step: {
    DefaultRecursiveArchDescConstructor: async (t) => {
      const ctx = makeBuildContext();
      const net = await (t as { apply(m: Module, c: BuildContext): Promise<Module> }).apply(new Net(), ctx);
      tf.dispose(tf.tidy(() => net.call(tf.randomNormal([1, 6, 6, 3]))));
      net.dispose();
    },
  },
});

describe('DefaultRecursiveArchDescConstructor', () => {
  it('hands each child the value under its name, and a self-building module its whole part', async () => {
    const net = await apply({ arch_desc: DESC });
    expect(descs(net)).toEqual({ a: 'MB3E6', 'blk.x': 'IDT', 'blk.y': 'NIL', 'cell.e0': 'MB5E3', 'cell.e1': 'MB3E1' });
    expect((net.getModule('cell') as Cell).built).toEqual(['MB5E3', 'MB3E1']);
    const y = tf.tidy(() => net.call(tf.randomNormal([2, 8, 8, 3])));
    expect(y.shape).toEqual([2, 4, 4, 8]);
    y.dispose();
    net.dispose();
  });

  it('leaves parts the description does not name, and reads the experiment\'s arch_desc', async () => {
    const ctx = makeBuildContext();
    ctx.container.registerInstance(Tokens.ArchDesc, { blk: { y: ['MB7E6'] } });
    const net = await apply({}, ctx);
    expect(descs(net)).toEqual({ a: null, 'blk.x': null, 'blk.y': 'MB7E6', 'cell.e0': null, 'cell.e1': null });
    net.dispose();
  });

  it('hands a non-mapping to every child, and a Slot takes its first entry (as the original, with a warning)', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
    const ctx = { ...makeBuildContext(), logger };
    const net = new Net();
    net.getModule('cell')!.dispose();
    net.addModule('cell', new Chain());
    await apply({ arch_desc: ['IDT', 'NIL'] }, ctx, net);
    expect(descs(net)).toEqual({ a: 'IDT', 'blk.x': 'IDT', 'blk.y': 'IDT' });
    expect(warnings.some((w) => w.includes('takes the first'))).toBe(true);
    net.dispose();
  });

  it('rejects names the network does not have, and an empty Slot given a mapping', async () => {
    await expect(apply({ arch_desc: { blk: { z: 'IDT' } } })).rejects.toThrow(/blk has no part "z"/);
    await expect(apply({ arch_desc: { a: { impl: 'IDT' } } })).rejects.toThrow(/names no op/);
    await expect(apply({})).rejects.toThrow(/no architecture description/);
  });
});
