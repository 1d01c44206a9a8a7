import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ModnasError } from '../errors.js';
import type { JsonObject } from './merge.js';
import { applyOverrides, deepMerge, isObject } from './merge.js';
import { fillSeedDefaults, isSeedFormat, mapSeedFormat } from './seed.js';

export interface LoadedConfig {
  /** The merged config in the native format, before validation. */
  raw: JsonObject;
  /** The files it came from, in merge order. */
  sources: string[];
  /** Seed-format keys that were read and ignored. */
  ignored: string[];
  /** Seed-format sections that were left out and filled with the seed's defaults. */
  defaulted: string[];
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
export function toNative(doc: JsonObject, where: string): { config: JsonObject; ignored: string[]; seed: boolean } {
  return isSeedFormat(doc) ? { ...mapSeedFormat(doc, where), seed: true } : { config: doc, ignored: [], seed: false };
}

/**
 * Load config files in order, each in the native or the seed format, merge them (later files
 * win), then apply `key=value` overrides. `base` (the defaults) goes under everything.
 */
export function loadConfig(files: readonly string[], overrides: readonly string[] = [], base: JsonObject = {}): LoadedConfig {
  let raw: JsonObject = base;
  const ignored: string[] = [];
  const defaulted: string[] = [];
  const sources: string[] = [];
  let anySeed = false;
  for (const f of files) {
    const doc = readYamlFile(f);
    const { config, ignored: ign, seed } = toNative(doc, f);
    ignored.push(...ign.map((k) => `${f}: ${k}`));
    anySeed ||= seed;
    // Paths inside a config file are relative to that file.
    if (typeof config.arch_desc === 'string' && /\.(ya?ml|json)$/.test(config.arch_desc) && !isAbsolute(config.arch_desc)) {
      config.arch_desc = resolve(dirname(f), config.arch_desc);
    }
    raw = deepMerge(raw, config);
    sources.push(f);
  }
  raw = applyOverrides(raw, overrides);
  // The seed's snippets are partial: fill what they leave out once all files are merged.
  if (anySeed) fillSeedDefaults(raw, defaulted);
  return { raw, sources, ignored, defaulted };
}
