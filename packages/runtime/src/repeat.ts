import { join, resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { container as rootContainer } from 'tsyringe';
import type { BackendChoice } from './backend.js';
import { selectBackend } from './backend.js';
import type { ExperimentPlan } from '@modnas/config';
import { ModnasError, getRegistry } from '@modnas/core';
import { isDivergedError, yieldToEventLoop } from '@modnas/kit-estim';
import { writeJsonAtomic } from '@modnas/kit-io';
import type { Logger, Registry } from '@modnas/core';
import type { ExperimentStore } from '@modnas/services';
import { ServiceTokens } from '@modnas/services';
import { SinkLogger } from './log.js';
import { openExperimentStore } from './run-store.js';
import type { RunSummary } from './runner.js';
import { runExperiment } from './runner.js';

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
   * "light": each run in memory (the runner with persist: false: no logs, no exports), the
   * backend chosen once. "full": each run writes its folder <output_dir>/<name>/runs/run-<i>.
   * "auto" (default): light when the experiment has no model (tabular benchmarks). Both give the
   * same numbers for the same seed.
   */
  mode?: 'auto' | 'light' | 'full';
  /**
   * Keep the runs in the experiment's store (the store plugin the config names, in
   * <output_dir>/<name>, as `modnas run` does): one run per seed with its records, for `modnas
   * report` and the dashboard's comparison; the light path still writes no other file. Default
   * false: nothing but the result file is kept (benchmarks of thousands of runs).
   */
  store?: boolean;
  /** Called after each run (progress). */
  onRun?: (run: RepeatRun, index: number, total: number) => void;
  cwd?: string;
  registry?: Registry;
  signal?: AbortSignal;
  /** Logger of the runs (the light path logs nothing). */
  logger?: Logger;
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
  /** 'diverged': its loss became NaN or infinite; value is NaN and it is left out of the statistics. */
  status?: 'diverged';
  /** Its id in the experiment store (r1, r2, ...), when the runs are stored. */
  storeRun?: string;
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
  /** The experiment store the runs were kept in (its location), when stored. */
  store?: string;
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
  const seed0 = opts.seed0 ?? cfg.seed;
  const registry = opts.registry ?? getRegistry();
  const runs: RepeatRun[] = [];
  let lastDiverged: ModnasError | undefined;
  let metric = opts.metric;
  let aborted = false;
  let backend: BackendChoice | undefined;
  // stored: every run gets the experiment's store, opened once, through the runner's container
  let store: ExperimentStore | undefined;
  let container: DependencyContainer | undefined;
  if (opts.store) {
    const outputDir = resolve(opts.cwd ?? process.cwd(), cfg.output_dir, cfg.name);
    store = await openExperimentStore({ plan, registry, outputDir, logger: opts.logger ?? new SinkLogger(cfg.log_level) });
    container = rootContainer.createChildContainer();
    container.registerInstance(ServiceTokens.ExperimentStore, store);
  }

  try {
    for (let i = 0; i < opts.runs; i++) {
      // Let Ctrl-C (a signal handler) run: a tabular run only awaits microtasks and never yields.
      await yieldToEventLoop();
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      const seed = seed0 + i;
      const tr = Date.now();
      const runPlan: ExperimentPlan = { components: plan.components, config: { ...cfg, seed } };
      let result: { metrics: Record<string, number>; best?: RepeatRun['best'] };
      let diverged: ModnasError | undefined;
      const known = new Set(store?.runs().map((r) => r.id));
      try {
        let rs: RunSummary;
        if (mode === 'light') {
          // The runner itself, in memory: same seeds and order, no files, the backend chosen once.
          backend ??= await selectBackend({ prefer: cfg.backend, registry, cwd: opts.cwd });
          rs = await runExperiment(runPlan, { cwd: opts.cwd, registry, signal: opts.signal, persist: false, backend, container });
        } else {
          runPlan.config = { ...runPlan.config, output_dir: join(cfg.output_dir, cfg.name, 'runs'), name: `run-${i}` };
          rs = await runExperiment(runPlan, { cwd: opts.cwd, registry, signal: opts.signal, logger: opts.logger, container });
        }
        const es = rs.estims[estim];
        result = { metrics: es?.metrics ?? {}, best: es?.best };
        if (rs.aborted) aborted = true;
      } catch (e) {
        // A diverged run is a result of the repetition (no value), not the end of it.
        if (!isDivergedError(e)) throw e;
        diverged = e;
        lastDiverged = e;
        result = { metrics: {} };
      }
      // the run this seed added to the store; a full run is named after its folder (run-<i>), but in the store it is a run of the experiment
      const stored = store?.runs().find((r) => !known.has(r.id));
      if (stored && stored.experiment !== cfg.name) store?.updateRun(stored.id, { experiment: cfg.name });
      metric ??= 'test_acc' in result.metrics ? 'test_acc' : 'score';
      const value = metric === 'score' && !(metric in result.metrics) ? (result.best?.score ?? NaN) : (result.metrics[metric] ?? NaN);
      const run: RepeatRun = { run: i, seed, value: diverged ? NaN : value, metrics: result.metrics, best: result.best, seconds: (Date.now() - tr) / 1000, ...(diverged ? { status: 'diverged' as const } : {}), ...(stored ? { storeRun: stored.id } : {}) };
      runs.push(run);
      opts.onRun?.(run, i, opts.runs);
      if (aborted) break;
    }
  } finally {
    store?.close();
  }

  if (lastDiverged && runs.length > 0 && runs.every((r) => r.status === 'diverged')) {
    throw new ModnasError(lastDiverged.code, `every one of the ${runs.length} runs diverged; the last one: ${lastDiverged.message.split('\n')[0]}`, {
      fix: lastDiverged.fix,
      where: lastDiverged.where,
      cause: lastDiverged,
    });
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
    ...(store ? { store: store.location } : {}),
  };
  if (opts.out !== false) {
    const file = resolve(opts.cwd ?? process.cwd(), opts.out ?? join(cfg.output_dir, cfg.name, 'outputs', 'repeat.json'));
    summary.file = file;
    writeJsonAtomic(file, summary);
  }
  return summary;
}
