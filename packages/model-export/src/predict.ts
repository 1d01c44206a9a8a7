/**
 * `modnas predict`: classify image files with an exported model, preparing each image as the
 * network's training data was (the modnas.json preprocess: decode, resize, channels, normalise).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Logger } from '@modnas/core';
import { ModnasError, getRegistry, silentLogger } from '@modnas/core';
import { discoverPlugins } from '@modnas/discovery';
import { selectBackend } from '@modnas/runtime';
import { isImageFile, normalizePixels, readImagePixels } from '@modnas/kit-image';
import { META_FILE } from './meta.js';
import { readMeta } from './read-meta.js';
import type { ExportedModel } from './run-exported.js';
import { openExported } from './run-exported.js';

export interface Prediction {
  file: string;
  /** Best first: class name, output index, softmax probability. */
  top: Array<{ class: string; index: number; prob: number }>;
}

export interface PredictFailure {
  file: string;
  error: ModnasError;
}

/**
 * The folder of an exported model from what a user passes: the folder with modnas.json, a
 * model.json / model.onnx file in it, or the export folder holding tfjs/ and onnx/ (tfjs first).
 */
export function resolveModelDir(path: string): string {
  const p = resolve(path);
  if (!existsSync(p)) throw new ModnasError('MODNAS_E_PREDICT_MODEL', `${p} does not exist`, { fix: 'pass the folder modnas export wrote (e.g. exp/quickstart-train/export)', where: path });
  if (statSync(p).isFile()) return dirname(p);
  if (existsSync(join(p, META_FILE))) return p;
  for (const f of ['tfjs', 'onnx']) if (existsSync(join(p, f, META_FILE))) return join(p, f);
  throw new ModnasError('MODNAS_E_PREDICT_MODEL', `${p} holds no exported model (no ${META_FILE} in it, nor in tfjs/ or onnx/ below it)`, {
    fix: 'run "modnas export <experiment-dir>" first, then pass its output folder (default <experiment-dir>/export)',
    where: path,
  });
}

/** The image files among the paths (folders: their image files, sorted, recursively). */
export function listImages(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const f = join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (isImageFile(e.name)) out.push(f);
    }
  };
  for (const p of paths) {
    const f = resolve(p);
    if (!existsSync(f)) throw new ModnasError('MODNAS_E_PREDICT_INPUT', `${p} does not exist`, { fix: 'pass image files (PNG, JPEG, WebP) or folders of them', where: p });
    if (statSync(f).isDirectory()) walk(f);
    else out.push(f);
  }
  return out;
}

function softmax(logits: Float32Array, from: number, k: number): number[] {
  let m = -Infinity;
  for (let j = 0; j < k; j++) m = Math.max(m, logits[from + j]);
  const e = Array.from({ length: k }, (_, j) => Math.exp(logits[from + j] - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Classify the files in batches; files that cannot be decoded are returned as failures. */
export async function predictFiles(model: ExportedModel, files: readonly string[], opts: { top?: number; batch?: number } = {}): Promise<{ predictions: Prediction[]; failures: PredictFailure[] }> {
  const pre = model.meta.preprocess;
  if (!pre) {
    throw new ModnasError('MODNAS_E_PREDICT_MODEL', `the model was trained on ${model.meta.experiment.dataset || 'data'} that are not images (its modnas.json has no preprocess), so image files cannot be fed to it`, {
      fix: 'predict with a model trained on an image dataset (MNIST, CIFAR10, ImageFolder), or feed its input tensor yourself',
    });
  }
  const k = model.meta.classes.length;
  const top = Math.max(1, Math.min(opts.top ?? 5, k));
  const per = pre.height * pre.width * pre.channels;
  const predictions: Prediction[] = [];
  const failures: PredictFailure[] = [];
  const bs = opts.batch ?? 32;
  for (let i = 0; i < files.length; i += bs) {
    const chunk = files.slice(i, i + bs);
    const ok: Array<{ file: string; x: Float32Array }> = [];
    for (const file of chunk) {
      try {
        ok.push({ file, x: normalizePixels(await readImagePixels(file, pre), pre) });
      } catch (e) {
        if ((e as { code?: string }).code !== 'MODNAS_E_DATA_IMAGE') throw e;
        failures.push({ file, error: e as ModnasError });
      }
    }
    if (ok.length === 0) continue;
    const x = new Float32Array(ok.length * per);
    ok.forEach((o, j) => x.set(o.x, j * per));
    const logits = await model.run(x, ok.length);
    ok.forEach((o, j) => {
      const p = softmax(logits, j * k, k);
      const order = p.map((v, idx) => idx).sort((a, b) => p[b] - p[a]).slice(0, top);
      predictions.push({ file: o.file, top: order.map((idx) => ({ class: model.meta.classes[idx] ?? String(idx), index: idx, prob: p[idx] })) });
    });
  }
  return { predictions, failures };
}

/**
 * Open the model a user names (see resolveModelDir); a tfjs model runs on the backend @modnas
 * would train on (the native engine where it is installed).
 */
export async function openModel(path: string, opts: { logger?: Logger } = {}): Promise<ExportedModel> {
  const dir = resolveModelDir(path);
  if (readMeta(dir).format !== 'onnx') {
    // the engines are plugins (kind "engine"): found into the registry, chosen from it by priority
    const registry = getRegistry();
    discoverPlugins({ registry });
    await selectBackend({ registry, logger: opts.logger ?? silentLogger });
  }
  return openExported(dir);
}

/** One line: the file (relative to the working folder), then the top classes with their probability. */
export function formatPrediction(p: Prediction): string {
  return `${relative(process.cwd(), p.file) || p.file}  ${p.top.map((t) => `${t.class} ${(t.prob * 100).toFixed(1)}%`).join(', ')}`;
}
