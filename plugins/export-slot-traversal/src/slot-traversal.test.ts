import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { tf } from '@modnas/core';
import { ArchSpace, Module, Slot, getRegistry } from '@modnas/core';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import plugin from './index.js';
import { defaultSlotTraversalExporter } from './slot-traversal.js';

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

/** A stand-in mixed op: its description is the candidate its logits favour (as the real mixed ops). */
class PickOne extends Chain {
  constructor(
    readonly names: string[],
    readonly logits: number[],
  ) {
    super();
  }

  toArchDesc(): string {
    return this.names[this.logits.indexOf(Math.max(...this.logits))];
  }
}

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    DefaultSlotTraversalExporter: (e) => void (e as { export(m: Module, s: ArchSpace): unknown }).export(new Chain(), new ArchSpace()),
    DefaultMixedOpExporter: (e) => void (e as { export(m: Module, s: ArchSpace): unknown }).export(new Chain(), new ArchSpace()),
  },
});

async function net(): Promise<Chain> {
  const ctx = makeBuildContext();
  const n = new Chain();
  const s = (chnIn: number, chnOut: number, stride = 1): Slot => new Slot({ chnIn, chnOut, stride });
  const a = n.addModule('a', s(4, 8, 2));
  a.fill(await ctx.build('primitive', 'MB5E3', { chnIn: 4, chnOut: 8, stride: 2 }));
  const b = n.addModule('b', s(8, 8));
  b.fill(new PickOne(['MB3E3', 'MB3E6', 'NIL'], [0.1, -0.2, 0.3]));
  n.addModule('c', s(8, 8));
  // a Slot filled with a sub-network that has a Slot of its own
  const d = n.addModule('d', s(8, 8));
  const inner = new Chain();
  const e = inner.addModule('e', s(8, 8));
  e.fill(await ctx.build('primitive', 'IDT', { chnIn: 8, chnOut: 8, stride: 1 }));
  d.fill(inner);
  return n;
}

describe('DefaultSlotTraversalExporter', () => {
  it('lists one entry per Slot in traversal order: the op id, the mixed op\'s choice, null when there is none', async () => {
    const n = await net();
    const exporter = await defaultSlotTraversalExporter.create(defaultSlotTraversalExporter.schema.parse({}), makeBuildContext(), undefined);
    // a: a primitive; b: the mixed op's choice; c: empty; d: a sub-network (no description), e: nested Slot
    expect(exporter.export(n, new ArchSpace())).toEqual(['MB5E3', 'NIL', null, null, 'IDT']);
    n.dispose();
  });

  it('also writes the list to a YAML or JSON file when given a path', async () => {
    const n = await net();
    const dir = mkdtempSync(join(tmpdir(), 'modnas-export-'));
    for (const [file, format, parse] of [
      ['arch.yaml', null, parseYaml],
      ['arch.json', null, JSON.parse],
      ['arch.txt', 'json', JSON.parse],
    ] as const) {
      const exporter = await defaultSlotTraversalExporter.create(defaultSlotTraversalExporter.schema.parse({ path: file, format }), makeBuildContext({ outputDir: dir }), undefined);
      const desc = exporter.export(n, new ArchSpace());
      expect((parse as (s: string) => unknown)(readFileSync(join(dir, file), 'utf8'))).toEqual(desc);
    }
    n.dispose();
  });
});
