/**
 * The weight codec: a network's weights and buffers (its state dict) as JSON-ready tensors (dtype,
 * shape, base64 of the little-endian values). Checkpoints hold them, and executors ship them to
 * remote workers in the same form.
 */
import type { Module } from '@modnas/core';
import { tf } from '@modnas/core';
import { fromBase64, toBase64 } from './base64.js';
import { sha256Hex } from './host.js';

export interface EncodedTensor {
  dtype: string;
  shape: number[];
  /** base64 of the little-endian values. */
  b64: string;
}

/** A state dict, encoded: its keys to their tensors. */
export type EncodedWeights = Record<string, EncodedTensor>;

function encodeTensor(t: tf.Tensor): EncodedTensor {
  const data = t.dataSync<'float32' | 'int32' | 'bool'>();
  return { dtype: t.dtype, shape: [...t.shape], b64: toBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
}

function decodeTensor(e: EncodedTensor): tf.Tensor {
  const ab = fromBase64(e.b64);
  const values = e.dtype === 'int32' ? new Int32Array(ab) : e.dtype === 'bool' ? new Uint8Array(ab) : new Float32Array(ab);
  return tf.tensor(values, e.shape, e.dtype as tf.DataType);
}

/** A network's weights and buffers, encoded. */
export function encodeWeights(model: Pick<Module, 'stateDict'>): EncodedWeights {
  const out: EncodedWeights = {};
  for (const [k, v] of model.stateDict()) out[k] = encodeTensor(v);
  return out;
}

/**
 * Load encoded weights into a network built from the same config (strict, the default: every key
 * must match; Module.loadStateDict's errors are thrown as they are). The decoded tensors are disposed.
 */
export function loadWeights(model: Pick<Module, 'loadStateDict'>, weights: EncodedWeights, opts: { strict?: boolean } = {}): void {
  const state = new Map<string, tf.Tensor>();
  try {
    for (const [k, e] of Object.entries(weights)) state.set(k, decodeTensor(e));
    model.loadStateDict(state, opts);
  } finally {
    for (const t of state.values()) t.dispose();
  }
}

/** A network's encoded weights as bytes (their JSON), with an id that is their hash: what executors ship to workers. */
export function weightBytes(model: Pick<Module, 'stateDict'>): { id: string; bytes: Uint8Array } {
  const bytes = new TextEncoder().encode(JSON.stringify(encodeWeights(model)));
  return { id: sha256Hex(bytes).slice(0, 16), bytes };
}

/** Load what weightBytes wrote into a network built from the same config (every key must match). */
export function loadWeightBytes(model: Pick<Module, 'loadStateDict'>, bytes: Uint8Array): void {
  loadWeights(model, JSON.parse(new TextDecoder().decode(bytes)) as EncodedWeights);
}
