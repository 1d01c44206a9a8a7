import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exporter } from '@modnas/core';
import { ArchSpace, Slot, getRegistry, tf } from '@modnas/core';
import backbonePlugin, { MobileNetV2 } from '@modnas/backbone-mobilenetv2';
import type { MobileNetV2Row } from '@modnas/backbone-mobilenetv2';
import elasticPlugin, { mobileNetV2ElasticConstructor } from '@modnas/construct-elastic';
import { countFlops } from '@modnas/nn';
import basicPlugin from '@modnas/primitive-basic';
import mbconvPlugin from '@modnas/primitive-mbconv';
import { MobileInvertedConv } from '@modnas/nn';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { elasticArchDescExporterSchema, mobileNetV2ElasticArchDescExporter } from './elastic-arch-desc-exporter.js';
import plugin from './index.js';

const TABLE: MobileNetV2Row[] = [
  [0, 8, 1, 1],
  [1, 8, 1, 1],
  [6, 8, 3, 1],
  [6, 16, 2, 2],
];

function filled(): MobileNetV2 {
  const net = new MobileNetV2({ cfgs: TABLE, numClasses: 4, dropoutRate: 0 });
  Slot.find(net).forEach(([, s], i) => s.fill(new MobileInvertedConv(s.chnIn, s.chnOut, s.stride, { expansion: i === 0 ? 1 : 6, kernelSize: i === 0 ? 3 : 7 })));
  return net;
}

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    MobileNetV2ElasticArchDescExporter: (ex) => {
      const net = filled();
      expect((ex as Exporter).export(net, new ArchSpace())).toEqual([null, 'MB7E6', 'MB7E6', 'MB7E6', 'MB7E6', 'MB7E6']);
      net.dispose();
    },
  },
});

describe('MobileNetV2ElasticArchDescExporter', () => {
  it('writes the current subnet; MobileNetV2ArchDescConstructor builds a network of the same structure and FLOPs from it', async () => {
    for (const p of [backbonePlugin, elasticPlugin, mbconvPlugin, basicPlugin]) getRegistry().register(p);
    const space = new ArchSpace();
    const dir = mkdtempSync(join(tmpdir(), 'elastic-export-'));
    const ctx = makeBuildContext({ space, outputDir: dir });
    const net = filled();
    const t = (await mobileNetV2ElasticConstructor.create(mobileNetV2ElasticConstructor.schema.parse({ spatial_kwargs: { expansion_range: [3, 6] }, sequential_kwargs: { repeat_range: [1, 2, 3] } }), ctx, undefined));
    await t.apply(net, ctx);
    space.apply({ seq_0: 2, seq_1: 1, spa_0: 3, spa_1: 6, ker_0: 5, ker_1: 3, ker_3: 5 });
    const ex = (await mobileNetV2ElasticArchDescExporter.create(elasticArchDescExporterSchema.parse({ path: 'arch.json' }), ctx, undefined));
    const desc = ex.export(net, space) as unknown[];
    expect(desc).toEqual([null, 'MB5E3', 'MB3E6', 'NIL', 'MB5E6', 'NIL']);
    expect(JSON.parse(readFileSync(join(dir, 'arch.json'), 'utf8'))).toEqual(desc);

    const fixed = new MobileNetV2({ cfgs: TABLE, numClasses: 4, dropoutRate: 0 });
    const build = await ctx.build('construct', { type: 'MobileNetV2ArchDescConstructor', arch_desc: desc });
    await build.apply(fixed, ctx);
    expect(Slot.find(fixed).map(([, s]) => (s.impl as unknown as { toArchDesc?: () => unknown }).toArchDesc?.() ?? null).slice(1)).toEqual(desc.slice(1));
    expect(countFlops(fixed, [8, 8, 3])).toBe(countFlops(net, [8, 8, 3]));
    expect(tf.memory().numTensors).toBeGreaterThan(0);
    fixed.dispose();
    net.dispose();
    space.dispose();
  });

  it('fix_first: false describes the first block too', () => {
    const net = filled();
    const ex = mobileNetV2ElasticArchDescExporter.create(elasticArchDescExporterSchema.parse({ fix_first: false }), makeBuildContext(), undefined) as Exporter;
    expect((ex.export(net, new ArchSpace()) as unknown[])[0]).toBe('MB3E1');
    net.dispose();
  });
});
