// `modnas export` and `modnas predict` through the real command: the quickstart's search and
// training (quick), both exported and checked, images classified as @modnas classifies them, and
// every refusal (no trained network, unknown format, unwritable folder, bad images) with its code.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectPredictionsMatch, mnistTestPngs } from '../../../test/export-fixtures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const out = mkdtempSync(join(tmpdir(), 'modnas-export-'));
const search = join(out, 'quickstart');
const trained = join(out, 'quickstart-train');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

const meta = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'modnas.json'), 'utf8')) as Record<string, unknown>;
const QUICK = ['-o', 'quick=true', '--output-dir', out, '-q'];

beforeAll(async () => {
  const s = await cli(['run', 'examples/quickstart/search.yaml', ...QUICK]);
  expect(s.code, s.stderr).toBe(0);
  const t = await cli(['train', 'examples/quickstart/train.yaml', '--arch', join(search, 'outputs', 'arch_search_best.yaml'), ...QUICK]);
  expect(t.code, t.stderr).toBe(0);
}, 300_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('modnas export', () => {
  it('writes the trained network as a tfjs graph model and as ONNX, each run once against @modnas, with its modnas.json', async () => {
    const r = await cli(['export', trained, '--format', 'both']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^tfjs: .*export\/tfjs \(checked in @tensorflow\/tfjs-converter/m);
    expect(r.stdout).toMatch(/^onnx: .*export\/onnx \(checked in onnxruntime-node/m);
    for (const f of ['tfjs/model.json', 'tfjs/group1-shard1of1.bin', 'tfjs/modnas.json', 'onnx/model.onnx', 'onnx/modnas.json']) expect(existsSync(join(trained, 'export', f)), f).toBe(true);
    const tfjs = meta(join(trained, 'export', 'tfjs'));
    const onnx = meta(join(trained, 'export', 'onnx'));
    expect(tfjs).toMatchObject({ format: 'tfjs-graph-model', input: { shape: [-1, 28, 28, 1], layout: 'NHWC' }, output: { name: 'logits', shape: [-1, 10] }, experiment: { kind: 'train', dataset: 'MNIST' } });
    expect(onnx).toMatchObject({ format: 'onnx', input: { shape: [-1, 1, 28, 28], layout: 'NCHW' } });
    expect(tfjs.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(tfjs.preprocess).toEqual({ height: 28, width: 28, channels: 1, resize: 'fill', mean: [0.1307], std: [0.3081] });
    expect((tfjs.architecture as { arch_desc: unknown[] }).arch_desc).toHaveLength(7);
    expect(tfjs.metrics).toMatchObject({ test_size: 10000, split: 'test' });
    for (const m of [tfjs, onnx]) expect((m.verified as { max_abs_logit_diff: number }).max_abs_logit_diff).toBeLessThan(1e-4);
  });

  it('exports a search as its chosen subnetwork', async () => {
    const r = await cli(['export', search, '--format', 'tfjs', '--out', join(out, 'search-export')]);
    expect(r.code, r.stderr).toBe(0);
    const m = meta(join(out, 'search-export', 'tfjs'));
    expect(m.experiment).toMatchObject({ kind: 'search' });
    expect(Object.keys((m.architecture as { arch: object }).arch)).toHaveLength(6);
    expect(existsSync(join(out, 'search-export', 'onnx'))).toBe(false);
    expect(r.stderr).toMatch(/chosen subnetwork \(one candidate of each of 6 mixed ops\)/);
  });

  it('refuses with exit 2 and a code that names the fix: no trained network, unknown format, unwritable folder', async () => {
    const empty = join(out, 'empty');
    mkdirSync(empty);
    let r = await cli(['export', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MODNAS_E_EXPORT_NO_MODEL.*holds no experiment store/);

    // a run killed mid-training has no final checkpoint
    r = await cli(['train', 'examples/quickstart/train.yaml', '--arch', join(search, 'outputs', 'arch_search_best.yaml'), ...QUICK, '--name', 'killed'], { MODNAS_TEST_KILL_AT: 'step:train@3' });
    expect(r.code).not.toBe(0);
    r = await cli(['export', join(out, 'killed')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MODNAS_E_EXPORT_NO_MODEL.*no finished run has a final checkpoint \(runs: r1 killed\)/);
    expect(r.stderr).toMatch(/modnas resume/);

    // a tabular benchmark has no network
    r = await cli(['run', 'packages/cli/src/fixtures/bench-tabular.yaml', '--output-dir', out, '-q']);
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['export', join(out, 'bench-tabular')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MODNAS_E_EXPORT_NO_MODEL.*space with no network/);

    r = await cli(['export', trained, '--format', 'tflite']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MODNAS_E_EXPORT_FORMAT.*unknown export format "tflite"[\s\S]*--format tfjs, --format onnx or --format both/);

    const file = join(out, 'a-file');
    writeFileSync(file, 'x');
    r = await cli(['export', trained, '--out', join(file, 'sub')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MODNAS_E_IO_UNWRITABLE\]: cannot export to .*a-file\/sub[\s\S]*pass --out <a folder you can write>/);
  });
});

describe('modnas predict', () => {
  it('classifies image files as @modnas does, with either exported model', async () => {
    if (!existsSync(join(trained, 'export', 'onnx'))) expect((await cli(['export', trained])).code).toBe(0);
    const files = await mnistTestPngs(join(out, 'pngs'), 6);
    const r = await cli(['predict', join(trained, 'export'), join(out, 'pngs'), '--top', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(6);
    expect(r.stdout).toMatch(/test-0000\.png {2}\d \d+\.\d%, \d \d+\.\d%\n/);
    const json = JSON.parse((await cli(['predict', join(trained, 'export', 'onnx'), ...files, '--json'])).stdout) as Array<{ file: string; top: unknown[] }>;
    expect(json.map((p) => [p.file, p.top.length])).toEqual(files.map((f) => [f, 3]));
    // the same through the API, probabilities against @modnas's own forward pass
    await expectPredictionsMatch(trained, [join(trained, 'export', 'tfjs'), join(trained, 'export', 'onnx')], files);
  });

  it('reports a bad image by path and keeps going; refuses no images and a folder with no model', async () => {
    const dir = join(out, 'mixed');
    await mnistTestPngs(dir, 2);
    writeFileSync(join(dir, 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    let r = await cli(['predict', join(trained, 'export'), dir]);
    expect(r.code).toBe(2);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/MODNAS_E_DATA_IMAGE.*broken\.png/);

    const none = join(out, 'no-images');
    mkdirSync(none);
    writeFileSync(join(none, 'notes.txt'), 'x');
    r = await cli(['predict', join(trained, 'export'), none]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MODNAS_E_PREDICT_INPUT\]: no image files/);

    r = await cli(['predict', search, dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MODNAS_E_PREDICT_MODEL\]: .* holds no exported model[\s\S]*modnas export/);
  });
});
