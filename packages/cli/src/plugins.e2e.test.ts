// Plugins that try to take the CLI down, through the real command: one that calls process.exit on a
// timer after its import, one that calls process.reallyExit, one that spins forever. `plugins list`
// imports no plugin code; `plugins doctor` names all three with their codes; `run` keeps working,
// and a config that uses one of them gets its coded error instead of dying with it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const tmp = mkdtempSync(join(tmpdir(), 'modnas-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const marker = join(tmp, 'imported');
const HOSTILE: Record<string, { id: string; code: string }> = {
  'timer-exit': { id: 'TimerExit', code: 'setTimeout(() => process.exit(3), 50);' },
  'really-exit': { id: 'ReallyExit', code: 'process.reallyExit(9);' },
  spin: { id: 'Spin', code: 'while (true) {}' },
};
const dirs = Object.entries(HOSTILE).map(([name, h]) => {
  const d = join(tmp, name);
  mkdirSync(d);
  writeFileSync(join(d, 'package.json'), JSON.stringify({ name: `hostile-${name}`, version: '1.0.0', type: 'module', exports: { '.': './index.mjs' }, modnas: { schemaVersion: 1, kind: 'primitive', provides: [h.id], aliases: {} } }));
  // every import leaves a mark, so a command that imports no plugin code can be told apart
  writeFileSync(join(d, 'index.mjs'), `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(marker)}, ${JSON.stringify(name + '\n')});\n${h.code}\nexport default {};\n`);
  return d;
});
// a project outside the workspace: the plugins a small run needs, and the three hostile ones
const project = join(tmp, 'project');
mkdirSync(project);
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'hostile-host', private: true }));
const needed = ['dataset-synthetic', 'backbone-mobilenetv2', 'trainer-default', 'estim-default', 'construct-op', 'export-slot-traversal'].map((p) => join(root, 'plugins', p));
// outside any node_modules, the verdicts go to the user's cache folder: here, the test's own
const cache = join(tmp, 'cache');
const ENV = { ...process.env, MODNAS_PLUGIN_PATH: [...needed, ...dirs].join(delimiter), MODNAS_PLUGIN_IMPORT_TIMEOUT_MS: '2000', MODNAS_BACKEND: 'cpu', XDG_CACHE_HOME: cache };

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [bin, ...args], { cwd: project, env: ENV });
    let out = '';
    let err = '';
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => res({ code, out, err }));
  });
}

/** A tiny training run whose Slots are filled with `op`. */
const config = (op: string): string => {
  const f = join(project, `run-${op}.yaml`);
  writeFileSync(
    f,
    `name: h-${op}\noutput_dir: ${JSON.stringify(join(tmp, 'exp'))}\ndata: { type: Synthetic, size: 16, test_size: 8, image_size: 8, num_classes: 4 }\nmodel: { type: MobileNetV2, cfgs: [[0, 8, 1, 1], [1, 8, 1, 1]] }\nconstruct: { c: { type: DefaultOpConstructor, op: ${op} } }\ntrainer: { type: DefaultTrainer, batch_size: 8 }\nestim: { t: { type: DefaultEstimator, epochs: 1 } }\n`,
  );
  return f;
};

describe('plugins that would take the CLI down', () => {
  it('plugins list reads the manifests only: no plugin code runs', async () => {
    const r = await cli(['plugins', 'list']);
    expect(r.code, r.err).toBe(0);
    for (const h of Object.values(HOSTILE)) expect(r.out).toMatch(new RegExp(`primitive\\s+${h.id}\\s`));
    expect(existsSync(marker)).toBe(false);
  });

  it("the tensor engines come from the CLI's own dependencies, found as plugins: listed as rows of kind engine and in run --help, nothing imported", async () => {
    const list = await cli(['plugins', 'list']);
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/^engine\s+native\s/m);
    expect(list.out).toMatch(/^engine\s+wasm\s/m);
    const help = await cli(['run', '--help']);
    expect(help.code, help.err).toBe(0);
    expect(help.out).toContain('-b, --backend <name>       tensor backend: auto (default), tensorflow, native, wasm, cpu\n');
    expect(existsSync(marker)).toBe(false);
  });

  it('plugins doctor names each one with its code, and exits 1', async () => {
    const r = await cli(['plugins', 'doctor']);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/hostile-timer-exit:\n\s+plugin hostile-timer-exit ended the process just after being imported \(exit code 3\)/);
    expect(r.out).toMatch(/hostile-really-exit:\n\s+plugin hostile-really-exit ended the process while being imported \(exit code 9\)/);
    expect(r.out).toMatch(/hostile-spin:\n\s+importing plugin hostile-spin did not finish in 2s/);
    // the marks show the imports happened (in child processes)
    expect(existsSync(marker)).toBe(true);
  });

  it('a run that does not use them works; one that does gets the coded error, exit 2', async () => {
    const ok = await cli(['run', config('MB3E3'), '-q']);
    expect(ok.code, ok.err).toBe(0);
    const spin = await cli(['run', config('Spin'), '-q']);
    expect(spin.code).toBe(2);
    expect(spin.err).toMatch(/MODNAS_E_CONFIG_INVALID[\s\S]*construct\.c\.op\.type: importing plugin hostile-spin did not finish/);
    // the verdicts are remembered (until a package's entry changes), so later commands pay no probe
    const verdicts = JSON.parse(readFileSync(join(cache, 'modnas', 'plugin-probes.json'), 'utf8')) as Record<string, true | { code: string }>;
    const of = (name: string): unknown => Object.entries(verdicts).find(([k]) => k.startsWith(`${name}@`))?.[1];
    expect(of('hostile-spin')).toMatchObject({ code: 'MODNAS_E_PLUGIN_TIMEOUT' });
    expect(of('hostile-really-exit')).toMatchObject({ code: 'MODNAS_E_PLUGIN_EXIT' });
    expect(of('hostile-timer-exit')).toMatchObject({ code: 'MODNAS_E_PLUGIN_EXIT' });
    expect(of('@modnas/dataset-synthetic')).toBe(true);
  });
});
