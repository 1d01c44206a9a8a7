import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TARGETS, buildHarness, compilerVersion, hostTarget } from '../scripts/compile.mjs';
import type { Level } from '../scripts/compile.mjs';

// The kernels' C++ harness (src/native/harness.cc: every convolution kind, batch norm and ReLU6
// against naive references) built per target and run natively, under qemu-user (linux-arm64) and
// under wine (win32-x64). A missing cross tool skips its test with the reason; with
// MODNAS_REQUIRE_CROSS=1 (CI) it fails instead.

const requireCross = process.env.MODNAS_REQUIRE_CROSS === '1';
const out = mkdtempSync(join(tmpdir(), 'modnas-harness-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const has = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const host = hostTarget();

/** Run a harness (through a runner such as qemu or wine); its exit code and output. */
function run(cmd: string[], args: string[] = []): { status: number | null; output: string } {
  const r = spawnSync(cmd[0], [...cmd.slice(1), ...args], { encoding: 'utf8', env: { ...process.env, WINEDEBUG: '-all' }, timeout: 90_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function expectPass(cmd: string[]): void {
  const r = run(cmd);
  expect(r.output).toMatch(/^kernel harness: /m);
  expect(r.output, r.output).toMatch(/^PASS: 0 failure\(s\)$/m);
  expect(r.status, r.output).toBe(0);
}

const levelOf = (target: keyof typeof TARGETS, isa: string): Level | undefined => TARGETS[target].levels.find((l) => l.isa === isa);
const baseOf = (target: keyof typeof TARGETS): Level => TARGETS[target].levels.at(-1)!;

/** The best level this processor runs, asked of the host's baseline harness (built once). */
let hostLevel: string | undefined;

describe('kernel harness', () => {
  it.skipIf(!host)(`native (${host ?? 'no prebuilt target for this platform'}): the baseline build and this processor's best build pass`, () => {
    const t = host!;
    const base = buildHarness({ target: t, level: baseOf(t), outDir: out });
    hostLevel = run([base], ['--cpu']).output.trim();
    expect(TARGETS[t].levels.map((l) => l.isa)).toContain(hostLevel);
    expectPass([base]);
    const best = levelOf(t, hostLevel);
    if (best && best !== baseOf(t)) expectPass([buildHarness({ target: t, level: best, outDir: out })]);
  }, 90_000);

  const cross = (target: 'linux-arm64-gnu' | 'win32-x64', runner: string): string[] =>
    [!compilerVersion(TARGETS[target].cxx) && `${TARGETS[target].cxx} not found`, !has(runner) && `${runner} not found`].filter((m): m is string => !!m);

  const armMissing = host === 'linux-arm64-gnu' ? [] : cross('linux-arm64-gnu', 'qemu-aarch64');
  it.skipIf(armMissing.length > 0 && !requireCross)(`linux-arm64 under qemu-aarch64${armMissing.length ? ` (skipped: ${armMissing.join(', ')}; apt-get install g++-aarch64-linux-gnu qemu-user)` : ''}`, () => {
    expect(armMissing).toEqual([]);
    const exe = buildHarness({ target: 'linux-arm64-gnu', level: baseOf('linux-arm64-gnu'), outDir: out });
    expectPass(host === 'linux-arm64-gnu' ? [exe] : [...TARGETS['linux-arm64-gnu'].runner!, exe]);
  }, 90_000);

  const winMissing = cross('win32-x64', 'wine');
  // wine starts slowly: one run, of the build this processor would load (its AVX code is where mingw's stack alignment bites).
  it.skipIf(winMissing.length > 0 && !requireCross)(`win32-x64 under wine${winMissing.length ? ` (skipped: ${winMissing.join(', ')}; apt-get install mingw-w64 wine)` : ''}`, () => {
    expect(winMissing).toEqual([]);
    const level = (hostLevel && levelOf('win32-x64', hostLevel)) || baseOf('win32-x64');
    expectPass(['wine', buildHarness({ target: 'win32-x64', level, outDir: out })]);
  }, 120_000);
});
