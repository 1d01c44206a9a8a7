import { basename, dirname, extname, resolve } from 'node:path';
import { formatOf, readYamlFile } from '@modnas/config';
import type { PipelineStep } from '@modnas/config';
import { ModnasError } from '@modnas/core';
import type { PrepareOptions, PreparedExperiment } from './experiment.js';
import { prepareDocs } from './experiment.js';
import type { RunOptions, RunSummary } from './runner.js';
import { runExperiment } from './runner.js';
import { useDefaultFormats } from './formats.js';

export interface PipelineStepResult {
  step: string;
  kind: PipelineStep['kind'];
  /** The search step whose best architecture this train step trained. */
  from?: string;
  /** The architecture file it trained. */
  arch?: string;
  summary: RunSummary;
}

export interface PipelineOptions extends PrepareOptions, RunOptions {
  /** Validate every step and run none (a train step is checked without its architecture). */
  check?: boolean;
  /** Called with each step once it is validated, before it runs. */
  onStep?: (step: PipelineStep, prepared: PreparedExperiment) => void | Promise<void>;
}

/** Is this file a VEGA pipeline (`pipeline: [nas, fully_train]`)? */
export function isPipelineFile(file: string): boolean {
  useDefaultFormats();
  const doc = readYamlFile(file);
  return formatOf(doc)?.isPipeline?.(doc) ?? false;
}

/** The best architecture file a run wrote: that of its last estimator that exported one. */
export function bestArchFile(summary: RunSummary): string | undefined {
  return Object.values(summary.estims)
    .map((e) => e.outputs[0])
    .filter((f): f is string => typeof f === 'string')
    .pop();
}

/**
 * Run a VEGA pipeline file step by step, as VEGA does: each step is an experiment of its own,
 * named `<name>.<step>` (name: `-o name=...`, else the file's name), in `<output_dir>/`; a train
 * step trains the best architecture that the search step before it wrote (modnas train's path:
 * see toTrainingConfig), or, when it has a model of its own, that network.
 */
export async function runSeedPipeline(file: string, overrides: readonly string[] = [], opts: PipelineOptions = {}): Promise<PipelineStepResult[]> {
  useDefaultFormats();
  const raw = readYamlFile(file);
  const fmt = formatOf(raw);
  if (!fmt?.isPipeline?.(raw) || !fmt.pipelineSteps) {
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', `${file} is not a pipeline file`, { fix: 'run it with modnas run, or give a pipeline file (pipeline: [nas, fully_train])', where: file });
  }
  const seedKeys = overrides.filter((o) => fmt.isOverride(o, raw));
  const native = overrides.filter((o) => !seedKeys.includes(o));
  const named = [...native].reverse().find((o) => o.startsWith('name='));
  const base = named ? named.slice('name='.length) : basename(file, extname(file));
  const steps = fmt.pipelineSteps(raw, file, seedKeys);
  const results: PipelineStepResult[] = [];
  for (const step of steps) {
    if (opts.signal?.aborted) break;
    const prev = step.from ? results.find((r) => r.step === step.from) : undefined;
    let arch: string | undefined;
    if (step.from && !opts.check) {
      arch = prev ? bestArchFile(prev.summary) : undefined;
      if (!arch) {
        throw new ModnasError('MODNAS_E_PIPELINE_NO_ARCH', `pipeline step "${step.name}" trains the best architecture of step "${step.from}", which wrote none`, {
          fix: `give step "${step.from}" an exporter (trainer.modnas.export), or give "${step.name}" a model of its own (model.model_desc)`,
          where: `${file}: ${step.name}`,
        });
      }
    }
    const train = step.from ? { archDesc: opts.check ? [] : (arch as string) } : undefined;
    const prepared = await prepareDocs([{ doc: step.doc, where: file, kind: step.kind, prefix: step.name }], [...native, `name=${base}.${step.name}`], { ...opts, train });
    if (step.from) prepared.notes.unshift(`pipeline step ${step.name}: trains the best architecture of step ${step.from}${arch ? ` (${arch})` : ''}`);
    await opts.onStep?.(step, prepared);
    if (opts.check) continue;
    const summary = await runExperiment(prepared.plan, { configDir: dirname(resolve(opts.cwd ?? process.cwd(), file)), ...opts, notes: [...(opts.notes ?? []), ...prepared.notes] });
    results.push({ step: step.name, kind: step.kind, from: step.from, arch, summary });
    if (summary.aborted) break;
  }
  return results;
}
