import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry, defineEngine, definePlugin, isModnasError, tf } from '@modnas/core';
import { discoverPlugins } from '@modnas/discovery';
import { backendNames, selectBackend } from './backend.js';

const initial = tf.getBackend();
const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'modnas-engines-'));
// the outside packages import @modnas/core as a user's would: from their own node_modules (this copy)
const core = dirname(createRequire(import.meta.url).resolve('@modnas/core/package.json'));
mkdirSync(join(tmp, 'node_modules/@modnas'), { recursive: true });
symlinkSync(core, join(tmp, 'node_modules/@modnas/core'), 'dir');

/** A backend built like tfjs' cpu backend, registered under `name` (the outside engines' setup). */
const registerLikeCpu = (name: string) =>
  `if (!tf.findBackendFactory(${JSON.stringify(name)})) { const Cpu = tf.findBackend('cpu').constructor; tf.registerBackend(${JSON.stringify(name)}, () => new Cpu(), 1); }`;

/**
 * An engine package outside the workspace, as a third party publishes one: a package.json with a
 * `modnas` manifest of kind engine, and an entry that default-exports definePlugin with one defineEngine.
 */
function outsidePackage(name: string, engine: string, priority: number, setupBody: string): string {
  const dir = join(tmp, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  const manifest = { schemaVersion: 1, kind: 'engine', provides: [engine], aliases: {} };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: { '.': './index.js' }, peerDependencies: { '@modnas/core': '*' }, modnas: manifest }));
  writeFileSync(
    join(dir, 'index.js'),
    `import { defineEngine, definePlugin } from '@modnas/core';
export default definePlugin({
  meta: { name: ${JSON.stringify(name)}, version: '1.0.0' },
  components: [defineEngine({ name: ${JSON.stringify(engine)}, priority: ${priority}, async setup(tf) { ${setupBody} }, describe: () => 'an outside engine' })],
});
`,
  );
  return dir;
}

/** The engines this workspace has (native, wasm) plus the outside package, found by discovery into a fresh registry. */
function discovered(outside: string): Registry {
  const registry = new Registry();
  const report = discoverPlugins({ registry, cwd: repo, extraDirs: [outside] });
  expect(report.plugins.filter((p) => p.dir.startsWith(tmp)).map((p) => p.kind)).toEqual(['engine']);
  expect(report.problems.filter((p) => p.dir.startsWith(tmp))).toEqual([]);
  return registry;
}

/** An engine registered as an object (no package folder), for the ordering tests. */
function inMemory(name: string, priority: number, setup: () => Promise<void>): Registry {
  const registry = new Registry();
  registry.register(definePlugin({ meta: { name: `@test/engine-${name}`, version: '1.0.0' }, components: [defineEngine({ name, priority, setup })] }));
  return registry;
}

const fake = async (): Promise<void> => {
  const Cpu = tf.findBackend('cpu').constructor as new () => tf.KernelBackend;
  if (!tf.findBackendFactory('fake')) tf.registerBackend('fake', () => new Cpu(), 1);
};

const envBackend = process.env.MODNAS_BACKEND;
beforeEach(() => {
  delete process.env.MODNAS_BACKEND;
});
afterEach(async () => {
  delete process.env.MODNAS_BACKEND;
  await tf.setBackend(initial);
});
afterAll(() => {
  if (envBackend !== undefined) process.env.MODNAS_BACKEND = envBackend;
  for (const b of ['outside', 'fake', 'first']) if (tf.findBackendFactory(b)) tf.removeBackend(b);
  rmSync(tmp, { recursive: true, force: true });
});

describe('selectBackend', () => {
  it('an outside engine package with a higher priority than the native engine is chosen over it', async () => {
    const registry = discovered(outsidePackage('@outside/engine-fast', 'outside', 60, registerLikeCpu('outside')));
    // the workspace's engines are there, by their manifests: native (50) would be chosen without the outside one
    expect(backendNames(registry)).toEqual(expect.arrayContaining(['tensorflow', 'native', 'wasm', 'outside', 'cpu']));
    const c = await selectBackend({ registry });
    expect(c.backend).toBe('outside');
    expect(c.source).toBe('@outside/engine-fast');
    expect(tf.getBackend()).toBe('outside');
    // only tensorflow (100, not installed here) and webgpu (70, no GPU here) were tried before it; native (50) never was
    expect(c.skipped.map((s) => s.name)).toEqual(['tensorflow', 'webgpu']);
    expect(c.skipped[0].reason).toMatch(/not installed|Cannot find/);
    expect(c.skipped[1].reason).toMatch(/WebGPU/);
  });

  it('an outside engine whose setup throws is passed over with its reason, and the next by priority is chosen', async () => {
    const registry = discovered(outsidePackage('@outside/engine-broken', 'broken', 60, `throw new Error('this machine has no outside SIMD');`));
    const lines: string[] = [];
    const c = await selectBackend({ registry, logger: { debug() {}, info: (m) => lines.push(m), warn() {}, error() {} } });
    expect(c.skipped.slice(0, 3).map((s) => s.name)).toEqual(['tensorflow', 'webgpu', 'broken']);
    expect(c.skipped[2].reason).toBe('this machine has no outside SIMD');
    // then native (50), wasm (40), cpu (0): the first of them that was not passed over
    const next = ['native', 'wasm', 'cpu'].find((n) => !c.skipped.some((s) => s.name === n));
    expect(c.backend).toBe(next);
    expect(tf.getBackend()).toBe(next);
    expect(lines[0]).toContain('passed over: tensorflow (');
    expect(lines[0]).toContain('broken (this machine has no outside SIMD)');
    if (process.env.MODNAS_REQUIRE_NATIVE === '1') expect(c.backend).toBe('native');
  });

  it('follows declared priority: an engine above 100 is tried before tensorflow, one below after it', async () => {
    const first = await selectBackend({
      registry: inMemory('first', 120, async () => {
        const Cpu = tf.findBackend('cpu').constructor as new () => tf.KernelBackend;
        if (!tf.findBackendFactory('first')) tf.registerBackend('first', () => new Cpu(), 1);
      }),
    });
    expect(first.backend).toBe('first');
    expect(first.skipped).toEqual([]);
    const after = await selectBackend({ registry: inMemory('fake', 99, fake) });
    expect(after.backend).toBe('fake');
    expect(after.skipped.map((s) => s.name)).toEqual(['tensorflow']);
  });

  it('falls back to cpu when every engine fails, saying why each was passed over', async () => {
    const c = await selectBackend({
      registry: inMemory('broken', 50, async () => {
        throw new Error('this machine has no SIMD');
      }),
    });
    expect(c.backend).toBe('cpu');
    expect(c.skipped.map((s) => s.name)).toEqual(['tensorflow', 'broken']);
    expect(c.skipped[1].reason).toBe('this machine has no SIMD');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('forces a backend by config or by MODNAS_BACKEND', async () => {
    const registry = inMemory('fake', 50, fake);
    expect((await selectBackend({ prefer: 'cpu', registry })).backend).toBe('cpu');
    process.env.MODNAS_BACKEND = 'fake';
    expect((await selectBackend({ registry })).backend).toBe('fake');
    // the config key wins over the environment
    expect((await selectBackend({ prefer: 'cpu', registry })).backend).toBe('cpu');
  });

  it('fails clearly for an unknown or broken forced backend', async () => {
    try {
      await selectBackend({ prefer: 'quantum', registry: new Registry() });
      throw new Error('not rejected');
    } catch (e) {
      expect(isModnasError(e) && e.code).toBe('MODNAS_E_BACKEND_UNKNOWN');
      expect((e as Error).message).toContain('use one of: auto, tensorflow, cpu');
    }
    try {
      await selectBackend({ prefer: 'tensorflow', registry: new Registry() });
      throw new Error('not rejected');
    } catch (e) {
      expect(isModnasError(e) && e.code).toBe('MODNAS_E_BACKEND_SETUP');
      expect((e as Error).message).toContain('backend "tensorflow" could not be set up');
    }
  });

  it('logs the choice', async () => {
    const lines: string[] = [];
    await selectBackend({ prefer: 'cpu', registry: new Registry(), logger: { debug() {}, info: (m) => lines.push(m), warn() {}, error() {} } });
    expect(lines).toEqual(['tensor backend: cpu (builtin)']);
  });
});
