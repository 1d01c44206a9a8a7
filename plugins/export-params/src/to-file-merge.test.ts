import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { tf } from '@modnas/core';
import { ArchSpace, Module, defineComponent, definePlugin, getRegistry, isModnasError, z } from '@modnas/core';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import plugin from './index.js';
import { EXPORT_PATH_CODE } from '@modnas/kit-mixed-op';
import { toFilePath } from './to-file.js';

class Empty extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}
// an exporter whose description is a string
const text = defineComponent({
  kind: 'exporter',
  id: 'TextTestExporter',
  description: 'test: a string',
  schema: z.strictObject({ text: z.string().default('net: MB3E3').describe('the text') }),
  create: (c) => ({ export: () => c.text }),
});

beforeAll(() => {
  getRegistry().register(plugin);
  getRegistry().register(definePlugin({ meta: { name: 'to-file-test', version: '0.0.0' }, components: [text] }));
});

function space(): ArchSpace {
  const s = new ArchSpace();
  s.categorical({ choices: ['MB3E3', 'MB5E6'], default: 1 }, 'c');
  s.numeric({ low: 0, high: 1, default: 0.25 }, 'n');
  return s;
}
const run = async (spec: Record<string, unknown>, s: ArchSpace, outputDir?: string): Promise<unknown> =>
  (await makeBuildContext({ outputDir }).build('exporter', spec as { type: string })).export(new Empty(), s);
const codeOf = (e: unknown): unknown => (isModnasError(e) ? e.code : e);

describe('DefaultToFileExporter', () => {
  it("adds ext where the path has none; the path's own extension wins (the original's rule)", () => {
    expect(toFilePath('out/arch', 'yaml')).toEqual({ file: 'out/arch.yaml', format: 'yaml' });
    expect(toFilePath('out/arch', 'json')).toEqual({ file: 'out/arch.json', format: 'json' });
    expect(toFilePath('out/arch.json', 'yaml')).toEqual({ file: 'out/arch.json', format: 'json' });
    expect(toFilePath('out/arch.yml', 'json')).toEqual({ file: 'out/arch.yml', format: 'yaml' });
  });

  it("writes the inner exporter's description as YAML or JSON, and returns it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-to-file-'));
    const s = space();
    const desc = await run({ type: 'DefaultToFileExporter', path: 'a' }, s, dir);
    expect(desc).toEqual({ c_0: 'MB5E6', n_0: 0.25 });
    expect(parseYaml(readFileSync(join(dir, 'a.yaml'), 'utf8'))).toEqual(desc);
    await run({ type: 'DefaultToFileExporter', path: 'out/b', ext: 'json', exporter: { type: 'DefaultParamsExporter', with_keys: false } }, s, dir);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'b.json'), 'utf8'))).toEqual(['MB5E6', 0.25]);
    // a string is written as it is; an absolute path inside the experiment folder is accepted
    await run({ type: 'DefaultToFileExporter', path: join(dir, 'c.yaml'), exporter: 'TextTestExporter' }, s, dir);
    expect(readFileSync(join(dir, 'c.yaml'), 'utf8')).toBe('net: MB3E3\n');
    s.dispose();
  });

  it('refuses, as it is built, a path that leaves the experiment folder (MODNAS_E_EXPORT_PATH, naming the key)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'modnas-to-file-'));
    const dir = join(root, 'exp');
    mkdirSync(dir);
    symlinkSync(root, join(dir, 'up'));
    const s = space();
    for (const path of ['../a', join(root, 'a'), '/etc/modnas-x', 'up/a', '~/a', 'file:///tmp/a', 'x/../../a']) {
      const err = await run({ type: 'DefaultToFileExporter', path }, s, dir).catch((e: unknown) => e);
      expect(codeOf(err), path).toBe(EXPORT_PATH_CODE);
      expect(String((err as Error).message), path).toContain('test.path');
    }
    // a run that writes no files has no folder: the export says so rather than writing anywhere
    expect(codeOf(await run({ type: 'DefaultToFileExporter', path: 'a' }, s).catch((e: unknown) => e))).toBe(EXPORT_PATH_CODE);
    s.dispose();
  });
});

describe('MergeExporter', () => {
  it("maps each name to its exporter's description", async () => {
    const s = space();
    expect(await run({ type: 'MergeExporter', exporters: { params: { type: 'DefaultParamsExporter', args: { with_keys: false } }, text: 'TextTestExporter' } }, s)).toEqual({
      params: ['MB5E6', 0.25],
      text: 'net: MB3E3',
    });
    await expect(run({ type: 'MergeExporter', exporters: {} }, s)).rejects.toThrow(/MergeExporter names no exporter/);
    s.dispose();
  });
});
