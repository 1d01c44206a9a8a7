import type { JsonObject } from './config/merge.js';
import { loadConfig } from './config/load.js';
import type { ExperimentPlan } from './config/validate.js';
import { validateExperiment } from './config/validate.js';
import { withDefaults } from './defaults.js';
import type { DiscoveryReport } from './discovery.js';
import { discoverPlugins } from './discovery.js';
import type { Registry } from './registry.js';
import { getRegistry } from './registry.js';
import type { RunOptions, RunSummary } from './runner.js';
import { runExperiment } from './runner.js';

export interface PrepareOptions {
  registry?: Registry;
  cwd?: string;
  /** Skip plugin discovery (the caller registered plugins itself). */
  discover?: boolean;
}

export interface PreparedExperiment {
  plan: ExperimentPlan;
  discovery?: DiscoveryReport;
  ignored: string[];
  defaulted: string[];
}

/** Discover plugins, load and merge the config files, apply overrides and defaults, validate. */
export async function prepareExperiment(source: readonly string[] | JsonObject, overrides: readonly string[] = [], opts: PrepareOptions = {}): Promise<PreparedExperiment> {
  const registry = opts.registry ?? getRegistry();
  const discovery = opts.discover === false ? undefined : discoverPlugins({ cwd: opts.cwd, registry });
  const loaded = Array.isArray(source) ? loadConfig(source, overrides) : loadConfig([], overrides, source as JsonObject);
  const plan = await validateExperiment(withDefaults(loaded.raw), { registry, where: loaded.sources.join(', ') || undefined });
  return { plan, discovery, ignored: loaded.ignored, defaulted: loaded.defaulted };
}

/** prepareExperiment + runExperiment. */
export async function run(source: readonly string[] | JsonObject, overrides: readonly string[] = [], opts: PrepareOptions & RunOptions = {}): Promise<RunSummary> {
  const { plan, discovery } = await prepareExperiment(source, overrides, opts);
  return runExperiment(plan, { ...opts, engines: opts.engines ?? discovery?.engines });
}
