/**
 * modnas.json: what travels beside an exported model so that any program can use it without
 * @modnas: the input (shape, layout), the output, the class names, how to prepare an image, the
 * architecture, and the accuracy measured before export.
 */
import type { ImagePreprocess } from '@modnas/core';

export const META_FILE = 'modnas.json';
export const META_VERSION = 1;

export type ExportFormat = 'tfjs' | 'onnx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['tfjs', 'onnx'];

export interface ExportMeta {
  modnas_export: number;
  /** 'tfjs-graph-model' (model.json + shards, tf.loadGraphModel) or 'onnx' (model.onnx, opset 13). */
  format: 'tfjs-graph-model' | 'onnx';
  file: string;
  input: { name: string; shape: number[]; layout: 'NHWC' | 'NCHW'; dtype: 'float32' };
  output: { name: string; shape: number[]; kind: 'logits' };
  /** Class names by output index. */
  classes: string[];
  /** How to turn an image into the input (null: the data was not images). */
  preprocess: ImagePreprocess | null;
  architecture: { model: string; arch_desc?: unknown; arch?: Record<string, unknown>; weights: number };
  /** Top-1 accuracy of the exported network on the dataset's test split, measured by @modnas before export. */
  metrics: { test_accuracy?: number; test_size?: number; split?: string };
  /** The exported file run once, against @modnas's forward pass, on `images` test images. */
  verified?: { runtime: string; images: number; max_abs_logit_diff: number; same_argmax: boolean };
  experiment: { name: string; run: string; kind: 'train' | 'search'; dataset: string; backend: string };
  created: string;
  modnas: string;
}
