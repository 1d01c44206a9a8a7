import { readFileSync } from 'node:fs';
import { isEngineDef, tf } from '@modnas/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import plugin, { loadNative, nativeEngine, wasmEngine } from './index.js';

// The package is a plugin of two engines (components of kind "engine"), in the order the runtime
// tries them, and its manifest says so without importing the code.

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).modnas;

afterEach(() => {
  delete process.env.MODNAS_ENGINE_KERNELS;
  vi.resetModules();
});

describe('@modnas/engine-native', () => {
  it('default-exports a plugin with the engines native (50) and wasm (40), as its manifest lists them', () => {
    expect(plugin.meta.name).toBe('@modnas/engine-native');
    expect(plugin.components.map((c) => [c.kind, c.id, isEngineDef(c) && c.priority])).toEqual([
      ['engine', 'native', 50],
      ['engine', 'wasm', 40],
    ]);
    expect(plugin.components).toEqual([nativeEngine, wasmEngine]);
    expect(manifest).toMatchObject({ schemaVersion: 1, kind: 'engine', provides: ['native', 'wasm'] });
  });

  it('native: setup refuses, with the reason, where the native kernels are not there', async () => {
    process.env.MODNAS_ENGINE_KERNELS = 'js';
    vi.resetModules();
    // a fresh copy: the addon's status is read once per module
    const fresh = await import('./engines.js');
    await expect(fresh.nativeEngine.setup(tf)).rejects.toThrow('native kernels turned off (MODNAS_ENGINE_KERNELS=js); the wasm backend runs instead');
  });

  it.skipIf(!loadNative().loaded)('native: where the addon built, setup registers the native backend and describes its kernels', async () => {
    await nativeEngine.setup(tf);
    expect(tf.findBackendFactory('native')).toBeTruthy();
    const n = loadNative();
    expect(nativeEngine.describe!()).toBe(`${n.kernels!.info().version}, ${n.isa} build from ${n.source}`);
    expect(n.isa).toBe(n.kernels!.info().isa);
  });
});
