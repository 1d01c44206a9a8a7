/**
 * @modnas/model-export in a browser (the `browser` condition of its exports; index.ts adds writing,
 * checking and running exported files in Node): tracing a network and encoding it as a
 * TensorFlow.js graph model or ONNX, in memory.
 */
export type { ExportFormat, ExportMeta } from './meta.js';
export { EXPORT_FORMATS, META_FILE } from './meta.js';
export type { EncodeInfo, EncodedModel } from './encode.js';
export { chooseSubnetwork, encodeGraph, inferenceGraph } from './encode.js';
export { Graph } from './graph.js';
export { traceModel } from './trace.js';
export { toInference } from './passes.js';
export { toTfjs } from './tfjs.js';
export { toOnnx, ONNX_OPSET } from './onnx.js';
