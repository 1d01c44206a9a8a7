import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComponentKind } from '@modnas/core';
import { CORE_VERSION, Registry, isModnasError } from '@modnas/core';
import { discoverPlugins, peerSatisfied } from './discovery.js';

/** A plain-object plugin module (no imports), as a third party could write by hand. */
function pluginSource(name: string, ids: string[], opts: { throwOnImport?: boolean } = {}): string {
  if (opts.throwOnImport) return `throw new Error('kaboom in ${name}');\n`;
  const comps = ids
    .map((id) => `{ kind: 'dataset', id: '${id}', description: 'fixture', schema: { safeParse: (x) => ({ success: true, data: x }), parse: (x) => x }, create: () => ({ name: '${id}' }) }`)
    .join(',\n');
  return `export default { meta: { name: '${name}', version: '1.0.0' }, components: [${comps}] };\n`;
}

function addPackage(root: string, name: string, pj: Record<string, unknown>, source?: string): void {
  const dir = join(root, 'node_modules', name);
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: { '.': './dist/index.js' }, ...pj }));
  if (source !== undefined) writeFileSync(join(dir, 'dist', 'index.js'), source);
}

let host: string;
const coreRange = `^${CORE_VERSION}`;

beforeAll(() => {
  host = mkdtempSync(join(tmpdir(), 'modnas-discovery-'));
  const deps: Record<string, string> = {};
  const add = (name: string, pj: Record<string, unknown>, source?: string) => {
    deps[name] = '1.0.0';
    addPackage(host, name, pj, source);
  };
  add('good-plugin', { modnas: { schemaVersion: 1, kind: 'dataset', provides: ['GoodData'] }, peerDependencies: { '@modnas/core': coreRange } }, pluginSource('good-plugin', ['GoodData']));
  add('no-field-plugin', { keywords: ['modnas-plugin'] }, pluginSource('no-field-plugin', ['X']));
  add('bad-kind-plugin', { modnas: { schemaVersion: 1, kind: 'teleporter', provides: ['Tele'] } }, pluginSource('bad-kind-plugin', ['Tele']));
  add('throws-plugin', { modnas: { schemaVersion: 1, kind: 'dataset', provides: ['Boom'] } }, pluginSource('throws-plugin', ['Boom'], { throwOnImport: true }));
  add('old-peer-plugin', { modnas: { schemaVersion: 1, kind: 'dataset', provides: ['Old'] }, peerDependencies: { '@modnas/core': '^99.0.0' } }, pluginSource('old-peer-plugin', ['Old']));
  add('dup-a', { modnas: { schemaVersion: 1, kind: 'dataset', provides: ['Twin'] } }, pluginSource('dup-a', ['Twin']));
  add('dup-b', { modnas: { schemaVersion: 1, kind: 'dataset', provides: ['Twin'] } }, pluginSource('dup-b', ['Twin']));
  add('not-a-plugin', { description: 'an ordinary dependency' });
  // a plugin that arrives only as another plugin's dependency (nested, as npm does on a conflict)
  add('outer-plugin', { modnas: { schemaVersion: 1, kind: 'dataset', provides: ['Outer'] }, dependencies: { 'inner-plugin': '1.0.0' } }, pluginSource('outer-plugin', ['Outer']));
  addPackage(join(host, 'node_modules', 'outer-plugin'), 'inner-plugin', { modnas: { schemaVersion: 1, kind: 'dataset', provides: ['Inner'] } }, pluginSource('inner-plugin', ['Inner']));
  // a plugin with its own copy of core (linked from its folder, or beside a global CLI)
  add('own-core-plugin', { modnas: { schemaVersion: 1, kind: 'dataset', provides: ['OwnCore'] }, peerDependencies: { '@modnas/core': coreRange } }, pluginSource('own-core-plugin', ['OwnCore']));
  addPackage(join(host, 'node_modules', 'own-core-plugin'), '@modnas/core', { version: CORE_VERSION }, '');
  // installed but not declared: must not be found (no blind node_modules scan)
  addPackage(host, 'undeclared-plugin', { modnas: { schemaVersion: 1, kind: 'dataset', provides: ['Sneaky'] } }, pluginSource('undeclared-plugin', ['Sneaky']));
  writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host', version: '0.0.0', dependencies: deps }));
});

async function resolveError(r: Registry, id: string, kind: ComponentKind = 'dataset') {
  try {
    await r.resolve(kind, id);
  } catch (e) {
    if (isModnasError(e)) return e;
    throw e;
  }
  throw new Error(`expected ${id} to fail`);
}

describe('discoverPlugins', () => {
  it("finds a plugin that is only another plugin's dependency, resolved from that plugin's folder", async () => {
    const r = new Registry();
    const report = discoverPlugins({ cwd: host, registry: r, workspace: false });
    expect(report.plugins.find((p) => p.name === 'inner-plugin')?.dir).toContain(join('outer-plugin', 'node_modules', 'inner-plugin'));
    expect(((await r.resolve('dataset', 'Inner')) as { id: string }).id).toBe('Inner');
  });

  it('reports a second copy of core with both folders, and keeps the running one', () => {
    const report = discoverPlugins({ cwd: host, registry: new Registry(), workspace: false });
    const dup = report.duplicates.find((d) => d.package === '@modnas/core');
    expect(dup?.dirs).toHaveLength(2);
    expect(dup?.dirs[1]).toContain(join('own-core-plugin', 'node_modules', '@modnas', 'core'));
    // the first is the copy this code runs from
    expect(dup?.dirs[0]).not.toContain('own-core-plugin');
  });

  it('finds declared plugins without importing them, and loads one on use', async () => {
    const r = new Registry();
    const rep = discoverPlugins({ cwd: host, registry: r, workspace: false });
    expect(rep.plugins.map((p) => p.name).sort()).toEqual(['dup-a', 'dup-b', 'good-plugin', 'inner-plugin', 'outer-plugin', 'own-core-plugin', 'throws-plugin']);
    expect(r.list().find((x) => x.id === 'GoodData')?.status).toBe('lazy');
    const def = await r.resolve('dataset', 'GoodData');
    expect(def.id).toBe('GoodData');
    expect(r.list().find((x) => x.id === 'GoodData')?.status).toBe('loaded');
  });

  it('does not scan undeclared packages in node_modules', () => {
    const r = new Registry();
    discoverPlugins({ cwd: host, registry: r, workspace: false });
    expect(r.has('Sneaky')).toBe(false);
  });

  it('reports each broken plugin with its package and fix, and keeps the rest', async () => {
    const r = new Registry();
    const rep = discoverPlugins({ cwd: host, registry: r, workspace: false });
    const byPkg = Object.fromEntries(rep.problems.map((p) => [p.package, p.error]));
    expect(byPkg['no-field-plugin'].message).toContain('no "modnas" field');
    expect(byPkg['bad-kind-plugin'].message).toContain('modnas.kind "teleporter" is not a known kind');
    expect(byPkg['old-peer-plugin'].code).toBe('MODNAS_E_PLUGIN_PEER');
    expect(byPkg['old-peer-plugin'].message).toContain(`needs @modnas/core ^99.0.0, but ${CORE_VERSION} is installed`);
    expect(byPkg['dup-a, dup-b'].code).toBe('MODNAS_E_REGISTRY_DUPLICATE');
    // the good one still works
    expect((await r.resolve('dataset', 'GoodData')).id).toBe('GoodData');
  });

  it('turns an import that throws into a plugin error naming the package', async () => {
    const r = new Registry();
    discoverPlugins({ cwd: host, registry: r, workspace: false });
    const e = await resolveError(r, 'Boom');
    expect(e.code).toBe('MODNAS_E_PLUGIN_IMPORT');
    expect(e.message).toContain('importing plugin throws-plugin failed: kaboom');
    expect(r.problems().some((p) => p.package === 'throws-plugin')).toBe(true);
  });

  it('refuses an id provided by two packages, naming both', async () => {
    const r = new Registry();
    discoverPlugins({ cwd: host, registry: r, workspace: false });
    const e = await resolveError(r, 'Twin');
    expect(e.code).toBe('MODNAS_E_REGISTRY_DUPLICATE');
    expect(e.message).toContain('dup-a and dup-b');
  });
});

describe('engine packages', () => {
  it('an engine package is a plugin of kind engine; one reached only through a renamed @modnas package (no manifest) is found once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-engines-'));
    const engine = `{ kind: 'engine', id: 'fast', name: 'fast', priority: 70, setup: async () => {}, description: 'fixture', schema: { safeParse: (x) => ({ success: true, data: x }), parse: (x) => x }, create: () => ({}) }`;
    addPackage(dir, '@modnas/engine-new', { modnas: { schemaVersion: 1, kind: 'engine', provides: ['fast'], aliases: {} } }, `export default { meta: { name: '@modnas/engine-new', version: '1.0.0' }, components: [${engine}] };\n`);
    // the old name: depends on the new one and re-exports it, with no manifest of its own
    addPackage(dir, '@modnas/engine-old', { dependencies: { '@modnas/engine-new': '1.0.0' } }, `export * from '@modnas/engine-new';\n`);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'host', version: '0.0.0', dependencies: { '@modnas/engine-old': '1.0.0' } }));
    const r = new Registry();
    const report = discoverPlugins({ cwd: dir, registry: r, workspace: false });
    expect(report.problems).toEqual([]);
    expect(report.plugins.map((p) => [p.name, p.kind, p.provides])).toEqual([['@modnas/engine-new', 'engine', ['fast']]]);
    expect(r.list().filter((row) => row.kind === 'engine').map((row) => [row.id, row.package])).toEqual([['fast', '@modnas/engine-new']]);
    expect(await r.resolve('engine', 'fast')).toMatchObject({ kind: 'engine', name: 'fast', priority: 70 });
  });
});

describe('ids answered from the manifests (modnas.aliases)', () => {
  const root = new URL('../../../', import.meta.url).pathname;

  it('an unknown id among every first-party plugin imports none of them, and suggests from the manifests', async () => {
    const r = new Registry();
    const report = discoverPlugins({ cwd: root, registry: r });
    expect(report.plugins.length).toBeGreaterThanOrEqual(40);
    const e = await resolveError(r, 'DARTZ', 'optim');
    expect(e.code).toBe('MODNAS_E_REGISTRY_MISSING');
    expect(e.message).toMatch(/Did you mean "DARTS"/);
    expect(r.packageList().filter((p) => p.status !== 'lazy').map((p) => p.name)).toEqual([]);
  });

  it("an alias known only from a manifest resolves, importing that plugin alone", async () => {
    const r = new Registry();
    discoverPlugins({ cwd: root, registry: r });
    expect((await r.resolve('optim', 'Random')).id).toBe('RandomSearchOptim');
    expect(r.packageList().filter((p) => p.status !== 'lazy').map((p) => p.name)).toEqual(['@modnas/optim-random']);
    // the kinds of ids that are not the package's kind come from the manifest too
    expect(r.list().find((row) => row.id === 'MobileNetV2SearchConstructor')?.kind).toBe('construct');
  });

  it('a manifest whose aliases differ from the code is refused on import, naming the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-aliases-'));
    const add = (name: string, aliases: Record<string, string[]>): void => {
      const d = join(dir, name);
      mkdirSync(join(d, 'dist'), { recursive: true });
      writeFileSync(join(d, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: { '.': './dist/index.js' }, modnas: { schemaVersion: 1, kind: 'dataset', provides: ['Aliased'], aliases } }));
      writeFileSync(join(d, 'dist', 'index.js'), pluginSource(name, ['Aliased']));
    };
    add('says-alias', { Aliased: ['Other'] });
    const r = new Registry();
    discoverPlugins({ cwd: dir, registry: r, workspace: false, extraDirs: [join(dir, 'says-alias')] });
    const e = await resolveError(r, 'Aliased');
    expect(e.code).toBe('MODNAS_E_PLUGIN_PROVIDES');
    expect(e.message).toContain('modnas.aliases ({"Aliased":["Other"]}) does not match');
  });

  it('every first-party manifest describes its ids (modnas.descriptions), for plugins list without imports; a malformed one is a manifest problem', () => {
    const r = new Registry();
    discoverPlugins({ cwd: root, registry: r });
    const undescribed = r.list().filter((row) => row.kind !== 'engine' && row.package.startsWith('@modnas/') && row.description === '');
    expect(undescribed.map((row) => row.id)).toEqual([]);
    expect(r.packageList().filter((p) => p.status !== 'lazy').map((p) => p.name)).toEqual([]);

    const dir = mkdtempSync(join(tmpdir(), 'modnas-descriptions-'));
    const d = join(dir, 'bad-descriptions');
    mkdirSync(join(d, 'dist'), { recursive: true });
    writeFileSync(join(d, 'package.json'), JSON.stringify({ name: 'bad-descriptions', version: '1.0.0', type: 'module', exports: { '.': './dist/index.js' }, modnas: { schemaVersion: 1, kind: 'dataset', provides: ['Described'], aliases: {}, descriptions: { NotProvided: 'x' } } }));
    writeFileSync(join(d, 'dist', 'index.js'), pluginSource('bad-descriptions', ['Described']));
    const bad = new Registry();
    discoverPlugins({ cwd: dir, registry: bad, workspace: false, extraDirs: [d] });
    expect(bad.problems().map((p) => p.error.message).join('\n')).toContain('modnas.descriptions must map ids of modnas.provides');
  });
});

describe('peerSatisfied', () => {
  it('checks semver ranges and accepts workspace ranges', () => {
    expect(peerSatisfied('^0.1.0', '0.1.5')).toBe(true);
    expect(peerSatisfied('^0.1.0', '0.2.0')).toBe(false);
    expect(peerSatisfied('>=0.1 <1', '0.9.0')).toBe(true);
    expect(peerSatisfied('workspace:^', '3.0.0')).toBe(true);
    expect(peerSatisfied('workspace:^0.1.0', '0.2.0')).toBe(false);
  });
});
