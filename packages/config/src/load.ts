import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ModnasError } from '@modnas/core';
import type { JsonObject } from './merge.js';
import { applyOverrides, assertSafeKeys, deepMerge, isObject } from './merge.js';
import type { ConfigFormat } from './format.js';
import { formatOf } from './format.js';
import { withDefaults } from './defaults.js';
import { besideFile, readTextFile } from './files.js';

export interface LoadedConfig {
  /** The merged config in the native format, before validation. */
  raw: JsonObject;
  /** The files it came from, in merge order. */
  sources: string[];
  /** Keys of other formats that were read and ignored. */
  ignored: string[];
  /** Sections another format left out, filled with its defaults. */
  defaulted: string[];
  /** Translated files: [native path, the file's own path], for error messages (ownPath). */
  origins: Array<[string, string]>;
}

/** Read one YAML (or JSON) file into an object; missing files and syntax errors name the file and line. */
export function readYamlFile(path: string, what = 'config file'): JsonObject {
  const doc = readYamlValue(path, what);
  if (doc === null || doc === undefined) return {};
  if (!isObject(doc)) throw new ModnasError('MODNAS_E_CONFIG_SYNTAX', `${what} ${path} must hold a mapping of keys at the top level`, { where: path });
  return doc;
}

/** The largest config or arch file read. */
export const MAX_CONFIG_BYTES = 4 * 2 ** 20;

/** Read any YAML (or JSON) value from a file (an arch_desc may be a list). */
export function readYamlValue(path: string, what = 'file'): unknown {
  const text = readTextFile(path, what, MAX_CONFIG_BYTES);
  let doc: unknown;
  try {
    doc = parseYaml(text, { logLevel: 'error' });
  } catch (e) {
    const line = e instanceof YAMLParseError && e.linePos ? `:${e.linePos[0].line}:${e.linePos[0].col}` : '';
    throw new ModnasError('MODNAS_E_CONFIG_SYNTAX', `${what} ${path}${line} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, { fix: 'fix the YAML syntax at that line', where: `${path}${line}`, cause: e });
  }
  return doc;
}

/** A parsed config document and where it came from (a file, or a step of a pipeline file). */
export interface ConfigDoc {
  doc: JsonObject;
  where: string;
  /** Translate a document of another format as this kind of pipeline step. */
  kind?: 'search' | 'train';
  /** Its pipeline step name: the keys it reports are `<prefix>.<key>`. */
  prefix?: string;
}

export interface LoadedDocs {
  raw: JsonObject;
  sources: string[];
  ignored: string[];
  /** Translated files' [native path, own path] pairs (ownPath renames error paths with them). */
  origins: Array<[string, string]>;
  /** The formats other than the native one that the documents were in. */
  formats: ConfigFormat[];
}

/**
 * Translate and merge documents (later wins). Overrides on the own keys of the last document in
 * another format (ConfigFormat.isOverride) are applied to it before it is translated; the rest
 * are returned for the caller to apply to the merged native config.
 */
export function mergeDocs(docs: readonly ConfigDoc[], overrides: readonly string[] = [], base: JsonObject = {}): LoadedDocs & { native: string[] } {
  let raw: JsonObject = base;
  const ignored: string[] = [];
  const sources: string[] = [];
  const origins: Array<[string, string]> = [];
  const formats: ConfigFormat[] = [];
  const docFormats = docs.map((d) => formatOf(d.doc));
  const lastIdx = docFormats.map((f) => f !== undefined).lastIndexOf(true);
  const ownKeys = lastIdx < 0 ? [] : overrides.filter((o) => docFormats[lastIdx]!.isOverride(o, docs[lastIdx].doc));
  docs.forEach(({ doc, where, kind, prefix }, i) => {
    assertSafeKeys(doc, where);
    // A pipeline applies its own keys step by step (pipelineSteps); other documents directly.
    const mine = i === lastIdx ? ownKeys : [];
    const input = mine.length && !docFormats[i]?.isPipeline?.(doc) ? applyOverrides(doc, mine) : doc;
    const fmt = formatOf(input);
    const m = fmt ? fmt.toNative(input, where, { kind, prefix, overrides: mine }) : { config: input, ignored: [], origins: [] };
    const config = m.config;
    ignored.push(...m.ignored.map((k) => `${where}: ${k}`));
    origins.push(...m.origins);
    if (fmt && !formats.includes(fmt)) formats.push(fmt);
    // Paths inside a config file are relative to that file.
    if (typeof config.arch_desc === 'string' && /\.(ya?ml|json)$/.test(config.arch_desc)) config.arch_desc = besideFile(where, config.arch_desc);
    raw = deepMerge(raw, config);
    sources.push(where);
  });
  return { raw, sources, ignored, origins, formats, native: overrides.filter((o) => !ownKeys.includes(o)) };
}

/**
 * Load config files in order, each in the native or a registered format, merge them (later files
 * win), then apply `key=value` overrides. `base` (the defaults) goes under everything.
 */
export function loadConfig(files: readonly string[], overrides: readonly string[] = [], base: JsonObject = {}): LoadedConfig {
  const merged = mergeDocs(files.map((f) => ({ doc: readYamlFile(f), where: f })), overrides, base);
  return finishConfig(merged, merged.native);
}

/**
 * Apply native overrides, then the experiment-level defaults, in this one place: first those of
 * the other formats the documents were in (the seed's snippets are partial: what they leave out is
 * filled once all files are merged), then the sections every config gets (withDefaults). Keys
 * inside a component get their defaults from its schema while validating, `quick` its caps.
 */
export function finishConfig(loaded: LoadedDocs, overrides: readonly string[]): LoadedConfig {
  const raw = applyOverrides(loaded.raw, overrides);
  const defaulted: string[] = [];
  for (const f of loaded.formats) f.fillDefaults?.(raw, defaulted);
  return { raw: withDefaults(raw), sources: loaded.sources, ignored: loaded.ignored, defaulted, origins: loaded.origins };
}
