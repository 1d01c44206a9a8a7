import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { EstimResult, Exporter, MetricsFn, SearchOptimizer, StateOptimizer, Logger, ProgressReporter, Registry } from '@modnas/core';
import type { ExperimentPlan } from '@modnas/config';
import type { BackendChoice } from './backend.js';
import { selectBackend } from './backend.js';
import { isDivergedError, formatDuration } from '@modnas/kit-estim';
import type { Module } from '@modnas/core';
import type { ArchSpace } from '@modnas/core';
import { EventBus, Tokens, getRegistry, resolveToken, Rng } from '@modnas/core';
import type { DependencyContainer } from 'tsyringe';
import { container as rootContainer } from 'tsyringe';
import { DISK_SITES, appendFileWhole, guardedWrite, testKillPoint, writeJsonAtomic, writeYamlAtomic } from '@modnas/kit-io';
import type { Executor } from '@modnas/services';
import { ServiceTokens, decodeCheckpoint } from '@modnas/services';
import { Checkpointer } from './checkpoint.js';
import type { RunSession } from './run-store.js';
import { openRunSession } from './run-store.js';
import { LogProgress, SinkLogger } from './log.js';
import { adoptBest, buildNetwork, componentFactory } from './build.js';
import { estimContextOf, experimentScope, required } from './scope.js';
import { bindExecutor, experimentImage } from './executors/bind.js';
import { RunWriter, writerDir } from './writers.js';
import { trialRunner } from './trials.js';

export interface RunOptions {
  /** Base folder for relative output paths (default: process.cwd()). */
  cwd?: string;
  registry?: Registry;
  /** Console logger; a file logger under logs/ is always added. */
  logger?: Logger;
  progress?: ProgressReporter;
  /** Subscribe to the run's events (the CLI's progress bars do). */
  events?: EventBus;
  signal?: AbortSignal;
  /**
   * Write the experiment folder (logs, outputs, summary, writers). Default true. Without it the run keeps
   * results in memory only: for repeated runs (benchmarks) whose per-run files nobody reads.
   */
  persist?: boolean;
  /** A backend chosen before (repeated runs choose once); default: choose now. */
  backend?: BackendChoice;
  /** Lines logged first, into logs/run.log too (what preparing the config changed: PreparedExperiment.notes). */
  notes?: readonly string[];
  /** Continue the newest unfinished run of the experiment from its last checkpoint. */
  resume?: boolean;
  /** With resume: accept a config that differs from the run's. */
  force?: boolean;
  /** Wait for another live process on the experiment instead of refusing. */
  wait?: boolean;
  /**
   * The container the experiment's own is a child of (default: tsyringe's root). A service
   * registered in it is used instead of the runtime's: Tokens.Logger receives the run's log lines
   * (as `logger` does), Tokens.Progress and Tokens.EventBus stand for `progress` and `events`, and
   * ServiceTokens.ExperimentStore replaces the store the config names (runs, records and
   * checkpoints go there; the experiment folder still gets its logs and outputs).
   */
  container?: DependencyContainer;
  /**
   * The folder the experiment's config came from (default: `cwd`): a trial config that a
   * hyperparameter search names by path (Tokens.TrialRunner) must lie inside it.
   */
  configDir?: string;
}

export interface EstimSummary {
  type: string;
  metrics: Record<string, number>;
  best?: { arch: Record<string, unknown>; score: number; metrics: Record<string, number> };
  /** Files the exporters wrote. */
  outputs: string[];
  seconds: number;
  /** 'diverged': its loss became NaN or infinite and the run stopped there (exit 1). Absent: done. */
  status?: 'diverged';
  /** Why a callback ended it early (EarlyStopping); it is done, with what it had. */
  stopped?: string;
}

export interface RunSummary {
  name: string;
  outputDir: string;
  backend: BackendChoice;
  estims: Record<string, EstimSummary>;
  /** Trainable weights of the final network (0 for a space without a network). */
  numParams: number;
  /**
   * Architectures in the search space (ArchSpace.archSize: tensor arch params count as their
   * categorical choices), as a decimal string since it often exceeds 2^53; '1' without a space.
   */
  spaceSize: string;
  seconds: number;
  aborted: boolean;
  /** The run id in the experiment store (r1, r2, ...) and whether it continued an interrupted run. */
  run?: string;
  resumed?: boolean;
  /** Data files that could not be read and were left out (an image folder's corrupt files): how many, and the first ones. */
  skipped?: { count: number; files: string[] };
}

/**
 * The routine: build the model through the constructor chain (or from an arch_desc), the trainer,
 * the optimizer, exporters, metrics and callbacks; run the estimators in order; export the best
 * architecture of each to outputs/arch_<estim>_best.yaml. Everything runs on the caller's flow.
 */
export async function runExperiment(plan: ExperimentPlan, opts: RunOptions = {}): Promise<RunSummary> {
  const t0 = Date.now();
  const cfg = plan.config;
  const registry = opts.registry ?? getRegistry();
  const outputDir = resolve(opts.cwd ?? process.cwd(), cfg.output_dir, cfg.name);
  const persist = opts.persist !== false;
  const parent = opts.container ?? rootContainer;
  const logger = new SinkLogger(cfg.log_level);
  if (persist) {
    guardedWrite('the experiment folder', outputDir, () => {
      mkdirSync(join(outputDir, 'logs'), { recursive: true });
      mkdirSync(join(outputDir, 'outputs'), { recursive: true });
    });
    const logFile = join(outputDir, 'logs', 'run.log');
    logger.addSink((_, line) => guardedWrite('logs/run.log', logFile, () => appendFileWhole(logFile, line + '\n', { site: DISK_SITES.log })));
  }
  const console = opts.logger ?? resolveToken(parent, Tokens.Logger);
  if (console) logger.forwardTo(console);
  const progress = opts.progress ?? resolveToken(parent, Tokens.Progress) ?? new LogProgress(logger);
  const events = opts.events ?? resolveToken(parent, Tokens.EventBus) ?? new EventBus();
  // The fault suite's kill points inside training (MODNAS_TEST_KILL_AT=step:<estim>@<n>).
  if (process.env.MODNAS_TEST_KILL_AT) events.on('step:end', (e) => testKillPoint(`step:${e.estim}`));
  for (const n of opts.notes ?? []) logger.info(n);
  const session: RunSession = await openRunSession({ plan, registry, outputDir, persist, logger, store: resolveToken(parent, ServiceTokens.ExperimentStore), resume: opts.resume, force: opts.force, wait: opts.wait, signal: opts.signal });
  let status: 'done' | 'failed' | 'interrupted' = 'failed';
  let failed = false;
  try {
  const cfgFile = join(outputDir, 'outputs', 'config.yaml');
  if (persist) guardedWrite('outputs/config.yaml', cfgFile, () => writeYamlAtomic(cfgFile, cfg, { site: exportSite(cfgFile) }));
  session.exportStreams();
  session.startHeartbeat();

  const backend = opts.backend ?? (await selectBackend({ prefer: cfg.backend, registry, logger, cwd: opts.cwd }));
  const { container, space, rng } = experimentScope(plan, { logger, events, progress, store: session.store, recorder: session.recorder }, parent);
  const store = required(container, Tokens.Store);
  if (persist) container.registerInstance(Tokens.OutputDir, outputDir);
  // trial experiments (hyperparameter tuning) run in <outputDir>/trials/, on this engine
  container.registerInstance(Tokens.TrialRunner, trialRunner({ registry, backend, outputDir, configDir: resolve(opts.cwd ?? process.cwd(), opts.configDir ?? '.'), persist, logger, parent, signal: opts.signal }));

  const factory = componentFactory({ plan, registry, container });
  const { create } = factory;

  let model: Module | undefined;
  let trainer: StateOptimizer | undefined;
  let metrics: MetricsFn[] = [];
  let optim: SearchOptimizer | undefined;
  let executor: Executor | undefined;
  // a caller's bus outlives the run (repeats, pipeline steps): the writer leaves it when the run ends
  let detachWriter: (() => void) | undefined;
  const summary: RunSummary = { name: cfg.name, outputDir, backend, estims: {}, numParams: 0, spaceSize: '1', seconds: 0, aborted: false, run: session.run.id, resumed: session.resumed };
  try {
    // data, model and search space, trainer, metrics
    const built = await buildNetwork({ plan, registry, container }, factory);
    const skipped = built.dataset?.skipped;
    /** The data files skipped so far, into the summary (they are found as batches are read). */
    const noteSkipped = (): void => {
      if (skipped?.length) summary.skipped = { count: skipped.length, files: skipped.slice(0, 20) };
    };
    model = built.model;
    trainer = built.trainer;
    metrics = built.metrics;
    summary.numParams = built.numParams;
    summary.spaceSize = built.spaceSize;

    // optimizer, executor, callbacks, exporters
    if (cfg.optim) {
      optim = await create<'optim'>('optim');
      container.registerInstance(Tokens.SearchOptimizer, optim);
    }
    container.registerInstance(ServiceTokens.ExperimentImage, experimentImage(plan, registry, model, opts.cwd ?? process.cwd()));
    executor = await bindExecutor(plan, container, factory, logger);
    for (const k of Object.keys(cfg.callbacks)) (await create<'callback'>(`callbacks.${k}`)).attach(events, { logger, outputDir });
    const exporters: Array<[string, Exporter]> = [];
    for (const k of Object.keys(cfg.export)) exporters.push([k, await create<'exporter'>(`export.${k}`)]);

    // checkpoints: resume from the newest one, or start the run's first
    const ckpt = new Checkpointer(required(container, ServiceTokens.ExperimentStore), session.run.id, { ...cfg.checkpoint, enabled: persist }, { model, space, rng, trainer, optim, signal: opts.signal });
    container.registerInstance(Tokens.Checkpoints, ckpt);
    let startAt = 0;
    let resumeAt: { position: unknown; rng: number; sinceCandidates: number } | undefined;
    if (session.resumed) {
      const dropped = session.truncateAfter(session.checkpoint?.watermark ?? 0);
      if (session.checkpoint) {
        const p = decodeCheckpoint(session.checkpoint);
        ckpt.restore(p);
        summary.estims = p.summary as Record<string, EstimSummary>;
        startAt = p.estimIndex;
        if (p.kind !== 'estim') resumeAt = { position: p.position, rng: p.rng.estim, sinceCandidates: p.sinceCandidates };
        logger.info(`resuming run ${session.run.id} from checkpoint ${session.checkpoint.seq} (${p.kind === 'estim' ? `after estim ${p.estim}` : `${p.kind} boundary of estim ${p.estim}`}, ${session.checkpoint.time}); ${dropped} record(s) written after it are computed again`);
      } else {
        logger.info(`resuming run ${session.run.id}: it had no checkpoint yet, so it starts from the beginning (${dropped} record(s) dropped)`);
      }
      session.exportStreams();
    }
    ckpt.summary = summary.estims;
    // TensorBoard event files (writer.enabled), opened after a resume dropped what is computed again
    if (persist && cfg.writer.enabled) {
      const w = RunWriter.open(writerDir(outputDir, session.run.id), session.store, session.run.id);
      detachWriter = w.attach(events, session.run.id);
      logger.debug(`writer: ${w.path}`);
    }
    // For the dashboard and `modnas report`: the backend this process runs on (a resumed run adds one per resume).
    store.append('run_info', { backend: backend.backend, numParams: summary.numParams, spaceSize: summary.spaceSize, resumed: session.resumed, pid: process.pid, time: new Date().toISOString() });
    // The search space once per run (a resume keeps the first, unless it was dropped with the records
    // after the checkpoint): params with their choices and the graph it declares, for the dashboard's
    // pictures. Here, because every run passes this point with its space complete, tabular and
    // weight-sharing searches alike (tabular estimators report through no estimator base).
    if (space.all().length > 0 && store.read('space').length === 0) store.append('space', { ...space.describe(), time: new Date().toISOString() });
    const estimEntries = Object.entries(cfg.estim);

    await events.emit('run:begin', { name: cfg.name, outputDir });
    for (const [index, [name, spec]] of estimEntries.entries()) {
      if (index < startAt) continue;
      if (opts.signal?.aborted) break;
      const te = Date.now();
      const estim = await create<'estim'>(`estim.${name}`);
      // a callback may end this estimator early (EarlyStopping): its own signal, beside the run's Ctrl-C
      const stopper = new AbortController();
      const stop = (reason: string): void => {
        if (stopper.signal.aborted) return;
        logger.info(`estim ${name}: stopped early: ${reason}`);
        stopper.abort(reason);
      };
      await events.emit('estim:begin', { estim: name, type: spec.type, stop });
      logger.info(`estim ${name} (${spec.type}): begin`);
      const signal = opts.signal ? AbortSignal.any([opts.signal, stopper.signal]) : stopper.signal;
      const ctx = estimContextOf(container, name, { rng: resumeAt ? rngAt(resumeAt.rng) : rng.fork(Object.keys(summary.estims).length + 1), signal });
      ckpt.beginEstim(index, name, ctx, resumeAt?.position, resumeAt?.sinceCandidates);
      resumeAt = undefined;
      let result: EstimResult;
      try {
        result = await estim.run(ctx);
      } catch (e) {
        if (isDivergedError(e)) {
          // Divergence is a result: record it in the summary, then fail the run with the error.
          summary.estims[name] = { type: spec.type, metrics: {}, outputs: [], seconds: (Date.now() - te) / 1000, status: 'diverged' };
          logger.error(`estim ${name}: diverged; the run stops (see the error for the cause and the fix)`);
          if (persist) writeSummary(outputDir, { ...summary, seconds: (Date.now() - t0) / 1000 });
        }
        throw e;
      }
      await adoptBest(space, result);
      const outputs = exportBest(name, model, space, persist ? exporters : [], outputDir, logger);
      const es: EstimSummary = { type: spec.type, metrics: result.metrics, outputs, seconds: (Date.now() - te) / 1000 };
      if (result.best) es.best = { arch: result.best.arch, score: result.best.score, metrics: result.best.metrics };
      if (stopper.signal.aborted) es.stopped = String(stopper.signal.reason);
      summary.estims[name] = es;
      await events.emit('estim:end', { estim: name, type: spec.type, best: result.best });
      logger.info(`estim ${name}: done in ${formatDuration(es.seconds)} ${fmtMetrics(result.metrics)}`);
      // An estimator stopped by Ctrl-C is not done: a resume continues it from its last checkpoint.
      if (!opts.signal?.aborted) await ckpt.estimDone(index, name);
      session.exportStreams();
      noteSkipped();
      if (persist) writeSummary(outputDir, { ...summary, seconds: (Date.now() - t0) / 1000 });
      testKillPoint(`estim-end:${name}`);
    }
    noteSkipped();
    if (summary.skipped) logger.warn(`data: ${summary.skipped.count} file(s) could not be read and were left out (each is named above and in logs/run.log): ${summary.skipped.files.slice(0, 3).join(', ')}${summary.skipped.count > 3 ? ', ...' : ''}`);
    summary.aborted = opts.signal?.aborted ?? false;
    summary.seconds = (Date.now() - t0) / 1000;
    session.exportStreams();
    if (persist) writeSummary(outputDir, summary);
    await events.emit('run:end', { name: cfg.name, outputDir, results: summary.estims });
    status = summary.aborted ? 'interrupted' : 'done';
    return summary;
  } finally {
    detachWriter?.();
    await executor?.close();
    for (const m of metrics) await m.close?.();
    await optim?.close?.();
    trainer?.dispose();
    model?.dispose();
    space.dispose();
  }
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    if (status === 'failed' && opts.signal?.aborted) status = 'interrupted';
    if (!failed) session.end(status);
    else {
      try {
        session.end(status);
      } catch {
        // A full disk fails this too: the first error is the one to report. The run stays 'running'
        // in the store and reads as killed once this process is gone; --resume continues it.
      }
    }
  }
}

/** The fault suite's site name of an export (MODNAS_TEST_DISK_FULL_AT=export:<file>@n). */
const exportSite = (file: string): string => `${DISK_SITES.export}:${basename(file)}`;

function writeSummary(outputDir: string, summary: RunSummary): void {
  const file = join(outputDir, 'outputs', 'summary.json');
  guardedWrite('outputs/summary.json', file, () => writeJsonAtomic(file, summary, { site: exportSite(file) }));
}

function rngAt(state: number): Rng {
  const r = new Rng(0);
  r.setState(state);
  return r;
}

/** Run each exporter on the architecture adopted (adoptBest), write outputs/arch_<estim>_best.yaml. */
function exportBest(
  name: string,
  model: Module,
  space: ArchSpace,
  exporters: Array<[string, Exporter]>,
  outputDir: string,
  logger: Logger,
): string[] {
  const files: string[] = [];
  exporters.forEach(([key, ex], i) => {
    const desc = ex.export(model, space);
    const file = join(outputDir, 'outputs', i === 0 ? `arch_${name}_best.yaml` : `arch_${name}_best.${key}.yaml`);
    guardedWrite(`outputs/${basename(file)}`, file, () => writeYamlAtomic(file, desc, { site: exportSite(file) }));
    files.push(file);
    logger.info(`export ${key}: ${file}`);
  });
  return files;
}

function fmtMetrics(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(' ');
}
