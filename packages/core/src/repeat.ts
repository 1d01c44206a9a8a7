import 'reflect-metadata';
import { join, resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { container as rootContainer } from 'tsyringe';
import type { ExperimentPlan } from './config/validate.js';
import { specConfig } from './config/validate.js';
import { ModnasError } from './errors.js';
import { EventBus } from './events.js';
import type { BuildContext, ComponentKind, ComponentSpec, DataSplit, EstimContext, EstimResult, KindInput, KindOutput, MetricsFn, SearchOptimizer, StateOptimizer } from './interfaces.js';
import { Tokens } from './interfaces.js';
import { MemoryStore, writeJsonAtomic } from './io.js';
import type { Logger } from './log.js';
import { silentLogger, silentProgress } from './log.js';
import { Module } from './module.js';
import { ArchSpace } from './params.js';
import type { Registry } from './registry.js';
import { getRegistry } from './registry.js';
import { Rng, setTensorSeed } from './rng.js';
import type { RunOptions } from './runner.js';
import { runExperiment } from './runner.js';
import type { tf } from './tf.js';

export interface RepeatOptions {
  /** Number of independent runs. */
  runs: number;
  /** Seed of the first run; run i uses seed0 + i (default: the experiment's seed). */
  seed0?: number;
  /** The metric of the estimator's result to aggregate (default "test_acc" if reported, else the best score). */
  metric?: string;
  /** The estimator whose result counts (default: the last one of the config). */
  estim?: string;
  /** The JSON result file (default <output_dir>/<name>/outputs/repeat.json, relative to cwd); false writes none. */
  out?: string | false;
  /**
   * "light": build only the space, the optimizer and the estimators, in memory, without logs or
   * exports (for experiments without a network: tabular benchmarks). "full": the whole runner
   * per run, each in <output_dir>/<name>/runs/run-<i>. "auto" (default): light when the
   * experiment has no model. Both give the same numbers for the same seed.
   */
  mode?: 'auto' | 'light' | 'full';
  /** Called after each run (progress). */
  onRun?: (run: RepeatRun, index: number, total: number) => void;
  cwd?: string;
  registry?: Registry;
  signal?: AbortSignal;
  /** Logger of the full runner (the light path logs nothing). */
  logger?: Logger;
  engines?: RunOptions['engines'];
}

export interface RepeatRun {
  /** 0-based run number. */
  run: number;
  seed: number;
  /** The aggregated metric of this run. */
  value: number;
  /** All metrics of the estimator's result. */
  metrics: Record<string, number>;
  best?: { arch: Record<string, unknown>; score: number; metrics: Record<string, number> };
  /** Wall-clock seconds of the run. */
  seconds: number;
}

export interface RepeatSummary {
  name: string;
  metric: string;
  estim: string;
  mode: 'light' | 'full';
  runs: RepeatRun[];
  mean: number;
  /** Population standard deviation (ddof 0, as numpy's np.std in the NAS-Bench-201 scripts). */
  std: number;
  min: number;
  max: number;
  median: number;
  /** Mean of every numeric metric over the runs (NaN-free runs only per metric). */
  metricMeans: Record<string, number>;
  seed0: number;
  seconds: number;
  aborted: boolean;
  /** The JSON result file, when written. */
  file?: string;
}

/** Mean, population std, min, max and median of a list of numbers. */
export function summaryStats(values: readonly number[]): { mean: number; std: number; min: number; max: number; median: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN, median: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const sorted = [...values].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { mean, std, min: sorted[0], max: sorted[n - 1], median };
}

/**
 * Run one experiment N times with seeds seed0, seed0+1, ... and aggregate a metric of one
 * estimator's result: per-run results, mean ± std, min, max, median; written as a JSON file.
 * Benchmarks of search algorithms on tabular spaces (NAS-Bench-201's 500 runs) use the light path.
 */
export async function runRepeated(plan: ExperimentPlan, opts: RepeatOptions): Promise<RepeatSummary> {
  const t0 = Date.now();
  const cfg = plan.config;
  if (!Number.isInteger(opts.runs) || opts.runs < 1) {
    throw new ModnasError('MODNAS_E_REPEAT_RUNS', `runs must be a positive integer, got ${String(opts.runs)}`, { fix: 'pass e.g. --runs 500' });
  }
  const estimNames = Object.keys(cfg.estim);
  const estim = opts.estim ?? estimNames[estimNames.length - 1];
  if (!estim || !(estim in cfg.estim)) {
    throw new ModnasError('MODNAS_E_REPEAT_ESTIM', `the experiment has no estimator "${String(estim)}"`, { fix: `use one of: ${estimNames.join(', ') || '(none)'}` });
  }
  const mode: 'light' | 'full' = opts.mode === 'light' || opts.mode === 'full' ? opts.mode : cfg.model ? 'full' : 'light';
  if (mode === 'light' && cfg.model) {
    throw new ModnasError('MODNAS_E_REPEAT_MODE', 'the light repeat path runs experiments without a network only', { fix: 'use mode "full" (or "auto") for an experiment with a model' });
  }
  const seed0 = opts.seed0 ?? cfg.seed;
  const registry = opts.registry ?? getRegistry();
  const runs: RepeatRun[] = [];
  let metric = opts.metric;
  let aborted = false;

  for (let i = 0; i < opts.runs; i++) {
    if (opts.signal?.aborted) {
      aborted = true;
      break;
    }
    const seed = seed0 + i;
    const tr = Date.now();
    const runPlan: ExperimentPlan = { components: plan.components, config: { ...cfg, seed } };
    let result: { metrics: Record<string, number>; best?: RepeatRun['best'] };
    if (mode === 'light') {
      const results = await runLight(runPlan, registry, opts.signal);
      const r = results[estim];
      result = { metrics: r?.metrics ?? {}, best: r?.best && { arch: r.best.arch, score: r.best.score, metrics: r.best.metrics } };
    } else {
      runPlan.config = { ...runPlan.config, output_dir: join(cfg.output_dir, cfg.name, 'runs'), name: `run-${i}` };
      const rs = await runExperiment(runPlan, { cwd: opts.cwd, registry, signal: opts.signal, logger: opts.logger, engines: opts.engines });
      const es = rs.estims[estim];
      result = { metrics: es?.metrics ?? {}, best: es?.best };
      if (rs.aborted) aborted = true;
    }
    metric ??= 'test_acc' in result.metrics ? 'test_acc' : 'score';
    const value = metric === 'score' && !(metric in result.metrics) ? (result.best?.score ?? NaN) : (result.metrics[metric] ?? NaN);
    const run: RepeatRun = { run: i, seed, value, metrics: result.metrics, best: result.best, seconds: (Date.now() - tr) / 1000 };
    runs.push(run);
    opts.onRun?.(run, i, opts.runs);
    if (aborted) break;
  }

  const stats = summaryStats(runs.map((r) => r.value).filter((v) => Number.isFinite(v)));
  const metricMeans: Record<string, number> = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  for (const k of keys) metricMeans[k] = summaryStats(runs.map((r) => r.metrics[k]).filter((v) => Number.isFinite(v))).mean;
  const summary: RepeatSummary = {
    name: cfg.name,
    metric: metric ?? opts.metric ?? 'test_acc',
    estim,
    mode,
    runs,
    ...stats,
    metricMeans,
    seed0,
    seconds: (Date.now() - t0) / 1000,
    aborted,
  };
  if (opts.out !== false) {
    const file = resolve(opts.cwd ?? process.cwd(), opts.out ?? join(cfg.output_dir, cfg.name, 'outputs', 'repeat.json'));
    summary.file = file;
    writeJsonAtomic(file, summary);
  }
  return summary;
}

/** Stands in for the network of a space without one. */
class NoNetwork extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

const EMPTY_SPLIT: DataSplit = { size: 0, batches: () => [], subset: () => EMPTY_SPLIT };

/**
 * The runner's sequence for an experiment without a network, in memory: the same seeds and
 * the same order of creation (space, optimizer, metrics, estimators with rng.fork(i + 1)), so
 * the numbers equal those of runExperiment for the same seed; no files, no logs, no exporters.
 */
async function runLight(plan: ExperimentPlan, registry: Registry, signal?: AbortSignal): Promise<Record<string, EstimResult>> {
  const cfg = plan.config;
  setTensorSeed(cfg.seed);
  const rng = new Rng(cfg.seed);
  const space = new ArchSpace();
  const store = new MemoryStore();
  const events = new EventBus();
  const container: DependencyContainer = rootContainer.createChildContainer();
  container.registerInstance(Tokens.ArchSpace, space);
  container.registerInstance(Tokens.EventBus, events);
  container.registerInstance(Tokens.Logger, silentLogger);
  container.registerInstance(Tokens.Progress, silentProgress);
  container.registerInstance(Tokens.Rng, rng);
  container.registerInstance(Tokens.Store, store);
  container.registerInstance(Tokens.Config, cfg);

  const ctxFor = (where: string): BuildContext => ({
    container,
    space,
    rng,
    logger: silentLogger,
    where,
    build: async <K extends ComponentKind>(kind: K, spec: ComponentSpec | string, input?: KindInput[K], at?: string) => {
      const path = at ?? where;
      const rc = plan.components.get(path);
      if (rc && rc.kind === kind) return (await rc.def.create(rc.config, ctxFor(path), input)) as KindOutput[K];
      const def = await registry.resolve(kind, specConfig(spec).type, path);
      return (await def.create(def.schema.parse(specConfig(spec).config), ctxFor(path), input)) as KindOutput[K];
    },
  });
  const create = async <K extends ComponentKind>(path: string): Promise<KindOutput[K]> => {
    const rc = plan.components.get(path);
    if (!rc) throw new ModnasError('MODNAS_E_INTERNAL', `no validated component at ${path}`);
    return (await rc.def.create(rc.config, ctxFor(path), undefined)) as KindOutput[K];
  };

  const model = new NoNetwork();
  const results: Record<string, EstimResult> = {};
  try {
    if (cfg.space) await create<'space'>('space');
    container.registerInstance(Tokens.Model, model);
    let optim: SearchOptimizer | undefined;
    if (cfg.optim) {
      optim = await create<'optim'>('optim');
      container.registerInstance(Tokens.SearchOptimizer, optim);
    }
    const metrics: MetricsFn[] = [];
    for (const k of Object.keys(cfg.metrics)) metrics.push(await create<'metrics'>(`metrics.${k}`));
    for (const name of Object.keys(cfg.estim)) {
      if (signal?.aborted) break;
      const estim = await create<'estim'>(`estim.${name}`);
      container.registerInstance(Tokens.StateEstimator, estim);
      const ctx: EstimContext = {
        name,
        model,
        space,
        trainer: noTrainer,
        optim,
        data: { train: EMPTY_SPLIT, valid: EMPTY_SPLIT },
        metrics,
        events,
        logger: silentLogger,
        progress: silentProgress,
        rng: rng.fork(Object.keys(results).length + 1),
        store,
        container,
        signal,
      };
      results[name] = await estim.run(ctx);
    }
    return results;
  } finally {
    model.dispose();
    space.dispose();
  }
}

const noTrainer = new Proxy({} as StateOptimizer, {
  get() {
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', 'this estimator trains weights, but the experiment has no model (and so no trainer)', {
      fix: 'use a model with a trainer, or an estimator meant for tabular spaces',
    });
  },
});
