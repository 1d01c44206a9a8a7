// The webgpu engine in Node without a GPU (this machine, CI): the automatic choice passes it over
// with its reason and stays on the native kernels; `backend: webgpu` is MODNAS_E_BACKEND_SETUP
// naming what is missing, and the CLI exits 2 with it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, isModnasError } from '@modnas/core';
import nativePlugin from '@modnas/engine-native';
import { selectBackend } from '@modnas/runtime';
import { describe, expect, it } from 'vitest';
import plugin, { softwareReason } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(root, 'packages', 'cli', 'dist', 'bin.js');
const facts = (o: Partial<Parameters<typeof softwareReason>[0]>) => ({ vendor: '', architecture: '', device: '', description: '', fallback: false, ...o });

describe('the webgpu engine without a GPU', () => {
  it('takes only a hardware adapter: fallback and software renderers are refused, with why', () => {
    expect(softwareReason(facts({ vendor: 'nvidia', architecture: 'ampere' }))).toBeUndefined();
    expect(softwareReason(facts({ vendor: 'apple', architecture: 'metal-3' }))).toBeUndefined();
    expect(softwareReason(facts({ fallback: true }))).toMatch(/fallback/);
    expect(softwareReason(facts({ vendor: 'google', architecture: 'swiftshader' }))).toMatch(/software renderer \(google swiftshader\)/);
    expect(softwareReason(facts({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toMatch(/llvmpipe/);
    expect(softwareReason(facts({ device: 'lavapipe' }))).toMatch(/lavapipe/);
  });

  it('auto passes it over with its reason and stays on the native engine; forced, it is MODNAS_E_BACKEND_SETUP saying what is missing', async () => {
    const registry = new Registry();
    registry.register(nativePlugin);
    registry.register(plugin);
    const auto = await selectBackend({ registry });
    expect(['native', 'wasm']).toContain(auto.backend);
    expect(auto.skipped.find((s) => s.name === 'webgpu')?.reason).toMatch(/no WebGPU|not a hardware GPU/);
    const forced = await selectBackend({ registry, prefer: 'webgpu' }).catch((e: unknown) => e);
    expect(isModnasError(forced) && forced.code).toBe('MODNAS_E_BACKEND_SETUP');
    expect(String((forced as Error).message)).toMatch(/backend "webgpu" could not be set up: (no WebGPU in this Node: the optional package "webgpu" \(Dawn\) is not installed.*npm i webgpu|no WebGPU adapter|the WebGPU adapter is not a hardware GPU)/);
  });

  it.skipIf(!existsSync(BIN))(`modnas run with backend: webgpu exits 2 with the coded error${existsSync(BIN) ? '' : ' (skipped: build the CLI first)'}`, () => {
    // a project with the engine installed beside the first-party plugins
    const dir = mkdtempSync(join(tmpdir(), 'modnas-webgpu-'));
    mkdirSync(join(dir, 'node_modules', '@modnas'), { recursive: true });
    symlinkSync(join(root, 'packages', 'engine-webgpu'), join(dir, 'node_modules', '@modnas', 'engine-webgpu'));
    symlinkSync(join(root, 'packages', 'all'), join(dir, 'node_modules', '@modnas', 'all'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'webgpu-user', private: true, dependencies: { '@modnas/engine-webgpu': '*', '@modnas/all': '*' } }));
    const r = spawnSync(process.execPath, [BIN, 'run', join(root, 'examples', 'quickstart', 'search.yaml'), '-o', 'backend=webgpu', '-o', 'quick=true', '--output-dir', join(dir, 'exp')], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/error \[MODNAS_E_BACKEND_SETUP\]: backend "webgpu" could not be set up: /);
    expect(existsSync(join(dir, 'exp', 'quickstart', 'outputs', 'summary.json'))).toBe(false);
  }, 60_000);
});
