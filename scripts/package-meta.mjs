#!/usr/bin/env node
// What every published @modnas package carries for npm users, written from one place:
// `license`, `engines`, `repository` (with its `directory`), `files` (README.md and LICENSE among them),
// a LICENSE file (the root's), and `@modnas/all`'s dependencies (every first-party plugin, the cli
// and the engine). Run `pnpm meta` after adding a package; `pnpm meta --check` (and
// scripts/package-meta.test.ts, in the suite) fails while any package misses one of them.
// README.md is written by hand, so it is only checked.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const NODE_RANGE = '^20.9.0 || ^22.0.0 || >=24.0.0';
const ALL = 'packages/all';

/**
 * The packages of one search (ProxylessNAS on MobileNetV2 over synthetic data), as the root README's
 * "minimal search" npm line lists them; scripts/npm-install.test.ts installs them from tarballs and
 * runs the search. TRANSITIVE (the MB3E3 ... primitives) arrives as @modnas/backbone-mobilenetv2's
 * dependency, and discovery finds it there, so neither the line nor the project lists it.
 */
export const MINIMAL_SEARCH = [
  '@modnas/cli',
  '@modnas/dataset-synthetic',
  '@modnas/backbone-mobilenetv2',
  '@modnas/primitive-basic',
  '@modnas/mixed-op-bingate',
  '@modnas/optim-binary-gate',
  '@modnas/trainer-default',
  '@modnas/estim-default',
  '@modnas/estim-supernet',
  '@modnas/export-slot-traversal',
];
export const TRANSITIVE = '@modnas/primitive-mbconv';

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const rootPkg = readJson(join(root, 'package.json'));

/** Every workspace package directory (relative to the root) and its package.json. */
export function workspacePackages() {
  const out = [];
  for (const group of ['packages', 'plugins', 'examples']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base).sort()) {
      const pj = join(base, d, 'package.json');
      if (existsSync(pj)) out.push({ dir: `${group}/${d}`, pkg: readJson(pj) });
    }
  }
  return out;
}

/** The published ones (not `private`). */
export function publishedPackages() {
  return workspacePackages().filter((p) => !p.pkg.private);
}

/** The cli's optional companions (its commands import them when present): @modnas/all brings them. */
const CLI_COMPANIONS = ['@modnas/model-export'];

/** What @modnas/all depends on: every first-party plugin (a `modnas` field), the cli, its companions and the engine. */
export function allDependencies(pkgs = publishedPackages()) {
  const names = pkgs.filter((p) => p.dir !== ALL && (p.dir.startsWith('plugins/') || p.pkg.name === '@modnas/cli' || CLI_COMPANIONS.includes(p.pkg.name) || p.pkg.modnas?.kind === 'engine')).map((p) => p.pkg.name);
  // core and nn are the plugins' peers: listed so that one copy of each is a direct dependency
  for (const peer of ['@modnas/core', '@modnas/nn']) if (!names.includes(peer)) names.push(peer);
  return Object.fromEntries(names.sort().map((n) => [n, 'workspace:^']));
}

/** package.json with the npm-facing fields set: license, engines, repository after description; files in place. */
export function withMeta(dir, pkg) {
  const head = { license: 'MIT', engines: { node: NODE_RANGE }, repository: { type: 'git', url: rootPkg.repository.url, directory: dir } };
  const inPlace = { files: [...new Set([...(pkg.files ?? ['dist']), 'README.md', 'LICENSE'])] };
  if (dir === ALL) inPlace.dependencies = allDependencies();
  const anchor = 'description' in pkg ? 'description' : 'name';
  const out = {};
  for (const [k, v] of Object.entries(pkg)) {
    if (k in head) continue;
    out[k] = k in inPlace ? inPlace[k] : v;
    if (k === anchor) Object.assign(out, head);
  }
  for (const [k, v] of Object.entries(inPlace)) if (!(k in out)) out[k] = v;
  return out;
}

/** Everything a published package misses, as "dir: what" lines (empty when all is well). */
export function problems() {
  const out = [];
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  for (const { dir, pkg } of publishedPackages()) {
    const want = withMeta(dir, pkg);
    if (JSON.stringify(want) !== JSON.stringify(pkg)) {
      const diff = Object.keys(want).filter((k) => JSON.stringify(want[k]) !== JSON.stringify(pkg[k]));
      out.push(`${dir}/package.json: ${diff.join(', ')} not as the script writes them`);
    }
    if (!existsSync(join(root, dir, 'README.md'))) out.push(`${dir}: no README.md (write one: what it holds, install, use)`);
    const lic = join(root, dir, 'LICENSE');
    if (!existsSync(lic) || readFileSync(lic, 'utf8') !== license) out.push(`${dir}: LICENSE missing or not the root's`);
  }
  return out;
}

export function write() {
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  const changed = [];
  for (const { dir, pkg } of publishedPackages()) {
    const pjPath = join(root, dir, 'package.json');
    const text = JSON.stringify(withMeta(dir, pkg), null, 2) + '\n';
    if (text !== readFileSync(pjPath, 'utf8')) {
      writeFileSync(pjPath, text);
      changed.push(relative(root, pjPath));
    }
    const lic = join(root, dir, 'LICENSE');
    if (!existsSync(lic) || readFileSync(lic, 'utf8') !== license) {
      writeFileSync(lic, license);
      changed.push(relative(root, lic));
    }
  }
  return changed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const p = problems();
    for (const line of p) console.error(line);
    if (p.length) {
      console.error(`${p.length} problem(s); run: pnpm meta`);
      process.exit(1);
    }
    console.log(`${publishedPackages().length} published packages: README, LICENSE, engines, repository, files in place`);
  } else {
    const changed = write();
    console.log(changed.length ? `wrote ${changed.length} file(s):\n  ${changed.join('\n  ')}` : 'nothing to change');
    for (const line of problems()) console.error(line);
  }
}
