import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { tf } from '@modnas/core';
import { ArchSpace, Module, getRegistry } from '@modnas/core';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import plugin from './index.js';
import { defaultParamsExporter, formatPython } from './params.js';

class Empty extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

// DefaultToFileExporter and MergeExporter build their exporters by id
getRegistry().register(plugin);
const exportOnce = (e: unknown): void => void (e as { export(m: Module, s: ArchSpace): unknown }).export(new Empty(), new ArchSpace());
describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: { DefaultParamsExporter: exportOnce, DefaultToFileExporter: exportOnce, MergeExporter: exportOnce },
  configs: { DefaultToFileExporter: { path: 'arch' }, MergeExporter: { exporters: { p: 'DefaultParamsExporter' } } },
});

function space(): ArchSpace {
  const s = new ArchSpace();
  s.categorical({ choices: ['MB3E3', 'MB5E6', 'NIL'], default: 1 }, 'c');
  s.tensor({ shape: [3], init: [0.5, 2, -1] }, 't');
  s.numeric({ low: 0, high: 1, default: 0.25 }, 'n');
  s.categorical({ name: 'depth', choices: [2, 3, 4], default: 2 });
  return s;
}

const run = async (config: Record<string, unknown>, s: ArchSpace, outputDir?: string): Promise<unknown> =>
  (await defaultParamsExporter.create(defaultParamsExporter.schema.parse(config), makeBuildContext({ outputDir }), undefined)).export(new Empty(), s);

describe('DefaultParamsExporter', () => {
  it('maps every arch param\'s name to its value (tensors as their values, as the original)', async () => {
    const s = space();
    const out = (await run({}, s)) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['c_0', 't_0', 'n_0', 'depth']);
    expect(out.c_0).toBe('MB5E6');
    expect(out.n_0).toBe(0.25);
    expect(out.depth).toBe(4);
    (out.t_0 as number[]).forEach((v, i) => expect(v).toBeCloseTo([0.5, 2, -1][i], 6));
    s.dispose();
  });

  it('writes tensors as argmax or softmax, values as a list, or a format string', async () => {
    const s = space();
    expect(((await run({ tensor: 'argmax' }, s)) as Record<string, unknown>).t_0).toBe(1);
    const p = ((await run({ tensor: 'softmax' }, s)) as Record<string, number[]>).t_0;
    const z = Math.exp(0.5) + Math.exp(2) + Math.exp(-1);
    p.forEach((v, i) => expect(v).toBeCloseTo(Math.exp([0.5, 2, -1][i]) / z, 6));
    const list = (await run({ with_keys: false, tensor: 'argmax' }, s)) as unknown[];
    expect(list).toEqual(['MB5E6', 1, 0.25, 4]);
    expect(await run({ export_fmt: 'net-{c_0}-d{depth}-{{x}}', tensor: 'argmax' }, s)).toBe('net-MB5E6-d4-{x}');
    expect(await run({ export_fmt: '{}_{}|{2}', with_keys: false, tensor: 'argmax' }, s)).toBe('MB5E6_1|0.25');
    await expect(run({ export_fmt: '{nope}' }, s)).rejects.toThrow(/no arch param/);
    s.dispose();
  });

  it('writes the export to a file when given a path', async () => {
    const s = space();
    const dir = mkdtempSync(join(tmpdir(), 'modnas-params-'));
    const out = await run({ path: 'p.yaml', tensor: 'argmax' }, s, dir);
    expect(parseYaml(readFileSync(join(dir, 'p.yaml'), 'utf8'))).toEqual(out);
    s.dispose();
  });

  it('formats like Python str.format for plain fields', () => {
    expect(formatPython('{a}/{0}/{1:>3}', { a: 'x' }, [1, 2])).toBe('x/1/2');
  });
});
