import type { JsonObject } from './merge.js';

/** A document translated to the native format. */
export interface FormatMapping {
  config: JsonObject;
  /** Keys read and deliberately ignored (another tool's plumbing with no meaning here). */
  ignored: string[];
  /** [native path, the file's own path] of every key moved, so errors name the file's key (ownPath). */
  origins: Array<[string, string]>;
}

/** One step of a multi-step (pipeline) file: an experiment of its own. */
export interface PipelineStep {
  /** The step's key in the file (`nas`, `fully_train`). */
  name: string;
  /** A search step, or a final training of one fixed network. */
  kind: 'search' | 'train';
  /** The step's document, in the format's own layout. */
  doc: JsonObject;
  /** The step whose best architecture a train step trains. */
  from?: string;
}

/**
 * Another tool's config layout that @modnas reads (the seed's VEGA files: @modnas/config-vega).
 * Documents in it are translated to the native format before merging and validation.
 */
export interface ConfigFormat {
  name: string;
  detect(doc: JsonObject): boolean;
  toNative(doc: JsonObject, where: string, opts?: { kind?: 'search' | 'train'; prefix?: string; overrides?: readonly string[] }): FormatMapping;
  /** Does a `key=value` override name one of this format's own keys (applied before translation)? */
  isOverride(override: string, doc: JsonObject): boolean;
  /** Fill what a partial document of this format leaves out, once all files are merged; say what. */
  fillDefaults?(config: JsonObject, defaulted: string[]): void;
  /** A file of several experiments run in order (VEGA's `pipeline: [nas, fully_train]`). */
  isPipeline?(doc: JsonObject): boolean;
  pipelineSteps?(doc: JsonObject, where: string, overrides: readonly string[]): PipelineStep[];
}

const formats: ConfigFormat[] = [];

/** Read documents of this format from now on (idempotent by name). */
export function registerConfigFormat(format: ConfigFormat): void {
  const i = formats.findIndex((f) => f.name === format.name);
  if (i >= 0) formats[i] = format;
  else formats.push(format);
}

/** The registered format a document is in, or undefined for the native format. */
export function formatOf(doc: JsonObject): ConfigFormat | undefined {
  return formats.find((f) => f.detect(doc));
}

/**
 * A native dotted path (as validation reports it) renamed to the file's own key:
 * `estim.search.epochs` -> `trainer.modnas.estim.search.epochs`. Paths with no origin stay.
 */
export function ownPath(path: string, origins: ReadonlyArray<readonly [string, string]>): string {
  let best: readonly [string, string] | undefined;
  for (const o of origins) {
    if ((path === o[0] || path.startsWith(o[0] + '.')) && (!best || o[0].length > best[0].length)) best = o;
  }
  return best ? best[1] + path.slice(best[0].length) : path;
}
