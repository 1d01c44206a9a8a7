// SLOW (about 1-3 min): `npm create @modnas/plugin` as an outside author meets it. The generator's bin
// writes a plugin of every templated kind into a scratch folder outside the workspace; the @modnas
// packages it needs are packed with `pnpm pack` (which turns workspace:^ into the published ranges)
// and installed from those tarballs with npm (third-party packages from the npm cache or registry);
// then each package's own `npm test` (conformance suite + behaviour test) and `tsc --noEmit` run, and
// one `npm run build`. The packages share one npm install: their dependencies are the same.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, workspacePackages } from '../../../scripts/package-meta.mjs';
import { TEMPLATE_KINDS } from './templates.js';

const run = promisify(execFile);
const bin = join(root, 'packages/create-plugin/dist/bin.js');
const scratch = mkdtempSync(join(tmpdir(), 'modnas-create-plugin-'));
const tarDir = join(scratch, 'tarballs');
const tarballOf = new Map<string, string>();
const dirOf = (kind: string): string => join(scratch, `plugin-${kind}`);

/** The environment without pnpm's npm_* variables (they would configure npm). */
const env = (): NodeJS.ProcessEnv => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))), NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' });
const sh = (cmd: string, args: string[], cwd: string) => run(cmd, args, { cwd, env: env(), maxBuffer: 64 << 20, timeout: 300_000 });

/** @modnas/core and @modnas/testkit with every @modnas package they need, by name -> folder. */
function needed(): Map<string, string> {
  const all = new Map(workspacePackages().map((p) => [p.pkg.name, p]));
  const out = new Map<string, string>();
  const visit = (name: string): void => {
    const p = all.get(name);
    if (!p || out.has(name)) return;
    out.set(name, p.dir);
    for (const d of Object.keys({ ...p.pkg.dependencies, ...p.pkg.peerDependencies })) if (d.startsWith('@modnas/')) visit(d);
  };
  visit('@modnas/core');
  visit('@modnas/testkit');
  return out;
}

describe('npm create @modnas/plugin, outside the workspace, against the packed tarballs', () => {
  beforeAll(async () => {
    mkdirSync(tarDir);
    for (const [name, dir] of needed()) {
      const out = join(tarDir, name.replace('/', '-'));
      mkdirSync(out);
      await sh('npx', ['-y', 'pnpm@9.15.9', 'pack', '--pack-destination', out], join(root, dir));
      tarballOf.set(name, join(out, readdirSync(out).find((f) => f.endsWith('.tgz'))!));
    }
    for (const kind of TEMPLATE_KINDS) await sh(process.execPath, [bin, dirOf(kind), '--kind', kind, '--name', `modnas-plugin-e2e-${kind}`], scratch);
  }, 300_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('writes published ranges of the @modnas packages (those of the workspace) and a standalone tsconfig', () => {
    const core = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8')) as { version: string };
    for (const kind of TEMPLATE_KINDS) {
      const pj = JSON.parse(readFileSync(join(dirOf(kind), 'package.json'), 'utf8')) as { peerDependencies: Record<string, string>; devDependencies: Record<string, string> };
      expect(pj.peerDependencies['@modnas/core']).toBe(`^${core.version}`);
      expect(pj.devDependencies['@modnas/testkit']).toMatch(/^\^\d+\.\d+\.\d+$/);
      expect(readFileSync(join(dirOf(kind), 'tsconfig.json'), 'utf8')).not.toContain('extends');
    }
  });

  it("installs with npm, and every kind's package passes its own npm test (conformance + behaviour) and typecheck; one builds", async () => {
    // the harness points the @modnas ranges at the tarballs (the packages are not on the registry)
    const overrides = Object.fromEntries([...tarballOf].map(([n, t]) => [n, `file:${t}`]));
    for (const kind of TEMPLATE_KINDS) {
      const file = join(dirOf(kind), 'package.json');
      const pj = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
      for (const deps of [pj.peerDependencies, pj.devDependencies]) for (const n of Object.keys(deps)) if (overrides[n]) deps[n] = overrides[n];
      writeFileSync(file, JSON.stringify({ ...pj, overrides }, null, 2));
    }
    const first = dirOf(TEMPLATE_KINDS[0]);
    await sh('npm', ['i', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], first);
    for (const kind of TEMPLATE_KINDS.slice(1)) symlinkSync(join(first, 'node_modules'), join(dirOf(kind), 'node_modules'), 'dir');
    for (const kind of TEMPLATE_KINDS) {
      const t = await sh('npm', ['test', '--', '--reporter=verbose'], dirOf(kind)).catch((e: { stdout?: string; stderr?: string }) => {
        throw new Error(`${kind}: npm test failed\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
      });
      expect(t.stdout, kind).toMatch(/Tests\s+\d+ passed/);
      expect(t.stdout, kind).toMatch(/conformance: modnas-plugin-e2e-/);
      await sh('npx', ['tsc', '--noEmit'], dirOf(kind));
    }
    await sh('npm', ['run', 'build'], first);
    expect(readdirSync(join(first, 'dist')).sort()).toEqual(expect.arrayContaining(['index.d.ts', 'index.js']));
  }, 600_000);
});
