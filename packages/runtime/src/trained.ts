/**
 * The trained network of a finished run, rebuilt from its experiment folder: the run's own config
 * (as the store keeps it), built as the runner built it (same seeds, same constructors), with the
 * weights and architecture of the run's final checkpoint loaded. Model export starts here.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JsonObject, ExperimentPlan } from '@modnas/config';
import type { ArchSpace, Logger, Module, Registry } from '@modnas/core';
import { EventBus, ModnasError, getRegistry, silentLogger, silentProgress } from '@modnas/core';
import { discoverPlugins } from '@modnas/discovery';
import type { EncodedWeights, RunRecord } from '@modnas/services';
import { MemoryExperimentStore, decodeCheckpoint, effectiveStatus, loadWeights, openExistingStore } from '@modnas/services';
import type { BackendChoice } from './backend.js';
import { selectBackend } from './backend.js';
import type { BuiltNetwork } from './build.js';
import { buildNetwork, componentFactory } from './build.js';
import { experimentScope } from './scope.js';
import { prepareExperiment } from './experiment.js';
import { registerRuntimeComponents } from './executors/bind.js';
import type { EstimSummary } from './runner.js';

export interface TrainedNetwork {
  plan: ExperimentPlan;
  built: BuiltNetwork;
  space: ArchSpace;
  backend: BackendChoice;
  /** The run whose final checkpoint was loaded. */
  run: RunRecord;
  /** Its estimators' summaries, as the run wrote them. */
  summary: Record<string, EstimSummary>;
  /** What the checkpoint holds: 'train' (a fixed network trained by `modnas train` or an arch_desc) or 'search' (a search space with its best architecture applied). */
  kind: 'train' | 'search';
  dispose(): void;
}

export interface LoadTrainedOptions {
  registry?: Registry;
  logger?: Logger;
  /** Which run (default: the newest finished one). */
  run?: string;
  /** Where plugin discovery starts (default: the working folder). */
  cwd?: string;
}

function noModel(dir: string, why: string, fix: string): ModnasError {
  return new ModnasError('MODNAS_E_EXPORT_NO_MODEL', `${dir} has no trained network to export: ${why}`, { fix, where: dir });
}

export async function loadTrainedNetwork(folder: string, opts: LoadTrainedOptions = {}): Promise<TrainedNetwork> {
  const dir = resolve(folder);
  const registry = opts.registry ?? getRegistry();
  const logger = opts.logger ?? silentLogger;
  if (!existsSync(dir)) throw noModel(dir, 'the folder does not exist', 'pass an experiment folder, <output_dir>/<name> (e.g. exp/quickstart-train)');
  // discovery first: the store plugins read the folder
  registerRuntimeComponents(registry);
  discoverPlugins({ registry, cwd: opts.cwd });
  const store = await openExistingStore(dir, registry);
  if (!store) throw noModel(dir, 'it holds no experiment store (modnas.db or journal.jsonl)', 'pass the folder of an experiment that has run, <output_dir>/<name> (e.g. exp/quickstart-train)');
  let run: RunRecord;
  let payload: ReturnType<typeof decodeCheckpoint>;
  try {
    const runs = store.runs();
    const statuses = runs.map((r) => `${r.id} ${effectiveStatus(r)}`).join(', ') || 'none';
    const candidates = opts.run ? runs.filter((r) => r.id === opts.run) : [...runs].reverse().filter((r) => effectiveStatus(r) === 'done');
    if (opts.run && candidates.length === 0) throw noModel(dir, `it has no run ${opts.run} (runs: ${statuses})`, 'pass one of its runs, or leave --run out for the newest finished one');
    const found = candidates.map((r) => ({ r, c: store.latestCheckpoint(r.id) })).find((x) => x.c && x.c.kind === 'estim');
    if (!found?.c) {
      throw noModel(dir, `no finished run has a final checkpoint (runs: ${statuses})`, `finish the run with "modnas resume ${folder}", or train the architecture a search found: modnas train <config.yaml> --arch ${folder}/outputs/arch_<estim>_best.yaml`);
    }
    run = found.r;
    payload = decodeCheckpoint(found.c);
  } finally {
    store.close();
  }
  const estims = Object.keys((run.config as { estim?: Record<string, unknown> }).estim ?? {});
  if (payload.estimIndex < estims.length) {
    throw noModel(dir, `run ${run.id}'s last checkpoint is after estimator ${payload.estim}, not after the last one (${estims[estims.length - 1]})`, `finish the run with "modnas resume ${folder}"`);
  }
  const { plan } = await prepareExperiment(run.config as JsonObject, [], { registry, discover: false });
  const cfg = plan.config;
  if (!cfg.model) throw noModel(dir, 'its experiment searches a space with no network (a tabular benchmark)', 'export the network of an experiment with a model');
  const backend = await selectBackend({ prefer: cfg.backend, registry, logger });
  const scope = experimentScope(plan, { logger, events: new EventBus(), progress: silentProgress, store: new MemoryExperimentStore() });
  const env = { plan, registry, container: scope.container };
  const built = await buildNetwork(env, componentFactory(env));
  const dispose = (): void => {
    built.trainer?.dispose();
    built.model.dispose();
    scope.space.dispose();
  };
  try {
    loadRunWeights(built.model, payload.weights, dir, run.id);
    if (Object.keys(payload.space.assignment).length > 0) scope.space.apply(payload.space.assignment);
    for (const t of scope.space.tensors()) {
      const v = payload.space.tensors[t.name];
      if (v) t.assign(v);
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return {
    plan,
    built,
    space: scope.space,
    backend,
    run,
    summary: payload.summary as Record<string, EstimSummary>,
    kind: cfg.arch_desc !== undefined || !cfg.optim ? 'train' : 'search',
    dispose,
  };
}

function loadRunWeights(model: Module, weights: EncodedWeights, dir: string, run: string): void {
  try {
    loadWeights(model, weights);
  } catch (e) {
    throw new ModnasError('MODNAS_E_EXPORT_WEIGHTS', `the checkpoint of run ${run} in ${dir} does not fit the network its config builds: ${(e as Error).message}`, {
      fix: 'export with the plugin versions the run was made with',
      cause: e,
    });
  }
}
