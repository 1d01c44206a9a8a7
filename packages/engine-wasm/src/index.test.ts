import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The old name for one release: the same module as @modnas/engine-native, a warning on import, and
// no manifest of its own (discovery reaches the engines through its dependency, once).

describe('@modnas/engine-wasm (deprecated alias)', () => {
  it('re-exports @modnas/engine-native and warns once that it was renamed', async () => {
    const warnings: Array<Error & { code?: string }> = [];
    const on = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', on);
    const alias = await import('./index.js');
    await import('./index.js');
    const native = await import('@modnas/engine-native');
    // process warnings are emitted on the next tick
    await new Promise((r) => setImmediate(r));
    process.off('warning', on);
    expect(alias.default).toBe(native.default);
    expect(alias.nativeEngine).toBe(native.nativeEngine);
    const ours = warnings.filter((w) => w.code === 'MODNAS_DEP_ENGINE_WASM');
    expect(ours).toHaveLength(1);
    expect(ours[0].name).toBe('DeprecationWarning');
    expect(ours[0].message).toContain('renamed to @modnas/engine-native');
  });

  it('has no modnas manifest and depends on @modnas/engine-native', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.modnas).toBeUndefined();
    expect(pkg.dependencies).toEqual({ '@modnas/engine-native': 'workspace:^' });
    expect(pkg.description).toMatch(/^Deprecated: renamed to @modnas\/engine-native/);
  });
});
