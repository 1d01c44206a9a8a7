/**
 * `modnas export`: the trained network of an experiment folder, traced, turned into an inference
 * graph and written as a TensorFlow.js graph model and/or ONNX, each with its modnas.json; then
 * each written file is run once against @modnas's own forward pass on test images, so a model that
 * would disagree is never handed over silently.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataSplit, Logger, Module, Registry } from '@modnas/core';
import { ModnasError, silentLogger, tf } from '@modnas/core';
import { guardedWrite, writeFileAtomic } from '@modnas/kit-io';
import type { TrainedNetwork } from '@modnas/runtime';
import { loadTrainedNetwork } from '@modnas/runtime';
import { chooseSubnetwork, encodeGraph, inferenceGraph } from './encode.js';
import type { Graph } from './graph.js';
import type { ExportFormat, ExportMeta } from './meta.js';
import { EXPORT_FORMATS, META_FILE } from './meta.js';
import { openExported } from './run-exported.js';

export interface ExportOptions {
  formats?: readonly ExportFormat[];
  /** Output folder (default <experiment>/export); each format gets a sub-folder. */
  out?: string;
  /** Which run of the experiment (default: the newest finished one). */
  run?: string;
  /** The registry plugins are found into, and where discovery starts (defaults: the global one, the working folder). */
  registry?: Registry;
  cwd?: string;
  logger?: Logger;
  /** Images of the test split the accuracy in modnas.json is measured on (default: all). */
  evalImages?: number;
  /** Test images the written models are checked on (default 64; 0: no check). */
  verifyImages?: number;
  /** Largest |logit difference| the check accepts, relative to the largest |logit| when that is above 1 (default 1e-4). */
  tolerance?: number;
}

export interface ExportedFile {
  format: ExportFormat;
  dir: string;
  files: string[];
  meta: ExportMeta;
}

export interface ExportResult {
  outputs: ExportedFile[];
  testAccuracy?: number;
  nodes: number;
}

/** The batch the network is traced with: an odd size no layer is likely to have, so batch axes are told apart. */
const TRACE_BATCH = 5;

export function parseFormats(value: string | undefined): ExportFormat[] {
  if (value === undefined || value === 'both') return [...EXPORT_FORMATS];
  const list = value.split(',').map((s) => s.trim().toLowerCase());
  const bad = list.filter((f) => !(EXPORT_FORMATS as readonly string[]).includes(f));
  if (bad.length || list.length === 0) {
    throw new ModnasError('MODNAS_E_EXPORT_FORMAT', `unknown export format "${bad.join(', ') || value}"`, { fix: 'use --format tfjs, --format onnx or --format both', where: '--format' });
  }
  return list as ExportFormat[];
}

/** NHWC images of the first n examples of a split, as one array (they are already preprocessed). */
function firstImages(split: DataSplit, n: number): { x: Float32Array; labels: Int32Array; n: number; shape: number[] } {
  for (const b of split.batches(Math.min(n, split.size))) {
    try {
      return { x: Float32Array.from(b.x.dataSync()), labels: Int32Array.from(b.y.dataSync()), n: b.x.shape[0], shape: [...b.x.shape] };
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  throw new ModnasError('MODNAS_E_EXPORT_NO_DATA', 'the experiment\'s data has no examples to trace the network with', { fix: 'export an experiment whose dataset has a test or training split' });
}

/** Top-1 accuracy of the model on a split (eval mode). */
function accuracy(model: Module, split: DataSplit): number {
  let correct = 0;
  let count = 0;
  model.eval();
  for (const b of split.batches(256)) {
    try {
      const pred = tf.tidy(() => tf.argMax(model.call(b.x), -1).dataSync());
      const y = b.y.dataSync();
      for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) correct++;
      count += y.length;
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  return count ? correct / count : Number.NaN;
}

function forward(model: Module, x: Float32Array, shape: number[]): Float32Array {
  model.eval();
  return tf.tidy(() => Float32Array.from(model.call(tf.tensor4d(x, shape as [number, number, number, number])).dataSync()));
}

function describeArch(t: TrainedNetwork): ExportMeta['architecture'] {
  const cfg = t.plan.config;
  const arch: ExportMeta['architecture'] = { model: (cfg.model as { type: string }).type, weights: t.built.model.numParams() };
  if (cfg.arch_desc !== undefined) arch.arch_desc = cfg.arch_desc;
  const best = Object.values(t.summary).reverse().find((e) => e.best && Object.keys(e.best.arch).length > 0)?.best;
  if (best) arch.arch = best.arch;
  return arch;
}

export async function exportExperiment(folder: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const logger = opts.logger ?? silentLogger;
  const formats = opts.formats ?? EXPORT_FORMATS;
  const dir = resolve(folder);
  const out = resolve(opts.out ?? join(dir, 'export'));
  // refuse an unwritable destination before the work
  try {
    guardedWrite('the export folder', out, () => mkdirSync(out, { recursive: true }));
  } catch (e) {
    const err = e as ModnasError;
    throw new ModnasError(err.code, `cannot export to ${out}: ${(err.cause as Error | undefined)?.message ?? err.message}`, { fix: 'pass --out <a folder you can write>', where: '--out', cause: e });
  }
  const trained = await loadTrainedNetwork(dir, { logger, run: opts.run, registry: opts.registry, cwd: opts.cwd });
  try {
    const { model, splits } = trained.built;
    const whole = splits.test ?? (splits.valid.size > 0 ? splits.valid : splits.train);
    const evalSplit = opts.evalImages && opts.evalImages < whole.size ? whole.subset(Array.from({ length: opts.evalImages }, (_, i) => i)) : whole;
    const splitName = splits.test ? 'test' : splits.valid.size > 0 ? 'valid' : 'train';
    logger.info(`export: run ${trained.run.id} of ${trained.plan.config.name} (${trained.kind === 'train' ? 'a trained network' : 'a search, its best architecture applied'}), ${model.numParams().toLocaleString('en-US')} weights`);

    const restore = trained.kind === 'search' ? chooseSubnetwork(model, logger) : () => undefined;
    try {
      return await writeFormats(trained, out, formats, evalSplit, splitName, opts, logger);
    } finally {
      restore();
    }
  } finally {
    trained.dispose();
  }
}

async function writeFormats(trained: TrainedNetwork, out: string, formats: readonly ExportFormat[], evalSplit: DataSplit, splitName: string, opts: ExportOptions, logger: Logger): Promise<ExportResult> {
  const { model, dataset } = trained.built;
  const example = firstImages(evalSplit, TRACE_BATCH);
  let graph: Graph;
  const ex = tf.tensor4d(example.x, example.shape as [number, number, number, number]);
  try {
    graph = inferenceGraph(model, ex);
  } finally {
    ex.dispose();
  }
  const counts = new Map<string, number>();
  for (const n of graph.nodes) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
  logger.info(`export: traced ${graph.nodes.length} ops (${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')})`);

  const testAccuracy = accuracy(model, evalSplit);
  logger.info(`export: ${splitName} accuracy in @modnas ${(testAccuracy * 100).toFixed(2)}% on ${evalSplit.size.toLocaleString('en-US')} images`);
  const check = opts.verifyImages ?? 64;
  const probe = check > 0 ? firstImages(evalSplit, check) : undefined;
  const reference = probe ? forward(model, probe.x, probe.shape) : undefined;

  const info = {
    classes: dataset?.classes,
    preprocess: dataset?.preprocess ?? null,
    architecture: describeArch(trained),
    metrics: { test_accuracy: testAccuracy, test_size: evalSplit.size, split: splitName },
    experiment: { name: trained.plan.config.name, run: trained.run.id, kind: trained.kind, dataset: dataset?.name ?? '', backend: trained.backend.backend },
  };
  const outputs: ExportedFile[] = [];
  for (const format of formats) {
    const fdir = join(out, format);
    rmSync(fdir, { recursive: true, force: true });
    guardedWrite(`the ${format} export folder`, fdir, () => mkdirSync(fdir, { recursive: true }));
    const files: string[] = [];
    const write = (name: string, data: string | Uint8Array): void => {
      const f = join(fdir, name);
      guardedWrite(`${format}/${name}`, f, () => writeFileAtomic(f, data));
      files.push(f);
    };
    const { meta, files: encoded } = encodeGraph(graph, format, info);
    for (const f of encoded) write(f.name, f.data);
    write(META_FILE, JSON.stringify(meta, null, 2) + '\n');
    if (probe && reference) meta.verified = await verify(fdir, probe, reference, opts.tolerance ?? 1e-4, logger);
    if (meta.verified) write(META_FILE, JSON.stringify(meta, null, 2) + '\n');
    logger.info(`export ${format}: ${fdir}`);
    outputs.push({ format, dir: fdir, files: [...new Set(files)], meta });
  }
  return { outputs, testAccuracy, nodes: graph.nodes.length };
}

/** Run the written model on the probe images; a difference above tolerance is an error. */
async function verify(dir: string, probe: { x: Float32Array; n: number; labels: Int32Array }, reference: Float32Array, tolerance: number, logger: Logger): Promise<ExportMeta['verified']> {
  let m;
  try {
    m = await openExported(dir);
  } catch (e) {
    if ((e as { code?: string }).code === 'MODNAS_E_PREDICT_RUNTIME') {
      logger.warn(`export: ${dir} not checked here: ${(e as Error).message.split("\n")[0]} (npm i onnxruntime-node to check it)`);
      return undefined;
    }
    throw e;
  }
  try {
    const got = await m.run(probe.x, probe.n);
    const k = reference.length / probe.n;
    let diff = 0;
    let sameArgmax = true;
    for (let i = 0; i < probe.n; i++) {
      let a = 0;
      let b = 0;
      for (let j = 0; j < k; j++) {
        diff = Math.max(diff, Math.abs(got[i * k + j] - reference[i * k + j]));
        if (got[i * k + j] > got[i * k + a]) a = j;
        if (reference[i * k + j] > reference[i * k + b]) b = j;
      }
      if (a !== b) sameArgmax = false;
    }
    logger.info(`export: checked ${dir} in ${m.runtime} on ${probe.n} images: max |logit difference| ${diff.toExponential(2)}${sameArgmax ? ', same predictions' : ', PREDICTIONS DIFFER'}`);
    const scale = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
    if (!(diff <= tolerance * scale)) {
      throw new ModnasError('MODNAS_E_EXPORT_MISMATCH', `the exported model in ${dir} computes logits up to ${diff.toExponential(2)} away from @modnas's own (tolerance ${(tolerance * scale).toExponential(1)}) on ${probe.n} test images`, {
        fix: 'this is a bug in the export of one of the network\'s layers: please report it with the experiment\'s config',
      });
    }
    return { runtime: m.runtime, images: probe.n, max_abs_logit_diff: diff, same_argmax: sameArgmax };
  } finally {
    m.dispose();
  }
}
