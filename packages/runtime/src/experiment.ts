import { dirname, resolve } from 'node:path';
import { FIRST_PARTY } from './first-party.js';
import { useDefaultFormats } from './formats.js';
import type { ConfigDoc, JsonObject, TrainingOptions, ExperimentPlan } from '@modnas/config';
import { applyOverrides, finishConfig, isObject, mergeDocs, ownPath, readYamlFile, toTrainingConfig, validateExperiment } from '@modnas/config';
import type { Registry } from '@modnas/core';
import { ModnasError, getRegistry, isModnasError } from '@modnas/core';
import type { DiscoveryReport } from '@modnas/discovery';
import { discoverPlugins } from '@modnas/discovery';
import type { RunOptions, RunSummary } from './runner.js';
import { runExperiment } from './runner.js';
import { registerRuntimeComponents } from './executors/bind.js';

export interface PrepareOptions {
  registry?: Registry;
  cwd?: string;
  /** Skip plugin discovery (the caller registered plugins itself). */
  discover?: boolean;
  /**
   * Train one architecture instead of searching (`modnas train --arch`): see toTrainingConfig.
   * Overrides apply after this, so `-o estim.train.epochs=N` sets the training's epochs.
   */
  train?: TrainingOptions;
}

export interface PreparedExperiment {
  plan: ExperimentPlan;
  discovery?: DiscoveryReport;
  ignored: string[];
  defaulted: string[];
  /** What was changed to train a searched config (prepare's `train` option), for the log. */
  notes: string[];
  /** The folder of the first config file (RunOptions.configDir); absent for a config given as an object. */
  configDir?: string;
}

/** Discover plugins, load and merge the config files, apply overrides and defaults, validate. */
export async function prepareExperiment(source: readonly string[] | JsonObject, overrides: readonly string[] = [], opts: PrepareOptions = {}): Promise<PreparedExperiment> {
  const docs: ConfigDoc[] = Array.isArray(source) ? source.map((f: string) => ({ doc: readYamlFile(f), where: f })) : [];
  const prepared = await prepareDocs(docs, overrides, opts, Array.isArray(source) ? {} : (source as JsonObject));
  if (Array.isArray(source) && source.length > 0) prepared.configDir = dirname(resolve(opts.cwd ?? process.cwd(), source[0] as string));
  return prepared;
}

/** prepareExperiment from parsed documents (a pipeline's steps). */
export async function prepareDocs(docs: readonly ConfigDoc[], overrides: readonly string[], opts: PrepareOptions = {}, base: JsonObject = {}): Promise<PreparedExperiment> {
  const registry = opts.registry ?? getRegistry();
  registry.setInstallHints(FIRST_PARTY);
  registerRuntimeComponents(registry);
  useDefaultFormats();
  const discovery = opts.discover === false ? undefined : discoverPlugins({ cwd: opts.cwd, registry });
  const merged = mergeDocs(docs, overrides, base);
  const notes: string[] = [];
  if (opts.train) {
    const t = await toTrainingConfig(merged.raw, { ...opts.train, epochs: opts.train.epochs ?? trainEpochsOverride(merged.native) }, registry);
    merged.raw = t.config;
    notes.push(...t.notes);
  }
  const loaded = finishConfig(merged, merged.native);
  const origins = loaded.origins;
  let plan: ExperimentPlan;
  try {
    plan = await validateExperiment(loaded.raw, {
      registry,
      where: loaded.sources.join(', ') || undefined,
      renamePath: origins.length ? (p) => ownPath(p, origins) : undefined,
    });
  } catch (e) {
    throw nameOverrides(e, overrides);
  }
  return { plan, discovery, ignored: loaded.ignored, defaulted: loaded.defaulted, notes };
}

/**
 * The epochs `-o estim.train.epochs=N` sets: native overrides apply after the training config is
 * made (finishConfig), so without this its note would name the search's epochs, not the ones run.
 */
function trainEpochsOverride(overrides: readonly string[]): number | undefined {
  const set = applyOverrides({}, overrides.filter((o) => /^\s*estim\.train\.epochs\s*=/.test(o)));
  const train = isObject(set.estim) ? set.estim.train : undefined;
  return isObject(train) && typeof train.epochs === 'number' ? train.epochs : undefined;
}

/** A config problem at a key that a -o override set says so ("trainer.lr: ... (set by -o trainer.lr=abc)"). */
function nameOverrides(e: unknown, overrides: readonly string[]): unknown {
  if (!isModnasError(e) || e.code !== 'MODNAS_E_CONFIG_INVALID' || overrides.length === 0) return e;
  const keyOf = (o: string): string => o.slice(0, Math.max(o.indexOf('='), 0)).trim();
  let named = false;
  const message = e.message
    .split('\n')
    .map((line) => {
      const m = /^(\s*- )([^:\s]+):/.exec(line);
      if (!m) return line;
      const o = [...overrides].reverse().find((x) => keyOf(x) && (m[2] === keyOf(x) || m[2].startsWith(keyOf(x) + '.') || keyOf(x).startsWith(m[2] + '.')));
      if (!o) return line;
      named = true;
      return `${line} (set by -o ${o})`;
    })
    .join('\n');
  if (!named) return e;
  // The message already holds where and fix (composed by ModnasError): keep them as they are.
  const err = new ModnasError(e.code, message, { cause: e.cause });
  return Object.assign(err, { fix: e.fix, where: e.where });
}

/** prepareExperiment + runExperiment. */
export async function run(source: readonly string[] | JsonObject, overrides: readonly string[] = [], opts: PrepareOptions & RunOptions = {}): Promise<RunSummary> {
  const { plan, notes, configDir } = await prepareExperiment(source, overrides, opts);
  return runExperiment(plan, { configDir, ...opts, notes: [...(opts.notes ?? []), ...notes] });
}
