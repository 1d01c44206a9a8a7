// `modnas plugins doctor` reports the tensor engines: which kernels load, and where one cannot run
// on this machine, why and what fixes it (exit 1), instead of "no problems found" while runs fall
// back to slower kernels.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const doctor = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [bin, 'plugins', 'doctor'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });

describe('plugins doctor and the engines', () => {
  it('lists each engine by priority with what its kernels run on', () => {
    const r = doctor({});
    expect(r.stdout).toMatch(/native \(@modnas\/engine-native, priority 50\): ok, own kernels \(/);
    expect(r.stdout).toMatch(/wasm \(@modnas\/engine-native, priority 40\): ok/);
    expect(r.stdout.indexOf('native (')).toBeLessThan(r.stdout.indexOf('wasm ('));
    // an engine for a GPU, on a machine without one: listed first (priority 70), not a problem
    expect(r.stdout).toMatch(/webgpu \(@modnas\/engine-webgpu, priority 70\): not used here \(it needs a hardware GPU with WebGPU\): /);
    expect(r.stdout.indexOf('webgpu (')).toBeLessThan(r.stdout.indexOf('native ('));
    expect(r.stdout).toContain('no problems found');
    expect(r.status).toBe(0);
  }, 150_000);

  it('says when the native kernels cannot run, why, and exits 1', () => {
    const r = doctor({ MODNAS_ENGINE_KERNELS: 'js' });
    expect(r.stdout).toMatch(/native \(@modnas\/engine-native, priority 50\): NOT AVAILABLE: native kernels turned off \(MODNAS_ENGINE_KERNELS=js\)/);
    expect(r.stdout).toContain('1 engine(s) not available on this machine');
    expect(r.stdout).not.toContain('no problems found');
    expect(r.status).toBe(1);
  }, 150_000);
});
