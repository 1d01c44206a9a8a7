import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadNative, loadOwn, prebuiltPackage } from './native.js';

// Where the kernels come from: the platform package's build for this processor's ISA level, a
// build made on first use where a compiler is on PATH, or a reason that names the fix.

const tmp = mkdtempSync(join(tmpdir(), 'modnas-native-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const status = loadNative();
const hasCxx = spawnSync('c++', ['--version'], { stdio: 'ignore' }).status === 0;
const noCompiler = { ...process.env, PATH: join(tmp, 'no-bin'), CXX: undefined };

describe('native kernel loading', () => {
  it.skipIf(!status.loaded)("loads the build of this processor's best ISA level, and says which", () => {
    const best = status.kernels!.cpu();
    expect(['avx512', 'avx2', 'x86-64', 'neon']).toContain(best);
    expect(status.isa).toBe(best);
    expect(status.kernels!.info().isa).toBe(best);
    if (prebuiltPackage()) expect(status.source).toBe(prebuiltPackage());
  });

  it.skipIf(!status.loaded || process.arch !== 'x64')('MODNAS_ENGINE_ISA caps the level (the baseline x86-64 build runs anywhere)', () => {
    const r = loadOwn({ ...process.env, MODNAS_ENGINE_ISA: 'x86-64' });
    expect(r.isa).toBe('x86-64');
    expect(r.detail).toMatch(/own kernels \(SSE2, \d+ threads?\)/);
    expect(loadOwn({ ...process.env, MODNAS_ENGINE_ISA: 'avx2' }).isa).toBe(status.kernels!.cpu() === 'x86-64' ? 'x86-64' : 'avx2');
  });

  it('without the platform package and with no compiler, the reason names the package to install', () => {
    const empty = join(tmp, 'empty');
    const r = loadOwn(noCompiler, '@modnas/engine-native-nowhere-x64', [empty]);
    expect(r.loaded).toBe(false);
    expect(r.detail).toBe(
      'no native kernels: @modnas/engine-native-nowhere-x64 is not installed and no C++ compiler is on PATH to build them; fix: npm i @modnas/engine-native-nowhere-x64 (npm leaves it out with --omit=optional or a lockfile made on another platform)',
    );
  });

  it('on a platform with no prebuilt package and no compiler, the reason names the compiler and plugins doctor', () => {
    const r = loadOwn(noCompiler, null, [join(tmp, 'empty')]);
    expect(r.detail).toMatch(/^no native kernels: no prebuilt kernels are published for \w+-\w+ and no C\+\+ compiler is on PATH to build them; fix: install a C\+\+ compiler \(g\+\+ or clang\), then run npx modnas plugins doctor$/);
  });

  it.skipIf(!hasCxx)('with a compiler and no prebuilt package, builds the kernels once on first use, says so once, and loads them', () => {
    const dir = join(tmp, 'built');
    const log = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const r = loadOwn(process.env, null, [dir]);
      expect(r.loaded, r.detail).toBe(true);
      expect(r.source).toBe(dir);
      expect(readdirSync(dir).filter((f) => f.endsWith('.node'))).toContain(`modnas_kernels.${r.isa}.node`);
      const said = log.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('compiling the native kernels once'));
      expect(said).toHaveLength(1);
      expect(said[0]).toContain(`into ${dir}`);
      // a second load finds the build and compiles nothing
      log.mockClear();
      expect(loadOwn(process.env, null, [dir]).isa).toBe(r.isa);
      expect(log.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('compiling'))).toEqual([]);
    } finally {
      log.mockRestore();
    }
  }, 90_000);
});
