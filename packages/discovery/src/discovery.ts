import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { Registry } from '@modnas/core';
import { COMPONENT_KINDS, CORE_VERSION, ModnasError, getRegistry } from '@modnas/core';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { importPlugin } from './plugin-import.js';
import type { ProbeTarget } from './plugin-probe.js';
import { ImportProbe } from './plugin-probe.js';

/** The `modnas` field of a plugin's package.json. */
export interface PluginManifest {
  schemaVersion: 1;
  kind: string;
  provides: string[];
  /**
   * Aliases by id (`{ "DARTSOptim": ["DARTS"] }`; `{}`: none). With it, an id no package provides
   * is answered from the manifests alone, without importing any plugin; the conformance suite and
   * the first import check it against the code.
   */
  aliases?: Record<string, string[]>;
  /** Kinds of the ids whose kind is not `kind` (a backbone package that also provides constructors). */
  kinds?: Record<string, string>;
  /** One line per id (`{ "DARTSOptim": "..." }`), for `modnas plugins list` without importing code; checked against the code on import. */
  descriptions?: Record<string, string>;
}

export interface DiscoveryReport {
  /** The package.json whose dependencies were searched. */
  host?: string;
  /** Every plugin found, tensor engines (kind "engine") among them; each is recorded in the registry. */
  plugins: Array<{ name: string; version: string; kind: string; provides: string[]; dir: string; entry: string }>;
  problems: Array<{ package: string; dir: string; error: ModnasError }>;
  /** Packages found in more than one folder (two copies installed): each folder. */
  duplicates: Array<{ package: string; dirs: string[] }>;
  /**
   * Import every plugin in child processes now (`fresh`: ignoring remembered verdicts): the ones
   * that hang or end the process on import, with their coded errors (`plugins doctor`).
   */
  checkImports(fresh?: boolean): Promise<Map<string, ModnasError>>;
}

export interface DiscoveryOptions {
  /** Where the host project is (default: process.cwd()). */
  cwd?: string;
  registry?: Registry;
  /** Also scan the workspace packages of a pnpm workspace around the host (default true). */
  workspace?: boolean;
  /** Extra package directories to consider (tests, MODNAS_PLUGIN_PATH). */
  extraDirs?: string[];
}

/**
 * Find plugins the way oclif does: read the host project's declared dependencies (no blind
 * node_modules scan), its workspace packages, and the dependencies of every plugin and @modnas
 * package among them; keep those whose package.json has a `modnas` field, and record them in the
 * registry without importing their code. One broken plugin is reported; the rest keep loading.
 * A package found in two folders (a second copy of core beside a linked plugin) is reported in
 * `duplicates` and loaded once.
 */
export function discoverPlugins(opts: DiscoveryOptions = {}): DiscoveryReport {
  const registry = opts.registry ?? getRegistry();
  const cwd = resolve(opts.cwd ?? process.cwd());
  const probeTargets: ProbeTarget[] = [];
  const probe = new ImportProbe(() => probeTargets, cwd);
  const report: DiscoveryReport = { plugins: [], problems: [], duplicates: [], checkImports: (fresh) => probe.checkAll(fresh) };
  const dirs = new Set<string>();

  const hostPkg = findUp(cwd, 'package.json');
  if (hostPkg) {
    report.host = hostPkg;
    const host = readJson(hostPkg);
    const deps = { ...(host.optionalDependencies ?? {}), ...(host.devDependencies ?? {}), ...(host.dependencies ?? {}) } as Record<string, string>;
    for (const dep of Object.keys(deps)) {
      const dir = resolvePackageDir(dep, dirname(hostPkg));
      if (dir) dirs.add(dir);
    }
  }
  if (opts.workspace !== false) {
    const ws = findUp(cwd, 'pnpm-workspace.yaml');
    if (ws) for (const d of workspaceDirs(ws)) dirs.add(d);
  }
  const envPath = process.env.MODNAS_PLUGIN_PATH;
  for (const d of [...(opts.extraDirs ?? []), ...(envPath ? envPath.split(delimiter).filter(Boolean) : [])]) dirs.add(resolve(d));

  // A workspace package is reached both through node_modules (a link) and its folder: read it once.
  // The list grows while it is read: a plugin's (or an @modnas package's) dependencies that are
  // plugins are found too, resolved from that package's folder as Node would.
  const queue = [...dirs].filter((d) => existsSync(d)).map((d) => realpathSync(d));
  const seen = new Set<string>();
  // The copy of core this package imports is the one that runs: any other is a duplicate.
  const ownCore = realpathSync(dirname(createRequire(import.meta.url).resolve('@modnas/core/package.json')));
  const byName = new Map<string, string[]>([['@modnas/core', [ownCore]]]);
  seen.add(ownCore);
  for (let qi = 0; qi < queue.length; qi++) {
    const dir = queue[qi];
    if (seen.has(dir)) continue;
    seen.add(dir);

    const pjPath = join(dir, 'package.json');
    let pj: Record<string, any>;
    try {
      pj = readJson(pjPath);
    } catch {
      continue;
    }
    const name = String(pj.name ?? dir);
    const version = String(pj.version ?? '0.0.0');
    byName.set(name, [...(byName.get(name) ?? []), dir]);
    // A second copy of a package (a linked plugin's own node_modules): reported, not loaded.
    if (byName.get(name)!.length > 1) continue;
    if (pj.modnas !== undefined || name.startsWith('@modnas/')) {
      // peers too: the copy of core or tfjs that this package would import is the one to compare
      for (const dep of Object.keys({ ...(pj.peerDependencies ?? {}), ...(pj.optionalDependencies ?? {}), ...(pj.dependencies ?? {}) })) {
        const d = resolvePackageDir(dep, dir);
        if (d) queue.push(realpathSync(d));
      }
    }
    const problem = (code: string, msg: string, fix: string, cause?: unknown): void => {
      const error = new ModnasError(code, `plugin ${name}: ${msg}`, { fix, where: pjPath, cause });
      report.problems.push({ package: name, dir, error });
      registry.markBroken(name, error, { version, dir, kind: pj.modnas?.kind, provides: Array.isArray(pj.modnas?.provides) ? pj.modnas.provides : [] });
    };
    const keywords: unknown[] = Array.isArray(pj.keywords) ? pj.keywords : [];
    if (pj.modnas === undefined) {
      if (keywords.includes('modnas-plugin')) {
        problem('MODNAS_E_PLUGIN_MANIFEST', 'has the "modnas-plugin" keyword but no "modnas" field in package.json', 'add "modnas": { "schemaVersion": 1, "kind": "<kind>", "provides": ["<Id>"] } to its package.json');
      }
      continue;
    }
    const m = pj.modnas as Partial<PluginManifest>;
    if (typeof m !== 'object' || m === null) {
      problem('MODNAS_E_PLUGIN_MANIFEST', '"modnas" in package.json must be an object', 'set "modnas": { "schemaVersion": 1, "kind": "<kind>", "provides": [...] }');
      continue;
    }
    if (m.schemaVersion !== 1) {
      problem('MODNAS_E_PLUGIN_MANIFEST', `modnas.schemaVersion is ${JSON.stringify(m.schemaVersion)}, this core reads version 1`, 'set "schemaVersion": 1, or upgrade @modnas/core if the plugin needs a newer manifest');
      continue;
    }
    if (typeof m.kind !== 'string' || !COMPONENT_KINDS.includes(m.kind)) {
      problem('MODNAS_E_PLUGIN_MANIFEST', `modnas.kind "${String(m.kind)}" is not a known kind`, `use one of: ${COMPONENT_KINDS.join(', ')}`);
      continue;
    }
    if (!Array.isArray(m.provides) || m.provides.length === 0 || !m.provides.every((p) => typeof p === 'string' && p.length > 0)) {
      problem('MODNAS_E_PLUGIN_MANIFEST', 'modnas.provides must be a non-empty list of ids', 'list the registry ids the plugin defines, e.g. "provides": ["DARTSOptim"]');
      continue;
    }
    if (m.aliases !== undefined) {
      const a = m.aliases as unknown;
      const ok = typeof a === 'object' && a !== null && !Array.isArray(a) && Object.entries(a).every(([id, list]) => m.provides!.includes(id) && Array.isArray(list) && list.every((x) => typeof x === 'string' && x.length > 0));
      if (!ok) {
        problem('MODNAS_E_PLUGIN_MANIFEST', 'modnas.aliases must map ids of modnas.provides to lists of aliases', 'e.g. "aliases": { "DARTSOptim": ["DARTS"] }, or {} when there are none');
        continue;
      }
    }
    if (m.kinds !== undefined) {
      const k = m.kinds as unknown;
      const ok = typeof k === 'object' && k !== null && !Array.isArray(k) && Object.entries(k).every(([id, kind]) => m.provides!.includes(id) && typeof kind === 'string' && COMPONENT_KINDS.includes(kind as never));
      if (!ok) {
        problem('MODNAS_E_PLUGIN_MANIFEST', 'modnas.kinds must map ids of modnas.provides to component kinds', `e.g. "kinds": { "MobileNetV2SearchConstructor": "construct" }; kinds: ${COMPONENT_KINDS.join(', ')}`);
        continue;
      }
    }
    if (m.descriptions !== undefined) {
      const d = m.descriptions as unknown;
      const ok = typeof d === 'object' && d !== null && !Array.isArray(d) && Object.entries(d).every(([id, text]) => m.provides!.includes(id) && typeof text === 'string');
      if (!ok) {
        problem('MODNAS_E_PLUGIN_MANIFEST', 'modnas.descriptions must map ids of modnas.provides to one-line descriptions', 'e.g. "descriptions": { "DARTSOptim": "DARTS: gradient descent on the architecture parameters" }');
        continue;
      }
    }
    const peer = pj.peerDependencies?.['@modnas/core'] as string | undefined;
    if (peer && !peerSatisfied(peer, CORE_VERSION)) {
      problem('MODNAS_E_PLUGIN_PEER', `needs @modnas/core ${peer}, but ${CORE_VERSION} is installed`, `install a version of ${name} built for @modnas/core ${CORE_VERSION}, or npm i @modnas/core@"${peer}"`);
      continue;
    }
    const entry = entryPath(dir, pj);
    if (!entry) {
      problem('MODNAS_E_PLUGIN_ENTRY', 'has no entry ("exports"."." or "main")', 'add "exports": { ".": "./dist/index.js" } to its package.json');
      continue;
    }
    probeTargets.push({ name, version, entry });
    const load = async (): Promise<unknown> => {
      if (!existsSync(entry)) {
        throw new Error(`entry ${entry} does not exist (is the package built? run its build script)`);
      }
      // first in a child process: a plugin that hangs or exits on import is reported, not obeyed
      await probe.check(name);
      return importPlugin(name, entry);
    };
    registry.addPackage({ name, version, kind: m.kind, provides: m.provides, aliases: m.aliases, kinds: m.kinds, descriptions: m.descriptions, dir, load });
    report.plugins.push({ name, version, kind: m.kind, provides: m.provides, dir, entry });
  }
  for (const [name, copies] of byName) if (copies.length > 1) report.duplicates.push({ package: name, dirs: copies });
  for (const p of registry.problems()) {
    if (!report.problems.some((q) => q.package === p.package)) {
      report.problems.push({ package: p.package, dir: '', error: p.error as ModnasError });
    }
  }
  return report;
}

/** Does core `version` fit a plugin's peer range? `workspace:` ranges match any version in the workspace. */
export function peerSatisfied(range: string, version: string): boolean {
  if (range.startsWith('workspace:')) {
    const r = range.slice('workspace:'.length);
    if (r === '*' || r === '^' || r === '~') return true;
    range = r;
  }
  return semver.satisfies(version, range, { includePrerelease: true });
}

function findUp(from: string, file: string): string | undefined {
  let dir = from;
  for (;;) {
    const p = join(dir, file);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function readJson(p: string): Record<string, any> {
  return JSON.parse(readFileSync(p, 'utf8'));
}

/** Node's lookup: node_modules/<name> in the directory and each parent. */
function resolvePackageDir(name: string, from: string): string | undefined {
  let dir = from;
  for (;;) {
    const p = join(dir, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return p;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function workspaceDirs(wsFile: string): string[] {
  const root = dirname(wsFile);
  let patterns: string[] = [];
  try {
    patterns = (parseYaml(readFileSync(wsFile, 'utf8'))?.packages ?? []) as string[];
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const pat of patterns) {
    if (pat.startsWith('!')) continue;
    if (pat.endsWith('/*')) {
      const base = join(root, pat.slice(0, -2));
      if (!existsSync(base)) continue;
      for (const d of readdirSync(base)) {
        const full = join(base, d);
        if (statSync(full).isDirectory() && existsSync(join(full, 'package.json'))) out.push(full);
      }
    } else if (existsSync(join(root, pat, 'package.json'))) out.push(join(root, pat));
  }
  return out;
}

function entryPath(dir: string, pj: Record<string, any>): string | undefined {
  let e: unknown = pj.exports;
  if (e && typeof e === 'object' && !Array.isArray(e) && '.' in (e)) e = (e as Record<string, unknown>)['.'];
  while (e && typeof e === 'object' && !Array.isArray(e)) {
    const o = e as Record<string, unknown>;
    e = o.import ?? o.node ?? o.default;
  }
  const rel = typeof e === 'string' ? e : typeof pj.main === 'string' ? pj.main : undefined;
  return rel ? join(dir, rel) : undefined;
}
