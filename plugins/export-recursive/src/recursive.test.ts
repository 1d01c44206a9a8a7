import type { tf } from '@modnas/core';
import { ArchSpace, Module, Slot, getRegistry } from '@modnas/core';
import { Conv2d } from '@modnas/nn';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from './index.js';
import { defaultRecursiveExporter } from './recursive.js';

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

/** Describes itself as a whole (as a cell that knows its edges would). */
class Cell extends Chain {
  toArchDesc(): unknown {
    return [['MB3E3', 0], ['NIL', 1]];
  }
}

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: { DefaultRecursiveExporter: (e) => void (e as { export(m: Module, s: ArchSpace): unknown }).export(new Chain(), new ArchSpace()) },
});

async function net(): Promise<Chain> {
  const ctx = makeBuildContext();
  const n = new Chain();
  n.addModule('stem', new Conv2d(3, 4, { kernelSize: 3 }));
  const a = n.addModule('a', new Slot({ chnIn: 4, chnOut: 8, stride: 2 }));
  a.fill(await ctx.build('primitive', 'MB7E6', { chnIn: 4, chnOut: 8, stride: 2 }));
  const blk = n.addModule('blk', new Chain());
  const x = blk.addModule('x', new Slot({ chnIn: 8, chnOut: 8 }));
  x.fill(await ctx.build('primitive', 'NIL', { chnIn: 8, chnOut: 8, stride: 1 }));
  blk.addModule('y', new Slot({ chnIn: 8, chnOut: 8 }));
  n.addModule('cell', new Cell());
  const d = n.addModule('d', new Slot({ chnIn: 8, chnOut: 8 }));
  const inner = new Chain();
  inner.addModule('e', new Slot({ chnIn: 8, chnOut: 8 })).fill(await ctx.build('primitive', 'IDT', { chnIn: 8, chnOut: 8, stride: 1 }));
  d.fill(inner);
  return n;
}

describe('DefaultRecursiveExporter', () => {
  it('gives each self-describing module under the names of the modules holding it, leaving out empty parts', async () => {
    const n = await net();
    const e = await defaultRecursiveExporter.create(defaultRecursiveExporter.schema.parse({}), makeBuildContext(), undefined);
    expect(e.export(n, new ArchSpace())).toEqual({
      a: 'MB7E6',
      blk: { x: 'NIL' },
      cell: [['MB3E3', 0], ['NIL', 1]],
      d: { impl: { e: 'IDT' } },
    });
    n.dispose();
  });

  it('keeps every module with keep_empty, as the original', async () => {
    const n = await net();
    const e = await defaultRecursiveExporter.create(defaultRecursiveExporter.schema.parse({ keep_empty: true }), makeBuildContext(), undefined);
    const desc = e.export(n, new ArchSpace()) as Record<string, unknown>;
    expect(desc.stem).toEqual({});
    expect(desc.blk).toEqual({ x: 'NIL', y: {} });
    expect(Object.keys(desc)).toEqual(['stem', 'a', 'blk', 'cell', 'd']);
    n.dispose();
  });
});
