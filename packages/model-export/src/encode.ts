/**
 * A network as the files of an export format, in memory: traced into an inference graph, encoded as
 * a TensorFlow.js graph model or ONNX, with the modnas.json that describes it. `modnas export`
 * writes these files (export.ts); a browser offers them as downloads.
 */
import type { ImagePreprocess, Logger, Module } from '@modnas/core';
import type { tf } from '@modnas/core';
import { CORE_VERSION } from '@modnas/core';
import { chosen, fixCandidates, isMixedOp } from '@modnas/kit-mixed-op';
import type { Graph } from './graph.js';
import type { ExportFormat, ExportMeta } from './meta.js';
import { META_VERSION } from './meta.js';
import { toOnnx } from './onnx.js';
import { toInference } from './passes.js';
import { toTfjs } from './tfjs.js';
import { traceModel } from './trace.js';

/** What modnas.json says beside the graph: classes, preprocessing, architecture, accuracy, origin. */
export interface EncodeInfo {
  /** Class names by output index (default "0", "1", ...). */
  classes?: readonly string[];
  preprocess: ImagePreprocess | null;
  architecture: ExportMeta['architecture'];
  metrics: ExportMeta['metrics'];
  experiment: ExportMeta['experiment'];
}

export interface EncodedModel {
  format: ExportFormat;
  /** The model's files (model.onnx; or model.json and its weight shards), modnas.json not among them. */
  files: Array<{ name: string; data: string | Uint8Array }>;
  meta: ExportMeta;
}

/** The inference graph of a network (eval mode), traced on `example`, an NHWC batch. */
export function inferenceGraph(model: Module, example: tf.Tensor4D): Graph {
  return toInference(traceModel(model, example));
}

/** The graph as the files of `format` with its modnas.json description. */
export function encodeGraph(graph: Graph, format: ExportFormat, info: EncodeInfo): EncodedModel {
  const [, h, w, c] = graph.value(graph.input).shape;
  const out = graph.value(graph.output).shape;
  const meta: ExportMeta = {
    modnas_export: META_VERSION,
    format: format === 'tfjs' ? 'tfjs-graph-model' : 'onnx',
    file: format === 'tfjs' ? 'model.json' : 'model.onnx',
    input: format === 'tfjs' ? { name: 'input', shape: [-1, h, w, c], layout: 'NHWC', dtype: 'float32' } : { name: 'input', shape: [-1, c, h, w], layout: 'NCHW', dtype: 'float32' },
    output: { name: 'logits', shape: [-1, ...out.slice(1)], kind: 'logits' },
    classes: info.classes ? [...info.classes] : Array.from({ length: out[1] }, (_, i) => String(i)),
    preprocess: info.preprocess,
    architecture: info.architecture,
    metrics: info.metrics,
    experiment: info.experiment,
    created: new Date().toISOString(),
    modnas: CORE_VERSION,
  };
  if (format === 'tfjs') {
    const m = toTfjs(graph);
    meta.input.name = m.inputName;
    meta.output.name = m.outputName;
    return { format, meta, files: [...m.shards.map((s) => ({ name: s.name, data: s.data })), { name: 'model.json', data: JSON.stringify(m.modelJson) }] };
  }
  const data = toOnnx(graph, { version: CORE_VERSION, docString: `@modnas ${info.experiment.name} run ${info.experiment.run}` });
  return { format, meta, files: [{ name: 'model.onnx', data }] };
}

/**
 * A search's model is the whole space; its export is the chosen subnetwork: every mixed op runs
 * only the candidate its architecture keeps (argmax α, or the categorical value), for the trace
 * and for the accuracy written with it. Returns the undo.
 */
export function chooseSubnetwork(model: Module, logger?: Logger): () => void {
  const ops = [...model.modules()].map(([, m]) => m).filter(isMixedOp);
  if (ops.length) logger?.info(`export: the search's chosen subnetwork (one candidate of each of ${ops.length} mixed ops)`);
  return fixCandidates(chosen(ops));
}
