import { createHash } from 'node:crypto';
import type { Module, tf } from '@modnas/core';
import { decodeTensor, encodeTensor } from '../checkpoint.js';

/** A network's weights and buffers as bytes (JSON of encoded tensors), with an id that is their hash. */
export function encodeWeights(model: Module): { id: string; bytes: Uint8Array } {
  const out: Record<string, ReturnType<typeof encodeTensor>> = {};
  for (const [k, v] of model.stateDict()) out[k] = encodeTensor(v);
  const bytes = Buffer.from(JSON.stringify(out));
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 16), bytes };
}

/** Load what encodeWeights wrote into a network built from the same config (every key must match). */
export function loadWeights(model: Module, bytes: Uint8Array): void {
  const enc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, Parameters<typeof decodeTensor>[0]>;
  const state = new Map<string, tf.Tensor>();
  try {
    for (const [k, e] of Object.entries(enc)) state.set(k, decodeTensor(e));
    model.loadStateDict(state);
  } finally {
    for (const t of state.values()) t.dispose();
  }
}
