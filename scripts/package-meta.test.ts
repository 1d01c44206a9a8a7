// Every published package carries what npm users need (scripts/package-meta.mjs writes it; this keeps
// new packages from shipping without it), @modnas/all lists every first-party plugin, and the root
// README's npm line is the package set that scripts/npm-install.test.ts installs and runs.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MINIMAL_SEARCH, NODE_RANGE, TRANSITIVE, allDependencies, problems, publishedPackages, root, withMeta, workspacePackages } from './package-meta.mjs';

describe('package metadata for npm users', () => {
  it('every published package has README, LICENSE, license, engines, repository and files (else: pnpm meta)', () => {
    expect(problems()).toEqual([]);
    const published = publishedPackages();
    expect(published.length).toBeGreaterThan(40);
    for (const { dir, pkg } of published) {
      expect(pkg.license, dir).toBe('MIT');
      expect(pkg.engines, dir).toEqual({ node: NODE_RANGE });
      expect(pkg.repository, dir).toMatchObject({ type: 'git', directory: dir });
      expect(pkg.files, dir).toEqual(expect.arrayContaining(['README.md', 'LICENSE']));
      for (const f of pkg.files as string[]) expect(existsSync(join(root, dir, f)) || f === 'dist', `${dir}: files lists ${f}, which does not exist`).toBe(true);
    }
  });

  it('the script adds what a new package lacks, and leaves a finished one as it is', () => {
    const bare = { name: '@modnas/optim-new', version: '0.1.0', description: 'new', type: 'module', files: ['dist'], scripts: {} };
    const done = withMeta('plugins/optim-new', bare);
    expect(Object.keys(done).slice(0, 6)).toEqual(['name', 'version', 'description', 'license', 'engines', 'repository']);
    expect(done.files).toEqual(['dist', 'README.md', 'LICENSE']);
    expect(done.repository.directory).toBe('plugins/optim-new');
    expect(withMeta('plugins/optim-new', done)).toEqual(done);
    expect(JSON.stringify(withMeta('plugins/optim-new', done))).toBe(JSON.stringify(done));
  });

  it('@modnas/all depends on every first-party plugin, the cli and the engine', () => {
    const all = workspacePackages().find((p) => p.pkg.name === '@modnas/all');
    expect(all, 'packages/all exists').toBeTruthy();
    const deps = Object.keys(all!.pkg.dependencies ?? {});
    const plugins = workspacePackages().filter((p) => p.dir.startsWith('plugins/')).map((p) => p.pkg.name);
    expect(deps).toEqual(expect.arrayContaining([...plugins, '@modnas/cli', '@modnas/engine-native', '@modnas/core']));
    expect(deps).toEqual(Object.keys(allDependencies()));
    // private examples are not published, so nothing published may depend on them
    const priv = new Set(workspacePackages().filter((p) => p.pkg.private).map((p) => p.pkg.name));
    expect(deps.filter((d) => priv.has(d))).toEqual([]);
  });

  it("the root README's npm line for one search names exactly the packages the scratch install runs", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const lines = readme.split('\n').filter((l) => l.startsWith('npm i @modnas/'));
    const minimal = lines.find((l) => l.includes('@modnas/cli'));
    expect(minimal, 'README has an `npm i @modnas/cli ...` line').toBeTruthy();
    const names = minimal!.replace(/^npm i /, '').trim().split(/\s+/);
    expect([...names].sort()).toEqual([...MINIMAL_SEARCH].sort());
    expect(names, `${TRANSITIVE} comes with @modnas/backbone-mobilenetv2`).not.toContain(TRANSITIVE);
    expect(lines).toContain('npm i @modnas/all');
  });

  // STYLE: core <- kits <- plugins. A plugin that needs another plugin's code gets it from a kit;
  // a sibling plugin may be a dependency (installed and discovered with it), never an import.
  it('plugins import shared code from kits, never from a sibling plugin (tests may use siblings)', () => {
    const plugins = new Map(workspacePackages().filter((p) => p.dir.startsWith('plugins/')).map((p) => [p.pkg.name, p.dir]));
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
    const offenders: string[] = [];
    for (const dir of plugins.values()) {
      for (const file of sources(join(root, dir, 'src'))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/from '(@modnas\/[a-z0-9-]+)/g)) {
          if (plugins.has(m[1])) offenders.push(`${file.slice(root.length + 1)} imports ${m[1]}`);
        }
      }
    }
    expect(offenders).toEqual([]);
    // and everything under plugins/ is a plugin (a library without components is a kit under packages/)
    for (const [name, dir] of plugins) {
      const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
      expect(pkg.modnas?.kind, `${name} (${dir}) declares no modnas kind: move it to packages/ as a kit`).toBeTypeOf('string');
    }
  });
});
