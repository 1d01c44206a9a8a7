import { ModnasError, closeMatches, isModnasError } from './errors.js';
import type { ComponentKind } from './interfaces.js';
import type { AnyComponentDef, ModnasPlugin } from './plugin.js';
import { validatePlugin } from './plugin.js';

/** A package that provides components: known from its package.json before its code is imported. */
export interface PackageRecord {
  name: string;
  version: string;
  /** The package's main kind (package.json `modnas.kind`). */
  kind: string;
  /** Ids the package says it provides (package.json `modnas.provides`). */
  provides: readonly string[];
  /**
   * Aliases by id (package.json `modnas.aliases`). Present (even `{}`): the manifest says every
   * alias, so a miss is answered without importing the package; absent: only its code knows them.
   */
  aliases?: Readonly<Record<string, readonly string[]>>;
  /** Kinds of the ids whose kind is not the package's (package.json `modnas.kinds`). */
  kinds?: Readonly<Record<string, string>>;
  /** One line per id (package.json `modnas.descriptions`), so `plugins list` describes without importing code. */
  descriptions?: Readonly<Record<string, string>>;
  /** Where it was found (a directory), for messages. */
  dir?: string;
  /** Imports the entry; absent for plugins registered as objects. */
  load?: () => Promise<unknown>;
  status: 'lazy' | 'loaded' | 'broken';
  error?: Error;
}

interface IdEntry {
  /** The canonical id (an alias points at it). */
  id: string;
  packages: string[];
  def?: AnyComponentDef;
}

export interface RegistryRow {
  kind: string;
  id: string;
  aliases: string[];
  /** The component's description (from its code once loaded, else from the manifest; '' when neither says). */
  description: string;
  package: string;
  version: string;
  status: PackageRecord['status'];
}

/**
 * Component definitions by id. One registry per process, kept on the global object so that two
 * copies of core (a CommonJS host, a bundler) still share it. Instances live in per-experiment
 * DI containers, not here.
 */
export class Registry {
  /** Registry id -> the package that provides it, for "npm i" hints on a miss (the runtime sets the first-party table). */
  private installHints: Readonly<Record<string, string>> = {};

  setInstallHints(hints: Readonly<Record<string, string>>): void {
    this.installHints = hints;
  }

  private readonly ids = new Map<string, IdEntry>();
  private readonly packages = new Map<string, PackageRecord>();

  /** Register a plugin object now (the primary path for code that imports plugins itself). */
  register(plugin: ModnasPlugin): void {
    validatePlugin(plugin, plugin?.meta?.name ?? '(unnamed plugin)');
    const name = plugin.meta.name;
    const existing = this.packages.get(name);
    if (existing?.status === 'loaded') return;
    const rec: PackageRecord = existing ?? {
      name,
      version: plugin.meta.version,
      kind: plugin.components[0]?.kind ?? 'unknown',
      provides: plugin.components.map((c) => c.id),
      status: 'loaded',
    };
    rec.status = 'loaded';
    this.packages.set(name, rec);
    for (const def of plugin.components) {
      for (const key of [def.id, ...(def.aliases ?? [])]) {
        const e = this.ids.get(key);
        if (e && e.def && e.def !== def) {
          throw duplicateError(key, [...e.packages, name]);
        }
        const entry: IdEntry = e ?? { id: def.id, packages: [] };
        entry.id = def.id;
        entry.def = def;
        if (!entry.packages.includes(name)) entry.packages.push(name);
        this.ids.set(key, entry);
      }
    }
  }

  /** Record a package found by discovery; its code is imported when one of its ids is first used. */
  addPackage(rec: Omit<PackageRecord, 'status'>): void {
    if (this.packages.get(rec.name)?.status === 'loaded') return;
    this.packages.set(rec.name, { ...rec, status: 'lazy' });
    for (const id of rec.provides) {
      const e = this.ids.get(id) ?? { id, packages: [] };
      if (!e.packages.includes(rec.name)) e.packages.push(rec.name);
      this.ids.set(id, e);
      // an alias from the manifest points at the same entry (its canonical id)
      for (const alias of rec.aliases?.[id] ?? []) if (!this.ids.has(alias)) this.ids.set(alias, e);
    }
  }

  /** Mark a package as broken (discovery found a problem); its ids then say why they can't load. */
  markBroken(name: string, error: Error, partial?: Partial<PackageRecord>): void {
    const rec = this.packages.get(name) ?? { name, version: partial?.version ?? '?', kind: partial?.kind ?? '?', provides: partial?.provides ?? [], dir: partial?.dir, status: 'broken' as const };
    rec.status = 'broken';
    rec.error = error;
    this.packages.set(name, rec);
  }

  /** Problems: broken packages and ids provided by more than one package. */
  problems(): Array<{ package: string; error: Error }> {
    const out: Array<{ package: string; error: Error }> = [];
    for (const p of this.packages.values()) if (p.status === 'broken' && p.error) out.push({ package: p.name, error: p.error });
    const seen = new Set<string>();
    for (const [key, e] of this.ids) {
      if (e.packages.length > 1 && !seen.has(key)) {
        seen.add(key);
        out.push({ package: e.packages.join(', '), error: duplicateError(key, e.packages) });
      }
    }
    // names that differ only in case, '_' or '-' but belong to different components (a config could not tell them apart)
    const loose = new Map<string, Map<string, [IdEntry, string]>>();
    for (const [name, e] of this.ids) {
      const k = looseName(name);
      const m = loose.get(k) ?? new Map<string, [IdEntry, string]>();
      if (!m.has(e.id)) m.set(e.id, [e, name]);
      loose.set(k, m);
    }
    for (const m of loose.values()) {
      if (m.size < 2) continue;
      const names = [...m.values()].map(([, n]) => n).sort();
      const pkgs = [...new Set([...m.values()].flatMap(([e]) => e.packages))].sort();
      out.push({
        package: pkgs.join(', '),
        error: new ModnasError('MODNAS_E_REGISTRY_LOOSE_CLASH', `${names.map((n) => `"${n}"`).join(' and ')} (${pkgs.join(', ')}) are one name when case, '_' and '-' are ignored, as configs may write ids`, {
          fix: 'rename one of them (or its alias) in its plugin, or uninstall one of the packages',
        }),
      });
    }
    return out;
  }

  has(id: string): boolean {
    return this.lookup(id) !== undefined;
  }

  /**
   * The entry of an id or alias: the exact name, else the one entry whose name matches it with
   * case, '_' and '-' ignored, as the original ModularNAS looked names up (`binarygateoptim`,
   * `binary_gate_optim`). Two different components under one loose name are ambiguous.
   */
  private lookup(id: string, where?: string): IdEntry | undefined {
    const exact = this.ids.get(id);
    if (exact) return exact;
    const key = looseName(id);
    // one component may sit under several entries (an id and its aliases): tell them apart by canonical id
    const found = new Map<string, [IdEntry, string]>();
    for (const [name, e] of this.ids) if (looseName(name) === key && !found.has(e.id)) found.set(e.id, [e, name]);
    if (found.size <= 1) return found.values().next().value?.[0];
    const names = [...found.values()].map(([, n]) => n).sort();
    throw new ModnasError('MODNAS_E_REGISTRY_AMBIGUOUS', `"${id}" matches ${names.map((n) => `"${n}"`).join(' and ')} with case, '_' and '-' ignored`, {
      fix: `write the id exactly: ${names.join(' or ')}`,
      where,
    });
  }

  /** Find a component by id or alias, importing its package if needed. */
  async resolve(kind: ComponentKind, id: string, where?: string): Promise<AnyComponentDef> {
    if (typeof id !== 'string' || id === '') {
      throw new ModnasError('MODNAS_E_CONFIG_TYPE', `expected a ${kind} id (a string), got ${JSON.stringify(id)}`, { where });
    }
    let entry = this.lookup(id, where);
    const silent = [...this.packages.values()].filter((p) => p.status === 'lazy' && p.aliases === undefined);
    if (!entry && silent.length > 0) {
      // Packages whose manifest does not list their aliases: only their code knows them.
      for (const p of silent) await this.loadPackage(p).catch(() => undefined);
      entry = this.lookup(id, where);
    }
    if (!entry) throw this.missError(kind, id, where);
    if (entry.packages.length > 1) throw duplicateError(id, entry.packages, where);
    if (!entry.def) {
      const pkg = this.packages.get(entry.packages[0]);
      if (pkg) await this.loadPackage(pkg, where);
    }
    // the package's import replaced its lazy entry: look the name up again
    const def = (entry.def ? entry : this.lookup(id, where))?.def;
    if (!def) {
      const pkg = this.packages.get(entry.packages[0]);
      throw new ModnasError('MODNAS_E_PLUGIN_PROVIDES', `package ${entry.packages[0]} lists "${id}" in modnas.provides but its plugin does not define it`, {
        fix: `add "${id}" to the plugin's components, or remove it from "modnas.provides" in ${pkg?.dir ?? entry.packages[0]}/package.json`,
        where,
      });
    }
    if (def.kind !== kind) {
      throw new ModnasError('MODNAS_E_REGISTRY_KIND', `"${id}" is a ${def.kind}, but a ${kind} is expected here`, {
        fix: `use a ${kind} id here (${this.ids_of(kind).slice(0, 6).join(', ') || 'none registered'})`,
        where,
      });
    }
    return def;
  }

  private async loadPackage(pkg: PackageRecord, where?: string): Promise<void> {
    if (pkg.status === 'broken') {
      throw new ModnasError('MODNAS_E_PLUGIN_BROKEN', `plugin ${pkg.name} cannot be used: ${pkg.error?.message ?? 'it failed to load'}`, {
        fix: `run "modnas plugins doctor" for details, then reinstall or fix ${pkg.name}`,
        where,
        cause: pkg.error,
      });
    }
    if (pkg.status === 'loaded' || !pkg.load) return;
    let mod: unknown;
    try {
      mod = await pkg.load();
    } catch (e) {
      // A hang or a process.exit during the import has its own code (plugin-import.ts).
      if (isModnasError(e) && /^MODNAS_E_PLUGIN_(TIMEOUT|EXIT)$/.test(e.code)) {
        this.markBroken(pkg.name, e);
        throw e;
      }
      const err = new ModnasError('MODNAS_E_PLUGIN_IMPORT', `importing plugin ${pkg.name} failed: ${(e as Error)?.message ?? String(e)}`, {
        fix: `check that ${pkg.name} is built and installed (npm i ${pkg.name}); its entry threw on import`,
        where: pkg.dir ?? where,
        cause: e,
      });
      this.markBroken(pkg.name, err);
      throw err;
    }
    const plugin = (mod as { default?: unknown })?.default ?? mod;
    try {
      validatePlugin(plugin, pkg.name);
      if (plugin.meta.name !== pkg.name) {
        throw new ModnasError('MODNAS_E_PLUGIN_META', `plugin ${pkg.name} says its name is "${plugin.meta.name}"`, { fix: 'make meta.name equal the package name' });
      }
      const defined = new Set(plugin.components.map((c) => c.id));
      const missing = pkg.provides.filter((id) => !defined.has(id));
      const extra = [...defined].filter((id) => !pkg.provides.includes(id));
      if (missing.length || extra.length) {
        throw new ModnasError('MODNAS_E_PLUGIN_PROVIDES', `plugin ${pkg.name}: package.json modnas.provides does not match its components (missing: ${missing.join(', ') || '-'}; not listed: ${extra.join(', ') || '-'})`, {
          fix: `set "modnas.provides" to ${JSON.stringify([...defined])}`,
          where: pkg.dir,
        });
      }
      const wrongKind = plugin.components.filter((c) => (pkg.kinds?.[c.id] ?? pkg.kind) !== c.kind && pkg.aliases !== undefined);
      if (wrongKind.length) {
        throw new ModnasError('MODNAS_E_PLUGIN_PROVIDES', `plugin ${pkg.name}: package.json says ${wrongKind.map((c) => `${c.id} is a ${pkg.kinds?.[c.id] ?? pkg.kind}`).join(', ')}, its code says ${wrongKind.map((c) => c.kind).join(', ')}`, {
          fix: `set "modnas.kinds" to ${JSON.stringify(manifestKinds(pkg.kind, plugin.components))}`,
          where: pkg.dir,
        });
      }
      if (pkg.aliases !== undefined) {
        const said = aliasesOf(pkg.aliases);
        const has = manifestAliases(plugin.components);
        if (JSON.stringify(said) !== JSON.stringify(has)) {
          throw new ModnasError('MODNAS_E_PLUGIN_PROVIDES', `plugin ${pkg.name}: package.json modnas.aliases (${JSON.stringify(said)}) does not match its components' aliases (${JSON.stringify(has)})`, {
            fix: `set "modnas.aliases" to ${JSON.stringify(has)}`,
            where: pkg.dir,
          });
        }
      }
      if (pkg.descriptions !== undefined) {
        const has = manifestDescriptions(plugin.components);
        const wrong = Object.keys(has).filter((id) => pkg.descriptions?.[id] !== has[id]);
        if (wrong.length) {
          throw new ModnasError('MODNAS_E_PLUGIN_PROVIDES', `plugin ${pkg.name}: package.json modnas.descriptions does not match its components' descriptions (${wrong.join(', ')})`, {
            fix: `set "modnas.descriptions" to ${JSON.stringify(has)}`,
            where: pkg.dir,
          });
        }
      }
      // Drop the lazy claims of this package (ids and manifest aliases) before registering its real definitions.
      for (const id of pkg.provides) {
        for (const key of [id, ...(pkg.aliases?.[id] ?? [])]) {
          const e = this.ids.get(key);
          if (e && !e.def) {
            e.packages = e.packages.filter((p) => p !== pkg.name);
            if (e.packages.length === 0) this.ids.delete(key);
          }
        }
      }
      this.register(plugin);
    } catch (e) {
      this.markBroken(pkg.name, e as Error);
      throw e;
    }
  }

  private ids_of(kind: ComponentKind): string[] {
    const out: string[] = [];
    for (const [key, e] of this.ids) if (e.def?.kind === kind && key === e.id) out.push(key);
    return out.sort();
  }

  /** Close matches of a mistyped id among every id and alias the registry knows (manifests included), best first. */
  suggest(id: string, max = 3): string[] {
    return closeMatches(id, this.ids.keys(), max);
  }

  private missError(kind: ComponentKind, id: string, where?: string): ModnasError {
    const hinted = Object.keys(this.installHints).find((k) => looseName(k) === looseName(id));
    const pkg = hinted === undefined ? undefined : this.installHints[hinted];
    const close = this.suggest(id);
    const hint = close.length ? ` Did you mean ${close.map((c) => `"${c}"`).join(' or ')}?` : '';
    if (pkg) {
      return new ModnasError('MODNAS_E_REGISTRY_MISSING', `unknown ${kind} "${id}": it is provided by ${pkg}, which is not installed.`, {
        fix: `npm i ${pkg}   (then list it in your package.json dependencies so discovery finds it)`,
        where,
      });
    }
    return new ModnasError('MODNAS_E_REGISTRY_MISSING', `unknown ${kind} "${id}".${hint}`, {
      fix: close.length ? `replace "${id}" with ${close[0]}` : `run "modnas plugins list" for the ids that are installed`,
      where,
    });
  }

  /** Every id with its package, for `modnas plugins list`. */
  list(): RegistryRow[] {
    const rows: RegistryRow[] = [];
    const aliases = new Map<string, string[]>();
    for (const [key, e] of this.ids) if (key !== e.id) aliases.set(e.id, [...(aliases.get(e.id) ?? []), key]);
    for (const [key, e] of this.ids) {
      if (key !== e.id) continue;
      for (const p of e.packages) {
        const pkg = this.packages.get(p);
        rows.push({
          kind: e.def?.kind ?? pkg?.kinds?.[key] ?? pkg?.kind ?? '?',
          id: key,
          aliases: aliases.get(key) ?? [],
          description: e.def?.description ?? pkg?.descriptions?.[key] ?? '',
          package: p,
          version: pkg?.version ?? '?',
          status: pkg?.status ?? 'loaded',
        });
      }
    }
    return rows.sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
  }

  packageList(): PackageRecord[] {
    return [...this.packages.values()];
  }

  /** Import every discovered package now (for `plugins list` with aliases, doctor, schema generation). */
  async loadAll(): Promise<void> {
    for (const p of this.packages.values()) {
      if (p.status === 'lazy') await this.loadPackage(p).catch(() => undefined);
    }
  }
}

/** A name as the original ModularNAS's registry compared them: lower case, without '_' and '-'. */
export function looseName(id: string): string {
  return id.toLowerCase().replace(/[_-]/g, '');
}

/** A manifest's aliases in a canonical order (ids sorted, aliases sorted, ids without aliases left out). */
function aliasesOf(a: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  return Object.fromEntries(
    Object.keys(a)
      .filter((id) => a[id].length > 0)
      .sort()
      .map((id) => [id, [...a[id]].sort()]),
  );
}

/** The `modnas.kinds` a plugin's components call for: the ids whose kind is not the package's `kind`. */
export function manifestKinds(packageKind: string, components: readonly AnyComponentDef[]): Record<string, string> {
  return Object.fromEntries(components.filter((c) => c.kind !== packageKind).map((c) => [c.id, c.kind]).sort());
}

/** The `modnas.descriptions` a plugin's components call for: id -> description, ids sorted. */
export function manifestDescriptions(components: readonly AnyComponentDef[]): Record<string, string> {
  return Object.fromEntries(components.map((c): [string, string] => [c.id, c.description]).sort(([a], [b]) => a.localeCompare(b)));
}

/** The `modnas.aliases` a plugin's components call for (what its package.json must say). */
export function manifestAliases(components: readonly AnyComponentDef[]): Record<string, string[]> {
  return aliasesOf(Object.fromEntries(components.map((c) => [c.id, [...(c.aliases ?? [])]])));
}

function duplicateError(id: string, packages: string[], where?: string): ModnasError {
  return new ModnasError('MODNAS_E_REGISTRY_DUPLICATE', `id "${id}" is provided by more than one package: ${packages.join(' and ')}`, {
    fix: `uninstall one of ${packages.join(', ')}, or rename the id in the plugin you own`,
    where,
  });
}

const GLOBAL_KEY = Symbol.for('@modnas/core:registry');

/** The process-wide registry. */
export function getRegistry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  return (g[GLOBAL_KEY] ??= new Registry());
}
