/**
 * Trial experiments (Tokens.TrialRunner): an experiment that runs others, as the original's
 * HPTuneEstim runs one experiment per hyperparameter assignment. A trial is a config (an object, or
 * a file inside the experiment's config folder) with dotted-key overrides; it runs in
 * `<experiment folder>/trials/<name>`, never outside it, with the experiment's engine and registry.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { ConfigDoc, JsonObject } from '@modnas/config';
import { readYamlFile } from '@modnas/config';
import type { Logger, Registry, TrialRunner, TrialSpec, TrialSummary } from '@modnas/core';
import { ModnasError } from '@modnas/core';
import { fileInside, isInside } from '@modnas/kit-io';
import type { BackendChoice } from './backend.js';
import { prepareDocs } from './experiment.js';
import { runExperiment } from './runner.js';

export interface TrialEnv {
  registry: Registry;
  /** The experiment's engine: every trial runs on it. */
  backend: BackendChoice;
  /** The experiment's folder: trials run in its `trials/` sub-folder. */
  outputDir: string;
  /** The experiment's config folder: a trial config given as a path must lie inside it. */
  configDir: string;
  /** Write the trials' folders (the experiment's own `persist`). */
  persist: boolean;
  /** The experiment's log: a trial's warnings and errors go there (all its lines go to its own log). */
  logger: Logger;
  /** The container the experiment's is a child of: the trials' are too (not of the experiment's, whose services are its own). */
  parent: DependencyContainer;
  signal?: AbortSignal;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The trial config file `file`, which must lie inside `configDir` (symbolic links followed). */
export function trialConfigFile(file: string, configDir: string, where = 'trial_config'): string {
  const full = fileInside(configDir, file, { code: 'MODNAS_E_TRIAL_CONFIG', where, folderName: "the experiment's config folder" });
  if (!existsSync(full)) {
    throw new ModnasError('MODNAS_E_TRIAL_CONFIG', `${where} ${JSON.stringify(file)} does not exist (looked for ${full})`, {
      fix: `put the trial's config file in the experiment's config folder (${configDir}) and name it relative to it, or give the config inline`,
      where,
    });
  }
  return full;
}

/** The runtime's TrialRunner for one experiment. */
export function trialRunner(env: TrialEnv): TrialRunner {
  const trialsDir = join(env.outputDir, 'trials');
  return {
    async run(spec: TrialSpec): Promise<TrialSummary> {
      if (!NAME.test(spec.name) || !isInside(trialsDir, resolve(trialsDir, spec.name))) {
        throw new ModnasError('MODNAS_E_TRIAL_NAME', `trial name "${spec.name}" is not a plain folder name`, {
          fix: 'name trials with letters, digits, ".", "_" and "-" only (it becomes the folder trials/<name>)',
          where: 'trial_args.name',
        });
      }
      let doc: ConfigDoc;
      if (typeof spec.config === 'string') {
        const file = trialConfigFile(spec.config, env.configDir);
        doc = { doc: readYamlFile(file), where: file };
      } else {
        doc = { doc: structuredClone(spec.config) as JsonObject, where: 'trial_config' };
      }
      // values as JSON, which YAML reads back as the same value (strings stay strings)
      const overrides = Object.entries(spec.overrides ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      const prepared = await prepareDocs([doc], overrides, { registry: env.registry, discover: false, cwd: env.configDir });
      // its folder is trials/<name>, whatever the trial's config says
      const plan = { ...prepared.plan, config: { ...prepared.plan.config, name: spec.name, output_dir: trialsDir } };
      const log = (level: keyof Logger) => (m: string) => env.logger[level](`trial ${spec.name}: ${m}`);
      const logger: Logger = { debug: () => {}, info: log('debug'), warn: log('warn'), error: log('error') };
      const summary = await runExperiment(plan, {
        registry: env.registry,
        backend: env.backend,
        persist: env.persist,
        cwd: env.configDir,
        logger,
        container: env.parent,
        signal: env.signal,
        notes: [`trial ${spec.name} of ${env.outputDir}${overrides.length ? `; overrides: ${overrides.join(' ')}` : ''}`, ...prepared.notes],
      });
      const last = Object.values(summary.estims).pop();
      const bestScore = last?.best?.score ?? last?.metrics.acc ?? Number.NaN;
      return { outputDir: summary.outputDir, bestScore, metrics: { ...(last?.metrics ?? {}) } };
    },
  };
}
