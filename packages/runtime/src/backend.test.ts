import { afterEach, describe, expect, it } from 'vitest';
import { defineEngine, isModnasError, tf } from '@modnas/core';
import type { DiscoveredEngine } from '@modnas/discovery';
import { selectBackend } from './backend.js';

const initial = tf.getBackend();

function engine(name: string, setup: () => Promise<void>): DiscoveredEngine {
  return { package: `@test/engine-${name}`, version: '1.0.0', entry: '(in memory)', provides: [name], load: async () => ({ default: defineEngine({ name, priority: 50, setup }) }) };
}

/** An engine that registers a backend built like tfjs' cpu backend. */
const fakeEngine = engine('fake', async () => {
  const Cpu = tf.findBackend('cpu').constructor as new () => tf.KernelBackend;
  if (!tf.findBackendFactory('fake')) tf.registerBackend('fake', () => new Cpu(), 1);
});

afterEach(async () => {
  delete process.env.MODNAS_BACKEND;
  await tf.setBackend(initial);
});

describe('selectBackend', () => {
  it('prefers native tensorflow, then engines by priority, then cpu; says why each was passed over', async () => {
    const broken = engine('broken', async () => {
      throw new Error('this machine has no SIMD');
    });
    const c = await selectBackend({ engines: [broken, fakeEngine] });
    expect(c.backend).toBe('fake');
    expect(c.source).toBe('@test/engine-fake');
    expect(c.skipped.map((s) => s.name)).toContain('tensorflow');
    expect(c.skipped.find((s) => s.name === 'tensorflow')?.reason).toMatch(/not installed|Cannot find/);
    const c2 = await selectBackend({ engines: [broken] });
    expect(c2.backend).toBe('cpu');
    expect(c2.skipped.find((s) => s.name === 'broken')?.reason).toBe('this machine has no SIMD');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('forces a backend by config or by MODNAS_BACKEND', async () => {
    expect((await selectBackend({ prefer: 'cpu', engines: [fakeEngine] })).backend).toBe('cpu');
    process.env.MODNAS_BACKEND = 'fake';
    expect((await selectBackend({ engines: [fakeEngine] })).backend).toBe('fake');
    // the config key wins over the environment
    expect((await selectBackend({ prefer: 'cpu', engines: [fakeEngine] })).backend).toBe('cpu');
  });

  it('fails clearly for an unknown or broken forced backend', async () => {
    try {
      await selectBackend({ prefer: 'quantum' });
      throw new Error('not rejected');
    } catch (e) {
      expect(isModnasError(e) && e.code).toBe('MODNAS_E_BACKEND_UNKNOWN');
      expect((e as Error).message).toContain('use one of: auto, tensorflow, cpu');
    }
    try {
      await selectBackend({ prefer: 'tensorflow' });
      throw new Error('not rejected');
    } catch (e) {
      expect(isModnasError(e) && e.code).toBe('MODNAS_E_BACKEND_SETUP');
      expect((e as Error).message).toContain('backend "tensorflow" could not be set up');
    }
  });

  it('logs the choice', async () => {
    const lines: string[] = [];
    await selectBackend({ prefer: 'cpu', logger: { debug() {}, info: (m) => lines.push(m), warn() {}, error() {} } });
    expect(lines).toEqual(['tensor backend: cpu (builtin)']);
  });
});
