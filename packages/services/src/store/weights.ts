/**
 * The weight codec: a network's weights and buffers (its state dict) as JSON-ready tensors (dtype,
 * shape, base64 of the little-endian values). Checkpoints hold them, and executors ship them to
 * remote workers in the same form.
 */
import { createHash } from 'node:crypto';
import type { Module } from '@modnas/core';
import { tf } from '@modnas/core';

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
  return { dtype: t.dtype, shape: [...t.shape], b64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}

function decodeTensor(e: EncodedTensor): tf.Tensor {
  const buf = Buffer.from(e.b64, 'base64');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
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
  const bytes = Buffer.from(JSON.stringify(encodeWeights(model)));
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 16), bytes };
}

/** Load what weightBytes wrote into a network built from the same config (every key must match). */
export function loadWeightBytes(model: Pick<Module, 'loadStateDict'>, bytes: Uint8Array): void {
  loadWeights(model, JSON.parse(Buffer.from(bytes).toString('utf8')) as EncodedWeights);
}
