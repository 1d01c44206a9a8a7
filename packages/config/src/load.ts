import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ModnasError } from '@modnas/core';
import type { JsonObject } from './merge.js';
import { applyOverrides, assertSafeKeys, deepMerge, isObject } from './merge.js';
import { fillSeedDefaults, isSeedFormat, isSeedOverride, isSeedPipeline, mapSeedFormat } from './seed.js';

export interface LoadedConfig {
  /** The merged config in the native format, before validation. */
  raw: JsonObject;
  /** The files it came from, in merge order. */
  sources: string[];
  /** Seed-format keys that were read and ignored. */
  ignored: string[];
  /** Seed-format sections that were left out and filled with the seed's defaults. */
  defaulted: string[];
  /** Seed-format files: [native path, the file's own path], for error messages (seedPathOf). */
  origins: Array<[string, string]>;
}

/** Read one YAML (or JSON) file into an object; missing files and syntax errors name the file and line. */
export function readYamlFile(path: string, what = 'config file'): JsonObject {
  const doc = readYamlValue(path, what);
  if (doc === null || doc === undefined) return {};
  if (!isObject(doc)) throw new ModnasError('MODNAS_E_CONFIG_SYNTAX', `${what} ${path} must hold a mapping of keys at the top level`, { where: path });
  return doc;
}

/** Read any YAML (or JSON) value from a file (an arch_desc may be a list). */
export function readYamlValue(path: string, what = 'file'): unknown {
  if (!existsSync(path)) {
    throw new ModnasError('MODNAS_E_CONFIG_FILE', `${what} ${path} does not exist`, { fix: 'check the path (relative paths are read from the current directory)', where: path });
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    const line = e instanceof YAMLParseError && e.linePos ? `:${e.linePos[0].line}:${e.linePos[0].col}` : '';
    throw new ModnasError('MODNAS_E_CONFIG_SYNTAX', `${what} ${path}${line} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, { fix: 'fix the YAML syntax at that line', where: `${path}${line}`, cause: e });
  }
  return doc;
}

/** Map one parsed document to the native format (seed-format documents are translated). */
export function toNative(doc: JsonObject, where: string): { config: JsonObject; ignored: string[]; origins: Array<[string, string]>; seed: boolean } {
  return isSeedFormat(doc) ? { ...mapSeedFormat(doc, where), seed: true } : { config: doc, ignored: [], origins: [], seed: false };
}

/** A parsed config document and where it came from (a file, or a step of a pipeline file). */
export interface ConfigDoc {
  doc: JsonObject;
  where: string;
  /** Map a seed-format document as this kind of pipeline step (see mapSeedFormat). */
  kind?: 'search' | 'train';
  /** Its pipeline step name: the seed keys it reports are `<prefix>.<key>`. */
  prefix?: string;
}

export interface LoadedDocs {
  raw: JsonObject;
  sources: string[];
  ignored: string[];
  /** The seed-format files' [native path, own path] pairs (seedPathOf renames error paths with them). */
  origins: Array<[string, string]>;
  anySeed: boolean;
}

/**
 * Map and merge documents (later wins). Overrides on the seed-format file's own keys
 * (isSeedOverride) are applied to the last seed-format document before it is mapped; the rest
 * are returned for the caller to apply to the merged native config.
 */
export function mergeDocs(docs: readonly ConfigDoc[], overrides: readonly string[] = [], base: JsonObject = {}): LoadedDocs & { native: string[] } {
  let raw: JsonObject = base;
  const ignored: string[] = [];
  const sources: string[] = [];
  const origins: Array<[string, string]> = [];
  let anySeed = false;
  const seedIdx = docs.map((d) => isSeedFormat(d.doc)).lastIndexOf(true);
  const seedKeys = seedIdx < 0 ? [] : overrides.filter((o) => isSeedOverride(o, docs[seedIdx].doc));
  docs.forEach(({ doc, where, kind, prefix }, i) => {
    assertSafeKeys(doc, where);
    // A pipeline applies seed keys step by step (seedPipelineSteps); other documents directly.
    const mine = i === seedIdx ? seedKeys : [];
    const input = mine.length && !isSeedPipeline(doc) ? applyOverrides(doc, mine) : doc;
    const seed = isSeedFormat(input);
    const m = seed ? mapSeedFormat(input, where, { kind, prefix, overrides: mine }) : { config: input, ignored: [], origins: [] };
    const config = m.config;
    ignored.push(...m.ignored.map((k) => `${where}: ${k}`));
    origins.push(...m.origins);
    anySeed ||= seed;
    // Paths inside a config file are relative to that file.
    if (typeof config.arch_desc === 'string' && /\.(ya?ml|json)$/.test(config.arch_desc) && !isAbsolute(config.arch_desc) && existsSync(where)) {
      config.arch_desc = resolve(dirname(where), config.arch_desc);
    }
    raw = deepMerge(raw, config);
    sources.push(where);
  });
  return { raw, sources, ignored, origins, anySeed, native: overrides.filter((o) => !seedKeys.includes(o)) };
}

/**
 * Load config files in order, each in the native or the seed format, merge them (later files
 * win), then apply `key=value` overrides. `base` (the defaults) goes under everything.
 */
export function loadConfig(files: readonly string[], overrides: readonly string[] = [], base: JsonObject = {}): LoadedConfig {
  const merged = mergeDocs(files.map((f) => ({ doc: readYamlFile(f), where: f })), overrides, base);
  return finishConfig(merged, merged.native);
}

/** Apply native overrides, then (for seed-format configs) the seed's defaults. */
export function finishConfig(loaded: LoadedDocs, overrides: readonly string[]): LoadedConfig {
  const raw = applyOverrides(loaded.raw, overrides);
  const defaulted: string[] = [];
  // The seed's snippets are partial: fill what they leave out once all files are merged.
  if (loaded.anySeed) fillSeedDefaults(raw, defaulted);
  return { raw, sources: loaded.sources, ignored: loaded.ignored, defaulted, origins: loaded.origins };
}
