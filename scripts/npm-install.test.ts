// npm users' view (issue 12): pack every published package as pnpm 9 does (`pnpm pack` in each package's
// folder, which turns `workspace:^` into real ranges), install the tarballs with npm into a scratch
// project outside the workspace, and run a quick search there with the installed `modnas` command.
// Every @modnas package comes from a tarball (npm `overrides`), third-party ones from the npm cache or
// registry as for any user. Slow (pack + install once, ~1-3 min), so it runs once per suite run.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINIMAL_SEARCH, NODE_RANGE, TRANSITIVE, publishedPackages, root } from './package-meta.mjs';

const run = promisify(execFile);
const PNPM = ['-y', 'pnpm@9.15.9'];
/** The bound for the cli plus one search's plugins. */
const MAX_INSTALL_MB = 80;
/** The dashboard (@modnas/ui: server, prebuilt page, source maps). */
const UI_MAX_MB = 1;

/** One search's packages (the README's "minimal search" line); TRANSITIVE only as a dependency. */
const MINIMAL = MINIMAL_SEARCH;

const SEARCH = `name: scratch
seed: 0
quick: true
data: { type: Synthetic, size: 64, test_size: 32, image_size: 8, num_classes: 4 }
data_provider: { train_portion: 0.5 }
model:
  type: MobileNetV2
  cfgs: [[0, 8, 1, 1], [1, 8, 1, 1], [6, 16, 2, 2]]
construct:
  search:
    type: MobileNetV2SearchConstructor
    mixed_op: { type: BinGate }
    primitives: [MB3E3, MB3E6]
trainer: { type: DefaultTrainer, lr: 0.05, batch_size: 16 }
optim: { type: BinaryGateOptim }
estim:
  warmup: { type: DefaultEstimator, epochs: 1 }
  search: { type: SuperNetEstimator, epochs: 1 }
export:
  default: { type: DefaultSlotTraversalExporter }
`;

/** The environment without the npm_* variables that pnpm sets for its scripts (they would configure npm). */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

function duBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory()) total += duBytes(p);
    else if (e.isFile()) total += statSync(p).blocks * 512;
  }
  return total;
}

const scratch = mkdtempSync(join(tmpdir(), 'modnas-npm-'));
const tarDir = join(scratch, 'tarballs');
const project = join(scratch, 'project');
const tarballOf = new Map<string, string>();
let bare = '';
let installMb = 0;
let installError: unknown;
/** What npm printed while installing (warnings included). */
let installLog = '';

/**
 * A PATH with node and npm and nothing else: no C++ compiler (the engine's kernels must come
 * prebuilt) and no other tool an install script could lean on.
 */
function bareBin(): string {
  const d = join(scratch, 'bin');
  mkdirSync(d, { recursive: true });
  const which = (cmd: string): string => execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  for (const cmd of ['node', 'npm', 'npx', 'sh']) symlinkSync(realpathSync(which(cmd)), join(d, cmd));
  return d;
}

/** Run the installed modnas command in `cwd`; never throws (the exit code is asserted). */
async function modnas(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = join(project, 'node_modules', '.bin', 'modnas');
  // the workspace's MODNAS_PLUGIN_PATH (if any) must not leak plugins into the scratch project
  const env = { ...npmEnv(), PATH: bare, MODNAS_PLUGIN_PATH: '', MODNAS_REQUIRE_NATIVE: '' };
  try {
    const { stdout, stderr } = await run(bin, args, { cwd, env, maxBuffer: 64 << 20, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(e) };
  }
}

describe('npm users: every package packed, installed from the tarballs outside the workspace', () => {
  beforeAll(async () => {
    mkdirSync(tarDir, { recursive: true });
    // pnpm 9 packs one package at a time (`pnpm -r pack` is not how it packs); four at once
    const pkgs = publishedPackages();
    const queue = [...pkgs];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const out = join(tarDir, p.dir.replace('/', '-'));
          mkdirSync(out);
          await run('npx', [...PNPM, 'pack', '--pack-destination', out], { cwd: join(root, p.dir), maxBuffer: 16 << 20 });
          const [tgz] = readdirSync(out).filter((f) => f.endsWith('.tgz'));
          tarballOf.set(p.pkg.name, join(out, tgz));
        }
      }),
    );
    // Every @modnas name resolves to its tarball, wherever it is asked for (dependency or peer).
    const overrides = Object.fromEntries([...tarballOf].map(([n, t]) => [n, `file:${t}`]));
    const dependencies = Object.fromEntries(MINIMAL.map((n) => [n, `file:${tarballOf.get(n)}`]));
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies, overrides }, null, 2));
    writeFileSync(join(project, 'search.yaml'), SEARCH);
    try {
      // no compiler on PATH and no MODNAS_ENGINE_KERNELS: the native kernels must come prebuilt
      bare = bareBin();
      const r = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn'], {
        cwd: project,
        env: { ...npmEnv(), PATH: bare },
        maxBuffer: 64 << 20,
        timeout: 600_000,
      });
      installLog = r.stdout + r.stderr;
      installMb = duBytes(join(project, 'node_modules')) / 2 ** 20;
    } catch (e) {
      installError = e;
    }
  }, 900_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('every published package packs with its README, LICENSE, dist and the npm fields', async () => {
    expect(tarballOf.size).toBe(publishedPackages().length);
    for (const [name, tgz] of tarballOf) {
      const { stdout } = await run('tar', ['-tzf', tgz]);
      const files = stdout.split('\n');
      expect(files, name).toContain('package/README.md');
      expect(files, name).toContain('package/LICENSE');
      // the engine's platform packages hold prebuilt kernels only (bin/*.node), no code
      if (/^@modnas\/engine-native-/.test(name)) expect(files.filter((f) => /^package\/bin\/.+\.node$/.test(f)).length, name).toBeGreaterThan(0);
      else if (name !== '@modnas/all') expect(files, name).toContain('package/dist/index.js');
      const { stdout: pj } = await run('tar', ['-xzOf', tgz, 'package/package.json']);
      const pkg = JSON.parse(pj);
      expect(pkg.engines?.node, name).toBe(NODE_RANGE);
      expect(pkg.repository?.directory, name).toMatch(/^(packages|plugins)\//);
      const ranges: string[] = Object.values({ ...pkg.dependencies, ...pkg.peerDependencies });
      expect(ranges.filter((r) => r.startsWith('workspace:')), `${name}: workspace: ranges left in the tarball`).toEqual([]);
    }
  });

  it('npm installs the tarballs, every @modnas package from its tarball', () => {
    expect(installError, String((installError as { stderr?: string })?.stderr ?? installError)).toBeUndefined();
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
    const modnas = Object.entries(lock.packages as Record<string, { resolved?: string }>).filter(([p]) => p.includes('node_modules/@modnas/'));
    expect(modnas.length).toBeGreaterThan(MINIMAL.length);
    for (const [p, entry] of modnas) expect(entry.resolved, p).toMatch(/^file:/);
    // exactly one copy of core, wherever it is asked for
    expect(modnas.filter(([p]) => p.endsWith('node_modules/@modnas/core')).map(([p]) => p)).toEqual(['node_modules/@modnas/core']);
    expect(existsSync(join(project, 'node_modules', TRANSITIVE, 'package.json')), `${TRANSITIVE} installed as a dependency`).toBe(true);
  });

  it('no install script runs and npm warns of none: the engine comes prebuilt for this platform', () => {
    expect(installError).toBeUndefined();
    expect(installLog, 'npm printed nothing about scripts').not.toMatch(/script/i);
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
    const scripted = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>).filter(([, e]) => e.hasInstallScript).map(([p]) => p);
    expect(scripted, 'packages with an install script').toEqual([]);
    const platform = `@modnas/engine-native-${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`;
    expect(existsSync(join(project, 'node_modules', platform, 'package.json')), `${platform} installed (optionalDependencies)`).toBe(true);
    expect(execFileSync('sh', ['-c', 'command -v c++ g++ gcc clang cc || true'], { encoding: 'utf8', env: { PATH: bare } }).trim(), 'a compiler on the bare PATH').toBe('');
  });

  // The cli brings the journal store (no native module); SQLite is for those who install it.
  it(`the cli plus one search's plugins install in under ${MAX_INSTALL_MB} MB`, () => {
    expect(installError).toBeUndefined();
    const nm = join(project, 'node_modules');
    const sizes: Array<[string, number]> = [];
    for (const d of readdirSync(nm)) {
      if (d.startsWith('.')) continue;
      const names = d.startsWith('@') ? readdirSync(join(nm, d)).map((s) => `${d}/${s}`) : [d];
      for (const n of names) sizes.push([n, duBytes(join(nm, n)) / 2 ** 20]);
    }
    const big = sizes
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([n, mb]) => `${n} ${mb.toFixed(1)} MB`)
      .join(', ');
    console.log(`scratch install of ${MINIMAL.length} packages and their dependencies: node_modules ${installMb.toFixed(1)} MB; largest: ${big}`);
    expect(installMb, `node_modules is ${installMb.toFixed(1)} MB (${big})`).toBeLessThan(MAX_INSTALL_MB);
    expect(existsSync(join(nm, 'better-sqlite3')), 'no native SQLite in the minimal install').toBe(false);
    // the dashboard ships its page prebuilt (uPlot bundled in): no charting or bundler stack at install
    const ui = sizes.find(([n]) => n === '@modnas/ui')?.[1] ?? 0;
    expect(ui, '@modnas/ui installed with the cli').toBeGreaterThan(0);
    expect(ui, `@modnas/ui is ${ui.toFixed(2)} MB`).toBeLessThan(UI_MAX_MB);
  });

  // The search's primitives (MB3E3, MB3E6) come from the package that only backbone-mobilenetv2 lists.
  it('the installed modnas command runs a quick search and writes the best architecture', async () => {
    expect(installError).toBeUndefined();
    const r = await modnas(project, ['run', 'search.yaml']);
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    // on the prebuilt native kernels, with no compiler anywhere on PATH
    expect(r.stdout + r.stderr).toMatch(/tensor backend: native \(@modnas\/engine-native: own kernels \(/);
    const best = join(project, 'exp', 'scratch', 'outputs', 'arch_search_best.yaml');
    expect(existsSync(best), `${best} written`).toBe(true);
    const arch = readFileSync(best, 'utf8');
    expect(arch).toMatch(/MB3E[36]/);
    const summary = JSON.parse(readFileSync(join(project, 'exp', 'scratch', 'outputs', 'summary.json'), 'utf8'));
    expect(summary.aborted).toBe(false);
    expect(Object.keys(summary.estims)).toEqual(['warmup', 'search']);
    expect(summary.estims.search.best?.arch, 'the search estimator found an architecture').toBeTruthy();
    expect(Number(summary.spaceSize)).toBeGreaterThan(1);
    // one core and one tfjs: no second copy registering its kernels again
    expect(r.stderr).not.toMatch(/already registered/);
    expect(r.stdout + r.stderr).not.toMatch(/installed twice/);
    // the run is in the journal store, which report reads
    expect(existsSync(join(project, 'exp', 'scratch', 'journal.jsonl')), 'journal.jsonl written').toBe(true);
    const rep = await modnas(project, ['report', 'exp/scratch']);
    expect(rep.code, rep.stderr.slice(-2000)).toBe(0);
    expect(rep.stdout).toMatch(/runs of scratch \(journal .*journal\.jsonl\)/);
    expect(rep.stdout).toMatch(/r1\s+done/);
    // the dashboard's page came with the package: the offline report of the run, from the journal store
    const html = await modnas(project, ['report', 'exp/scratch', '--html', 'r.html']);
    expect(html.code, html.stderr.slice(-2000)).toBe(0);
    const page = readFileSync(join(project, 'r.html'), 'utf8');
    expect(page).toContain('window.__MODNAS_STATIC__');
    expect(page).not.toMatch(/<(script|link)[^>]+(src|href)=/);
  }, 300_000);

  it(`MB3E3 resolves when ${TRANSITIVE} arrives only as @modnas/backbone-mobilenetv2's dependency`, async () => {
    expect(installError).toBeUndefined();
    const pj = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    expect(Object.keys(pj.dependencies), `${TRANSITIVE} is not listed by the project`).not.toContain(TRANSITIVE);
    const r = await modnas(project, ['plugins', 'list', '--json']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const rows = JSON.parse(r.stdout).plugins as Array<{ id: string; package: string }>;
    expect(rows.find((p) => p.id === 'MB3E3')?.package, `MB3E3 discovered through the dependency tree`).toBe(TRANSITIVE);
  });
});
