/**
 * Running an exported model as its users will: the tfjs graph model through tfjs-converter's
 * GraphModel (the code `tf.loadGraphModel` runs; here on the engine @modnas trains with), the ONNX
 * model through onnxruntime-node when it is installed. Inputs are NHWC float32 either way; the
 * ONNX model's NCHW layout is handled here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { ModnasError, tf } from '@modnas/core';
import type { ExportMeta } from './meta.js';
import { readMeta } from './read-meta.js';

export interface ExportedModel {
  meta: ExportMeta;
  /** What runs it, for messages ("tfjs-converter 4.22.0 on native"). */
  runtime: string;
  /** Logits of n NHWC images (n x classes, row-major). */
  run(x: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

/** The model.json, weight shards and all, as tfjs' IO layer hands them to a GraphModel. */
function fileArtifacts(dir: string, meta: ExportMeta): tf.io.ModelArtifacts {
  const file = join(dir, meta.file);
  let json: { modelTopology: unknown; weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>; format?: string; generatedBy?: string; convertedBy?: string; signature?: unknown };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModnasError('MODNAS_E_PREDICT_MODEL', `${file} cannot be read as a tfjs model.json: ${(e as Error).message}`, { fix: 'export the model again', where: file, cause: e });
  }
  const parts = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const all = Buffer.concat(parts);
  return {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature as tf.io.ModelArtifacts['signature'],
  };
}

async function openTfjs(dir: string, meta: ExportMeta): Promise<ExportedModel> {
  const artifacts = fileArtifacts(dir, meta);
  const model = await loadGraphModel({ load: async () => artifacts });
  const [, h, w, c] = meta.input.shape;
  return {
    meta,
    runtime: `@tensorflow/tfjs-converter on ${tf.getBackend()}`,
    async run(x, n) {
      const out = tf.tidy(() => model.execute(tf.tensor4d(x, [n, h, w, c])) as tf.Tensor);
      try {
        return Float32Array.from(await out.data<'float32'>());
      } finally {
        out.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
}

interface Ort {
  InferenceSession: { create(path: string): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array }>>; release?(): Promise<void> }> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

async function openOnnx(dir: string, meta: ExportMeta): Promise<ExportedModel> {
  let ort: Ort;
  try {
    ort = (await import('onnxruntime-node')) as unknown as Ort;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new ModnasError('MODNAS_E_PREDICT_RUNTIME', 'running an ONNX model needs onnxruntime-node, which is not installed', {
      fix: 'npm i onnxruntime-node (its CPU build is in the package), or use the TensorFlow.js export',
      cause: e,
    });
  }
  const session = await ort.InferenceSession.create(join(dir, meta.file));
  const [, c, h, w] = meta.input.shape;
  return {
    meta,
    runtime: 'onnxruntime-node (CPU)',
    async run(x, n) {
      // NHWC -> NCHW
      const t = new Float32Array(x.length);
      for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let k = 0; k < c; k++) t[((b * c + k) * h + y) * w + z] = x[((b * h + y) * w + z) * c + k];
      const res = await session.run({ [meta.input.name]: new ort.Tensor('float32', t, [n, c, h, w]) });
      return Float32Array.from(res[meta.output.name].data);
    },
    dispose: () => void session.release?.(),
  };
}

/** Open the model in `dir` (a folder modnas export wrote: model.json or model.onnx beside modnas.json). */
export async function openExported(dir: string): Promise<ExportedModel> {
  const meta = readMeta(dir);
  return meta.format === 'onnx' ? openOnnx(dir, meta) : openTfjs(dir, meta);
}
