import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComponentKind, EngineDef, Logger, ProgressReporter, Registry, RegistryRow } from '@modnas/core';
import type { PreparedExperiment, RunSummary } from '@modnas/runtime';
import { COMPONENT_KINDS, CORE_VERSION, ModnasError, closeMatches, getRegistry, isEngineDef, isModnasError, looseName, tf } from '@modnas/core';
import { backendNames, configJsonSchema, isPipelineFile, prepareExperiment, runExperiment, runRepeated, runSeedPipeline } from '@modnas/runtime';
import { effectiveStatus, openExistingStore } from '@modnas/services';
import { discoverPlugins } from '@modnas/discovery';
import { groupDigits } from '@modnas/kit-estim';
import { parse } from './args.js';
import { TtyProgress } from './progress.js';
import type { Io } from './io.js';
import { defaultIo } from './io.js';
import { REPORT_HTML_HELP, htmlReportCommand, uiCommand } from './ui.js';
import { workerCommand } from './worker.js';
import { exportCommand, predictCommand } from './export.js';
import { componentOptions, formatInfo } from './explain.js';

const HELP = `modnas ${CORE_VERSION}: neural architecture search in TypeScript

Usage:
  modnas run <config.yaml> [more.yaml ...] [-o key=value ...]   run a search (or training) experiment
  modnas train <config.yaml> --arch <arch.yaml> [-o key=value]  train the network an arch_desc describes
  modnas plugins list [kind] [--json]                           installed plugins: ids, aliases, descriptions
  modnas plugins info <id> [--json]                             one component: package, description, every option
  modnas plugins doctor                                         broken plugins and why
  modnas schema [--out <file>]                                  the JSON Schema of the config, with the installed plugins' options
  modnas bench <config.yaml> [--runs N] [-o key=value]          run a search N times with seeds, mean ± std
  modnas run <config.yaml> --resume                             continue the newest unfinished run of the experiment
  modnas resume <experiment-dir>                                the same, from the experiment folder (its outputs/config.yaml)
  modnas export <experiment-dir> [--format tfjs|onnx|both]      the trained network as a TensorFlow.js and/or ONNX model
  modnas predict <model> <image|folder ...> [--top K] [--json]  classify images with an exported model
  modnas report <experiment-dir> [--json]                       summarise an experiment's outputs and runs
  modnas report <experiment-dir> --html <out.html>              the run view as one self-contained HTML file
  modnas ui [folder] [--port N] [--host 127.0.0.1] [--allow-host NAME]  a local dashboard over the experiments in folder (default exp; a token beyond loopback)
  modnas worker --redis <url> --secret-file <file> [--concurrency N]  evaluate candidates of searches with executor BullMQExecutor
  modnas <command> --help                                       help for one command

Config files merge in order (later wins); -o overrides a dotted key (values are YAML).
Both the native format and the seed's VEGA-style format (search_space / search_algorithm /
trainer.modnas) are accepted; a VEGA pipeline file (pipeline: [nas, fully_train]) runs its steps
in turn, and -o takes a seed-format file's own keys (trainer.modnas.estim.search.epochs=2). Env: MODNAS_BACKEND=auto|tensorflow|native|wasm|cpu.
Exit codes: 0 done, 1 failed while running, 2 bad input (usage, config, plugin, unwritable output folder,
a busy experiment, a changed config on --resume), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
Both signals stop at the next step and keep every checkpoint: continue with --resume.`;

/** `modnas run --help`: the tensor backends are those found here (the runtime's own and the engines discovery finds). */
const runHelp = (): string => `Usage: modnas run <config.yaml> [more.yaml ...] [options]

Options:
  -o, --override key=value   set a config key (repeatable), e.g. -o estim.search.epochs=2
  -b, --backend <name>       tensor backend: auto (default), ${backendNames(discoveredRegistry()).join(', ')}
  --output-dir <dir>         folder for experiment folders (config key output_dir)
  -n, --name <name>          experiment name (config key name)
  -c, --config <file>        a config file (repeatable; as the original ModularNAS's flag)
  -r, --routine <name>       the original format's routine: search or augment (its section is applied)
  -g, --arch_desc <file>     the original format's arch_desc: build the network from this arch file
  -d, --device_ids <ids>     accepted for the original's scripts; no effect (the backend picks the device)
  --check                    validate the config and exit (no tensors are allocated)
  --resume                   continue the newest unfinished run of this experiment from its last checkpoint
  --force                    with --resume: accept a config that differs from the run's (else refused, naming the keys)
  --wait                     if another process runs this experiment, wait for it instead of refusing
  --json                     print the result (the run summary) as JSON on stdout; logs stay on stderr
  -q, --quiet                no progress bars; warnings and errors only
  --debug                    print stack traces`;

const TRAIN_HELP = `Usage: modnas train <config.yaml> --arch <arch.yaml> [options]

Builds the fixed network from an architecture description (the seed's desc_construct /
arch_desc) and trains it. The config may be the search's own: when it names no desc_construct,
the arch-desc constructor that goes with its search space is used, and its search estimators
are replaced by one DefaultEstimator "train" (-o estim.train.epochs=N; the log says what
changed). Same options as "modnas run".`;

const PLUGINS_HELP = `Usage: modnas plugins list [kind] [--json] | modnas plugins info <id> [--json] | modnas plugins doctor

  list [kind]   every installed id (or those of one kind) with its aliases, package and description
  info <id>     one component (an id or an alias): kind, package, description, aliases, and every
                option with its type, default and description (nested options as dotted keys)
  doctor        imports every plugin and reports the broken ones

Plugins are found from the dependencies in the package.json of the current project (and the
packages of its pnpm workspace): every package with a "modnas" field. list reads their manifests
only; info imports the one package that provides the id.`;

const SCHEMA_HELP = `Usage: modnas schema [--out <file>]

Prints the JSON Schema of an experiment config with the options of every installed plugin (or
writes it to --out). Point your editor at it from a config's first line, for completion and checks:
  # yaml-language-server: $schema=./modnas.schema.json
The schema of the first-party plugins ships with the CLI: node_modules/@modnas/cli/schema/modnas.schema.json`;

const BENCH_HELP = `Usage: modnas bench <config.yaml> [more.yaml ...] [options]

Runs the experiment N times with seeds seed, seed+1, ... and prints mean ± std of a metric of
one estimator's result (default: the last estimator's test accuracy or score). Each run is kept
in the experiment's store (<output_dir>/<name>, one run per seed, as modnas run keeps it: modnas
ui compares them, mean ± std of the best score so far); the summary and the per-run results go
to <output_dir>/<name>/outputs/repeat.json.

Options:
  --runs <N>                 number of runs (default 10)
  --metric <name>            the metric to aggregate (default: the estimator's main result)
  --estim <name>             the estimator whose result is read (default: the last one)
  -o, --override key=value   set a config key (repeatable)
  --json                     print the summary as JSON
  -q, --quiet                no per-run lines`;

const REPORT_HELP = `Usage: modnas report <experiment-dir> [--json]

Prints the runs of the experiment (id, status, start, trials), the summary and the best
architectures. A run whose process died (kill -9, power loss) shows "killed". --json prints
{ runs, summary } (summary: outputs/summary.json, or null before an estimator finished).
${REPORT_HTML_HELP}`;

const RESUME_HELP = `Usage: modnas resume <experiment-dir> [--force] [--wait] [--json] [-o key=value ...]

Continues the newest unfinished run of the experiment in the folder from its last checkpoint,
with the config the folder's outputs/config.yaml holds (plugins are found from the current
project, as for "modnas run").`;

/** The process-wide registry with the plugins found from here recorded in it (manifests only: nothing is imported). */
function discoveredRegistry(): Registry {
  const registry = getRegistry();
  discoverPlugins({ registry });
  return registry;
}


/**
 * What the CLI brings (its dependencies: a tensor engine, the journal store) is found as a
 * project's dependencies are, wherever the CLI is installed (in the project, globally, by npx):
 * its own folder joins the plugin search path (MODNAS_PLUGIN_PATH, which worker threads and child
 * processes inherit), and discovery follows the dependencies of an @modnas package it finds there.
 */
function addOwnDependencies(): void {
  const dir = fileURLToPath(new URL('..', import.meta.url)).replace(/[\\/]$/, '');
  const path = process.env.MODNAS_PLUGIN_PATH;
  if (!path?.split(delimiter).includes(dir)) process.env.MODNAS_PLUGIN_PATH = path ? `${path}${delimiter}${dir}` : dir;
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  addOwnDependencies();
  const [cmd, ...rest] = argv;
  const debug = rest.includes('--debug');
  try {
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(HELP);
        return cmd === undefined ? 2 : 0;
      case '-v':
      case '--version':
        io.out(CORE_VERSION);
        return 0;
      case 'run':
        return await runCommand(rest, io, false);
      case 'resume':
        return await resumeCommand(rest, io);
      case 'train':
        return await runCommand(rest, io, true);
      case 'plugins':
        return await pluginsCommand(rest, io);
      case 'schema':
        return await schemaCommand(rest, io);
      case 'bench':
        return await benchCommand(rest, io);
      case 'export':
        return await exportCommand(rest, io, (quiet) => consoleLogger(io, undefined, quiet));
      case 'predict':
        return await predictCommand(rest, io);
      case 'report':
        return rest.some((a) => a === '--html' || a.startsWith('--html=')) ? await htmlReportCommand(rest, io) : await reportCommand(rest, io);
      case 'ui':
        return await uiCommand(rest, io);
      case 'worker':
        return await workerCommand(rest, io, (quiet) => consoleLogger(io, undefined, quiet));
      default:
        throw new ModnasError('MODNAS_E_CLI_USAGE', `unknown command "${cmd}"`, { fix: 'run "modnas --help" for the commands' });
    }
  } catch (e) {
    return reportError(e, io, debug);
  }
}

function reportError(e: unknown, io: Io, debug: boolean): number {
  if (isModnasError(e)) {
    io.err(`error [${e.code}]: ${e.message}`);
    if (debug && e.stack) io.err(e.stack);
    if (debug && e.cause) io.err(`cause: ${String((e.cause as Error)?.stack ?? e.cause)}`);
    return /^MODNAS_E_(CLI|CONFIG|REGISTRY|PLUGIN|BACKEND_UNKNOWN|BACKEND_SETUP|PARAM|IO_UNWRITABLE|STORE_BUSY|RESUME_CONFIG|UI|EXPORT_NO_MODEL|EXPORT_FORMAT|EXPORT_UNSUPPORTED|EXPORT_BATCH|EXPORT_WEIGHTS|PREDICT|DATA_IMAGE|ARCHDESC|EXECUTOR_REDIS_URL)/.test(e.code) ? 2 : 1;
  }
  const err = e as Error;
  io.err(`error: ${err?.message ?? String(e)}`);
  io.err(debug ? String(err?.stack) : '  (run again with --debug for the stack trace; an error without a code is a bug: please report it)');
  return 1;
}

function consoleLogger(io: Io, bar: TtyProgress | undefined, quiet: boolean): Logger {
  const print = (s: string): void => (bar ? bar.printAbove(s) : io.err(s));
  return {
    debug: () => undefined,
    info: (m) => {
      if (!quiet) print(m);
    },
    warn: (m) => print(`warning: ${m}`),
    error: (m) => print(`error: ${m}`),
  };
}

async function runCommand(argv: string[], io: Io, train: boolean): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      override: { type: 'string', short: 'o', multiple: true },
      backend: { type: 'string', short: 'b' },
      'output-dir': { type: 'string' },
      name: { type: 'string', short: 'n' },
      arch: { type: 'string' },
      // the original ModularNAS's flags (modnas/utils/wrapper.py)
      config: { type: 'string', short: 'c', multiple: true },
      routine: { type: 'string', short: 'r' },
      arch_desc: { type: 'string', short: 'g' },
      chkpt: { type: 'string', short: 'p' },
      device_ids: { type: 'string', short: 'd' },
      check: { type: 'boolean' },
      resume: { type: 'boolean' },
      force: { type: 'boolean' },
      wait: { type: 'boolean' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      debug: { type: 'boolean' },
    },
    train ? TRAIN_HELP : runHelp,
  );
  if (values.help) {
    io.out(train ? TRAIN_HELP : runHelp());
    return 0;
  }
  // -c/--config (the original's) names config files as positionals do, after them
  const configFiles = [...positionals, ...((values.config as string[] | undefined) ?? [])];
  if (configFiles.length === 0) {
    throw new ModnasError('MODNAS_E_CLI_USAGE', `no config file given`, { fix: train ? 'modnas train <config.yaml> --arch <arch.yaml>' : 'modnas run <config.yaml> (or -c <config.yaml>)' });
  }
  if (values.chkpt) {
    throw new ModnasError('MODNAS_E_CLI_CHKPT', `-p/--chkpt ${String(values.chkpt)}: the original's PyTorch checkpoints cannot be loaded here`, {
      fix: 'continue an interrupted run of this tool with --resume; train a found architecture with -g <arch.yaml> (or modnas train --arch)',
      where: '-p/--chkpt',
    });
  }
  const overrides = [...((values.override as string[] | undefined) ?? [])];
  if (values.backend) overrides.push(`backend=${values.backend}`);
  if (values['output-dir']) overrides.push(`output_dir=${values['output-dir']}`);
  if (values.name) overrides.push(`name=${values.name}`);
  // the original's -r (routine) and -g (arch_desc) set those keys of its config format
  if (values.routine) overrides.push(`routine=${values.routine}`);
  if (values.arch_desc) overrides.push(`arch_desc=${resolve(String(values.arch_desc))}`);
  let arch: string | undefined;
  if (train) {
    if (!values.arch) throw new ModnasError('MODNAS_E_CLI_USAGE', 'modnas train needs --arch <arch.yaml>', { fix: TRAIN_HELP });
    arch = resolve(String(values.arch));
    if (!existsSync(arch)) throw new ModnasError('MODNAS_E_CONFIG_FILE', `arch file ${arch} does not exist`, { fix: 'pass the outputs/arch_<estim>_best.yaml of a search', where: '--arch' });
  }
  const quiet = Boolean(values.quiet);
  const json = Boolean(values.json);
  const bar = io.isTTY && !quiet ? new TtyProgress() : undefined;
  const logger = consoleLogger(io, bar, quiet);
  if (values.device_ids) logger.info(`-d/--device_ids ${String(values.device_ids)}: no effect here (the tensor backend picks the device; --backend names one)`);
  const files = configFiles.map((p) => resolve(p));
  const report = (prepared: PreparedExperiment): void => {
    for (const p of prepared.discovery?.problems ?? []) logger.warn(`plugin ${p.package} is not usable: ${p.error.message.split('\n')[0]}`);
    for (const d of prepared.discovery?.duplicates ?? []) logger.warn(duplicateLine(d));
    for (const k of prepared.ignored) logger.info(`config format: ${k}`); // what a translated format (VEGA, the original's) left out or moved, and why
    for (const k of prepared.defaulted) logger.info(`seed format: default ${k}`);
    if (values.check) {
      for (const n of prepared.notes) logger.info(n);
      const ids = [...prepared.plan.components.values()].map((c) => c.def.id);
      if (json) io.out(JSON.stringify({ config: 'ok', components: ids.length, ids: [...new Set(ids)] }, null, 2));
      else io.out(`config OK: ${ids.length} components (${countedIds(ids)})`);
    }
  };
  // A VEGA pipeline file (pipeline: [nas, fully_train]) runs step by step.
  if (!train && files.length === 1 && isPipelineFile(files[0])) return runPipelineCommand(files[0], overrides, io, { logger, bar, quiet, json, check: Boolean(values.check), report });
  const prepared = await prepareExperiment(files, overrides, arch ? { train: { archDesc: arch } } : {});
  report(prepared);
  if (values.check) return 0;
  return execute(prepared, io, { logger, bar, quiet, json, resume: Boolean(values.resume), force: Boolean(values.force), wait: Boolean(values.wait) });
}

/** Ids in the order met, each once, with how many components use it: "MNIST, MB3E3 ×3, NIL ×2". */
function countedIds(ids: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].map(([id, n]) => (n > 1 ? `${id} ×${n}` : id)).join(', ');
}

/**
 * Run a prepared experiment with Ctrl-C and SIGTERM handled alike: the first stops the run at the
 * next step (the store keeps every checkpoint, the run is "interrupted"), a second one quits now.
 * Exit 130 after SIGINT, 143 after SIGTERM.
 */
async function execute(prepared: PreparedExperiment, io: Io, o: { logger: Logger; bar?: TtyProgress; quiet: boolean; json: boolean; resume: boolean; force: boolean; wait: boolean }): Promise<number> {
  const stop = stopOnSignals(o.logger);
  let summary: RunSummary;
  try {
    const progress: ProgressReporter | undefined = o.quiet ? { start: () => ({ tick() {}, done() {} }) } : o.bar;
    summary = await runExperiment(prepared.plan, { logger: o.logger, progress, signal: stop.signal, notes: prepared.notes, configDir: prepared.configDir, resume: o.resume, force: o.force, wait: o.wait });
  } catch (e) {
    if (stop.code() !== 0 && isModnasError(e) && e.code === 'MODNAS_E_RUN_INTERRUPTED') return stop.code();
    throw e;
  } finally {
    stop.dispose();
  }
  io.out(o.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  if (summary.aborted) io.err(`run ${summary.run ?? ''} interrupted: continue it with "modnas resume ${summary.outputDir}" (or "modnas run <config> --resume")`);
  return summary.aborted ? (stop.code() || 130) : 0;
}

/** SIGINT and SIGTERM abort the signal (first time) or exit now (second time). */
function stopOnSignals(logger: Logger): { signal: AbortSignal; code(): number; dispose(): void } {
  const controller = new AbortController();
  let code = 0;
  const handler = (sig: NodeJS.Signals): void => {
    const c = sig === 'SIGTERM' ? 143 : 130;
    if (code === 0) {
      code = c;
      logger.warn(`${sig === 'SIGTERM' ? 'terminated (SIGTERM)' : 'interrupted'}: finishing the current step and writing results (${sig === 'SIGTERM' ? 'SIGTERM' : 'Ctrl-C'} again to quit now)`);
      controller.abort();
    } else process.exit(c);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    code: () => code,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

async function resumeCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { override: { type: 'string', short: 'o', multiple: true }, force: { type: 'boolean' }, wait: { type: 'boolean' }, json: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' }, debug: { type: 'boolean' } },
    RESUME_HELP,
  );
  if (values.help) {
    io.out(RESUME_HELP);
    return 0;
  }
  const dir = positionals[0];
  if (!dir) throw new ModnasError('MODNAS_E_CLI_USAGE', 'no experiment folder given', { fix: 'modnas resume exp/<name>' });
  const folder = resolve(dir);
  const cfgFile = join(folder, 'outputs', 'config.yaml');
  if (!existsSync(cfgFile)) {
    throw new ModnasError('MODNAS_E_CONFIG_FILE', `${cfgFile} does not exist, so ${folder} is not an experiment folder (a run writes its config there when it starts)`, {
      fix: 'pass the folder of an experiment (<output_dir>/<name>), or run "modnas run <config.yaml> --resume"',
      where: dir,
    });
  }
  // The folder decides where the run lives, wherever the command is run from.
  const overrides = [`output_dir=${dirname(folder)}`, `name=${basename(folder)}`, ...((values.override as string[] | undefined) ?? [])];
  const quiet = Boolean(values.quiet);
  const bar = io.isTTY && !quiet ? new TtyProgress() : undefined;
  const logger = consoleLogger(io, bar, quiet);
  const prepared = await prepareExperiment([cfgFile], overrides);
  for (const p of prepared.discovery?.problems ?? []) logger.warn(`plugin ${p.package} is not usable: ${p.error.message.split('\n')[0]}`);
  return execute(prepared, io, { logger, bar, quiet, json: Boolean(values.json), resume: true, force: Boolean(values.force), wait: Boolean(values.wait) });
}

async function runPipelineCommand(
  file: string,
  overrides: string[],
  io: Io,
  o: { logger: Logger; bar?: TtyProgress; quiet: boolean; json: boolean; check: boolean; report: (p: PreparedExperiment) => void },
): Promise<number> {
  const stop = stopOnSignals(o.logger);
  const controller = { signal: stop.signal };
  try {
    const progress: ProgressReporter | undefined = o.quiet ? { start: () => ({ tick() {}, done() {} }) } : o.bar;
    const steps = await runSeedPipeline(file, overrides, {
      logger: o.logger,
      progress,
      signal: controller.signal,
      check: o.check,
      onStep: (step, prepared) => {
        if (!o.check) o.logger.info(`pipeline step ${step.name} (${step.kind === 'search' ? 'search' : 'train'}): ${prepared.plan.config.output_dir}/${prepared.plan.config.name}`);
        o.report(prepared);
      },
    });
    // with --check each step's report was the output
    if (o.json) {
      if (!o.check) io.out(JSON.stringify({ steps: steps.map((s) => ({ step: s.step, kind: s.kind, summary: s.summary })) }, null, 2));
    } else for (const s of steps) io.out(formatSummary(s.summary));
    return steps.some((s) => s.summary.aborted) || controller.signal.aborted ? stop.code() || 130 : 0;
  } finally {
    stop.dispose();
  }
}

export function formatSummary(s: RunSummary): string {
  const lines = [`\nexperiment ${s.name} ${s.aborted ? 'INTERRUPTED' : 'done'} in ${s.seconds.toFixed(1)}s on backend ${s.backend.backend}`, `  folder: ${s.outputDir}`];
  if (s.numParams) lines.push(`  network: ${s.numParams.toLocaleString('en-US')} weights`);
  if (s.spaceSize && s.spaceSize !== '1') lines.push(`  search space: ${groupDigits(BigInt(s.spaceSize))} architectures`);
  for (const [name, e] of Object.entries(s.estims)) {
    const m = Object.entries(e.metrics)
      .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
      .join(' ');
    lines.push(`  ${name} (${e.type}, ${e.seconds.toFixed(1)}s): ${m}`);
    if (e.best) lines.push(`    best score ${e.best.score.toFixed(4)}: ${JSON.stringify(e.best.arch)}`);
    for (const f of e.outputs) lines.push(`    -> ${f}`);
  }
  if (s.skipped) lines.push(`  skipped ${s.skipped.count} unreadable data file(s): ${s.skipped.files.slice(0, 3).join(', ')}${s.skipped.count > 3 ? ', ...' : ''}`);
  return lines.join('\n');
}

async function benchCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      runs: { type: 'string' },
      metric: { type: 'string' },
      estim: { type: 'string' },
      override: { type: 'string', short: 'o', multiple: true },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      debug: { type: 'boolean' },
    },
    BENCH_HELP,
  );
  if (values.help) {
    io.out(BENCH_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new ModnasError('MODNAS_E_CLI_USAGE', 'no config file given', { fix: 'modnas bench <config.yaml> --runs 500' });
  const runs = values.runs === undefined ? 10 : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new ModnasError('MODNAS_E_CLI_USAGE', `--runs must be a positive integer, got ${String(values.runs)}`, { fix: 'e.g. --runs 500' });
  const quiet = Boolean(values.quiet);
  const logger = consoleLogger(io, undefined, true);
  const prepared = await prepareExperiment(
    positionals.map((p) => resolve(p)),
    (values.override as string[] | undefined) ?? [],
  );
  const stop = stopOnSignals(logger);
  try {
    const s = await runRepeated(prepared.plan, {
      runs,
      metric: values.metric as string | undefined,
      estim: values.estim as string | undefined,
      signal: stop.signal,
      logger,
      store: true,
      onRun: quiet ? undefined : (r) => io.err(`run ${r.run + 1}/${runs} seed ${r.seed}: ${r.value.toFixed(4)} (${r.seconds.toFixed(2)}s)`),
    });
    if (values.json) io.out(JSON.stringify(s, null, 2));
    else {
      io.out(`${s.name}: ${s.metric} of ${s.estim} over ${s.runs.length} runs${s.aborted ? ` (interrupted after ${s.runs.length} of ${runs})` : ''}: ${s.mean.toFixed(2)} ± ${s.std.toFixed(2)} (min ${s.min.toFixed(2)}, median ${s.median.toFixed(2)}, max ${s.max.toFixed(2)}) in ${s.seconds.toFixed(1)}s`);
      if (s.file) io.out(`  -> ${s.file}`);
      const ids = s.runs.map((r) => r.storeRun).filter(Boolean);
      if (s.store && ids.length) io.out(`  runs ${ids[0]}${ids.length > 1 ? `..${ids[ids.length - 1]}` : ''} of the experiment's store (${s.store}): modnas ui compares them`);
    }
    return s.aborted ? stop.code() || 130 : 0;
  } finally {
    stop.dispose();
  }
}

async function pluginsCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, debug: { type: 'boolean' } }, PLUGINS_HELP);
  if (values.help) {
    io.out(PLUGINS_HELP);
    return 0;
  }
  const sub = positionals[0] ?? 'list';
  const registry = getRegistry();
  const report = discoverPlugins({ registry });
  if (sub === 'list') {
    const kind = positionals[1];
    if (kind !== undefined && !COMPONENT_KINDS.includes(kind)) {
      const close = closeMatches(kind, COMPONENT_KINDS, 1);
      throw new ModnasError('MODNAS_E_CLI_USAGE', `unknown kind "${kind}".${close.length ? ` Did you mean "${close[0]}"?` : ''} The kinds: ${COMPONENT_KINDS.join(', ')}`, {
        fix: `modnas plugins list ${close[0] ?? 'optim'}`,
        where: 'plugins list',
      });
    }
    // from the manifests alone: listing imports no plugin's code (tensor engines are rows of kind engine)
    const rows = registry.list().filter((r) => kind === undefined || r.kind === kind);
    if (values.json) {
      io.out(JSON.stringify({ plugins: rows }, null, 2));
      return 0;
    }
    const table = [['KIND', 'ID', 'ALIASES', 'PACKAGE', 'VERSION', 'STATUS', 'DESCRIPTION'], ...rows.map((r) => [r.kind, r.id, r.aliases.join(', '), r.package, r.version, r.status, r.description])];
    const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
    for (const r of table) io.out(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
    if (rows.length === 0) io.err(kind ? `no ${kind} plugins installed` : 'no plugins installed');
    const problems = registry.problems();
    if (problems.length) io.err(`\n${problems.length} plugin problem(s): run "modnas plugins doctor"`);
    return 0;
  }
  if (sub === 'info') {
    const id = positionals[1];
    if (!id) throw new ModnasError('MODNAS_E_CLI_USAGE', 'no id given', { fix: 'modnas plugins info <id>, e.g. modnas plugins info BinaryGateOptim (ids: modnas plugins list)' });
    const row = findRow(registry.list(), id);
    if (!row) {
      const close = registry.suggest(id);
      throw new ModnasError('MODNAS_E_REGISTRY_MISSING', `no installed plugin provides "${id}".${close.length ? ` Did you mean ${close.map((c) => `"${c}"`).join(' or ')}?` : ''}`, {
        fix: close.length ? `modnas plugins info ${close[0]}` : 'run "modnas plugins list" for the ids that are installed',
        where: 'plugins info',
      });
    }
    // the one package that provides the id is imported (its options live in its code)
    const def = await registry.resolve(row.kind as ComponentKind, row.id, 'plugins info');
    const info = { kind: row.kind, id: row.id, aliases: row.aliases, package: row.package, version: row.version, description: def.description, options: componentOptions(def.schema) };
    io.out(values.json ? JSON.stringify(info, null, 2) : formatInfo(info));
    return 0;
  }
  if (sub === 'doctor') {
    // every plugin imported in a child process first (a hang or an exit is reported, not obeyed),
    // then the ones that pass in this one (their manifests checked against their code)
    const bad = await report.checkImports(true);
    for (const [name, err] of bad) registry.markBroken(name, err);
    await registry.loadAll();
    const problems = registry.problems();
    const pkgs = registry.packageList();
    io.out(`${pkgs.length} plugin package(s) found from ${report.host ?? '(no package.json)'}`);
    const engines = await engineDoctor(registry);
    io.out(`tensor engines, in the order a run tries them (the runtime's tensorflow and cpu aside):${engines.lines.length ? '' : ' none installed (runs use tfjs\' cpu backend: npm i @modnas/engine-native)'}`);
    for (const l of engines.lines) io.out(`  ${l}`);
    if (problems.length === 0 && report.duplicates.length === 0 && engines.failed === 0) {
      io.out('no problems found');
      return 0;
    }
    for (const p of problems) io.out(`\n${p.package}:\n  ${p.error.message.split('\n').join('\n  ')}`);
    for (const d of report.duplicates) io.out(`\n${duplicateLine(d)}`);
    if (engines.failed) io.out(`\n${engines.failed} engine(s) not available on this machine: each says why and what fixes it above`);
    return 1;
  }
  throw new ModnasError('MODNAS_E_CLI_USAGE', `unknown plugins subcommand "${sub}"`, { fix: PLUGINS_HELP });
}

/** The row of an id or an alias: exactly as written, else as the registry's ids match (ignoring case, _ and -). */
function findRow(rows: readonly RegistryRow[], id: string): RegistryRow | undefined {
  return rows.find((r) => r.id === id || r.aliases.includes(id)) ?? rows.find((r) => [r.id, ...r.aliases].some((x) => looseName(x) === looseName(id)));
}

async function schemaCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { out: { type: 'string' }, debug: { type: 'boolean' } }, SCHEMA_HELP);
  if (values.help) {
    io.out(SCHEMA_HELP);
    return 0;
  }
  const registry = getRegistry();
  discoverPlugins({ registry });
  const text = JSON.stringify(await configJsonSchema(registry), null, 2);
  for (const p of registry.problems()) io.err(`warning: plugin ${p.package} is left out: ${p.error.message.split('\n')[0]}`);
  if (!values.out) {
    io.out(text);
    return 0;
  }
  const file = resolve(String(values.out));
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text + '\n');
  } catch (e) {
    throw new ModnasError('MODNAS_E_IO_UNWRITABLE', `cannot write ${file}: ${(e as Error).message}`, { fix: 'choose a writable path for --out', where: '--out', cause: e });
  }
  io.err(`wrote ${file}; reference it from a config's first line: # yaml-language-server: $schema=${file}`);
  return 0;
}

/** Two copies of a package: which folders, which one runs, and the fix. */
function duplicateLine(d: { package: string; dirs: string[] }): string {
  return `${d.package} is installed twice: ${d.dirs.join(' and ')}; the first is used (the CLI's own for @modnas/core). Fix: remove the other copy (npm dedupe, or unlink the plugin's own node_modules/${d.package}) so every package shares one`;
}

interface RunRow {
  id: string;
  status: string;
  start: string;
  end: string | null;
  trials: number;
  resumes: number;
  pid: number;
}

/** The runs of an experiment folder's store (whichever store plugin wrote it), and where the store is. */
async function runsOf(dir: string): Promise<{ location: string; runs: RunRow[] } | undefined> {
  const registry = getRegistry();
  discoverPlugins({ registry });
  const store = await openExistingStore(dir, registry);
  if (!store) return undefined;
  try {
    const runs = store.runs().map((r) => ({
      id: r.id,
      status: effectiveStatus(r),
      start: r.start,
      end: r.end ?? null,
      trials: store.records('candidates', r.id).length + store.records('trials', r.id).length,
      resumes: r.resumes,
      pid: r.pid,
    }));
    return { location: store.location, runs };
  } finally {
    store.close();
  }
}

async function reportCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, debug: { type: 'boolean' } }, REPORT_HELP);
  if (values.help) {
    io.out(REPORT_HELP);
    return 0;
  }
  const dir = positionals[0];
  if (!dir) throw new ModnasError('MODNAS_E_CLI_USAGE', 'no experiment folder given', { fix: 'modnas report exp/<name>' });
  const file = join(resolve(dir), 'outputs', 'summary.json');
  const found = await runsOf(resolve(dir));
  const runs = found?.runs ?? [];
  if (!existsSync(file) && runs.length === 0) {
    throw new ModnasError('MODNAS_E_CONFIG_FILE', `${file} does not exist`, { fix: 'pass the folder of an experiment (it has outputs/summary.json once an estimator finished)', where: dir });
  }
  const summary = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunSummary) : undefined;
  if (values.json) {
    io.out(JSON.stringify({ folder: resolve(dir), store: found?.location ?? null, runs, summary: summary ?? null }, null, 2));
    return 0;
  }
  if (found) {
    const rows = [['RUN', 'STATUS', 'START', 'END', 'TRIALS', 'RESUMES', 'PID'], ...runs.map((r) => [r.id, r.status, r.start, r.end ?? '-', String(r.trials), String(r.resumes), String(r.pid)])];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
    io.out(`runs of ${basename(dir)} (${found.location}):`);
    for (const r of rows) io.out('  ' + r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  }
  if (!summary) return 0;
  io.out(formatSummary(summary));
  for (const e of Object.values(summary.estims)) {
    for (const f of e.outputs) {
      if (existsSync(f)) io.out(`\n# ${f}\n${readFileSync(f, 'utf8').trimEnd()}`);
    }
  }
  return 0;
}

/**
 * Every engine the registry has, set up here as a run would (highest priority first): what its
 * kernels run on, or why it cannot run on this machine and what fixes that.
 */
async function engineDoctor(registry: Registry): Promise<{ lines: string[]; failed: number }> {
  const rows = registry.list().filter((r) => r.kind === 'engine' && r.status !== 'broken');
  const found: Array<{ row: RegistryRow; def?: EngineDef; error?: string }> = [];
  for (const row of rows) {
    try {
      const def = await registry.resolve('engine', row.id, 'plugins doctor');
      found.push(isEngineDef(def) ? { row, def } : { row, error: `${row.package} does not define "${row.id}" with defineEngine` });
    } catch (e) {
      found.push({ row, error: String((e as Error)?.message ?? e).split('\n')[0] });
    }
  }
  found.sort((a, b) => (b.def?.priority ?? 0) - (a.def?.priority ?? 0));
  const lines: string[] = [];
  let failed = 0;
  for (const { row, def, error } of found) {
    const head = `${row.id} (${row.package}${def ? `, priority ${def.priority}` : ''})`;
    let why = error;
    if (def && !why) {
      try {
        await def.setup(tf);
        if (!tf.findBackendFactory(def.name)) throw new Error(def.describe?.() ?? `registered no "${def.name}" backend`);
      } catch (e) {
        why = String((e as Error)?.message ?? e);
      }
    }
    // an engine for hardware this machine lacks (a GPU) is not a problem here
    const absent = why !== undefined && def?.needs !== undefined;
    if (why && !absent) failed++;
    lines.push(!why ? `${head}: ok, ${def?.describe?.() ?? 'set up'}` : absent ? `${head}: not used here (it needs ${def.needs}): ${why.split('\n').join(' ')}` : `${head}: NOT AVAILABLE: ${why.split('\n').join(' ')}`);
  }
  return { lines, failed };
}
