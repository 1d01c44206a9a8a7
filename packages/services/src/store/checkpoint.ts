/**
 * The checkpoint payload: what a checkpoint holds and its bytes (JSON, the weights in the weight
 * codec), with the size and SHA-256 every store keeps beside it and checks on read. The runner's
 * Checkpointer (@modnas/runtime) decides when to checkpoint and collects the states; the store
 * keeps the bytes without reading them.
 */
import type { Assignment } from '@modnas/core';
import { ModnasError } from '@modnas/core';
import type { CheckpointRecord } from './contract.js';
import { jsonSafe, reviveNonFinite } from './json.js';
import { sha256Hex } from './host.js';
import type { EncodedWeights } from './weights.js';

export const CHECKPOINT_FORMAT = 1;

/** What a checkpoint holds (JSON). */
export interface CheckpointPayload {
  format: number;
  /** Index of the estimator in config order and its name. */
  estimIndex: number;
  estim: string;
  kind: string;
  /** The estimator's own position (undefined for kind 'estim': the estimator is done). */
  position?: unknown;
  /** Summaries of the estimators finished before (RunSummary.estims). */
  summary: Record<string, unknown>;
  weights: EncodedWeights;
  trainer?: unknown;
  optim?: unknown;
  space: { assignment: Assignment; tensors: Record<string, number[]> };
  /** root: the run's; estim: the running estimator's; tensor: the weight initialiser's; build: every generator forked while building (mixed ops' samplers, optimizers'), by position. */
  rng: { root: number; estim: number; tensor: number; build?: number[] };
  /** Candidates since the last candidate checkpoint (the N-candidates policy carries over). */
  sinceCandidates: number;
}

/** The size and SHA-256 (hex) of a checkpoint payload, as saveCheckpoint takes them. */
export function checkpointDigest(data: Uint8Array): { size: number; sha256: string } {
  return { size: data.length, sha256: sha256Hex(data) };
}

/**
 * Why a checkpoint's data does not match the size and SHA-256 recorded when it was written
 * ("2,048 of 917,337 bytes", "SHA-256 differs"); undefined when it matches, or when the record
 * has neither (written before they were recorded).
 */
export function checkpointFault(c: Pick<CheckpointRecord, 'data' | 'size' | 'sha256'>): string | undefined {
  if (c.size !== undefined && c.data.length !== c.size) return `${c.data.length.toLocaleString('en-US')} of ${c.size.toLocaleString('en-US')} bytes`;
  if (c.sha256 !== undefined && checkpointDigest(c.data).sha256 !== c.sha256) return `its SHA-256 differs from the one recorded (${c.sha256.slice(0, 12)}…)`;
  return undefined;
}

/**
 * A payload as the bytes saveCheckpoint takes, with their size and SHA-256, taken here before the
 * store writes them: a payload the disk cut short does not verify on resume.
 */
export function encodeCheckpoint(payload: CheckpointPayload): { data: Uint8Array; size: number; sha256: string } {
  const data = new TextEncoder().encode(JSON.stringify(payload, jsonSafe));
  return { ...checkpointDigest(data), data };
}

/** The payload of a stored checkpoint; a coded error when it does not verify, cannot be read, or has another format. */
export function decodeCheckpoint(rec: CheckpointRecord, where = 'the experiment store'): CheckpointPayload {
  // The store hands back only checkpoints that verify (the contract); this catches one that does not follow it.
  const fault = checkpointFault(rec);
  if (fault !== undefined) {
    throw new ModnasError('MODNAS_E_STORE_CHECKPOINT', `checkpoint ${rec.seq} of run ${rec.run} from ${where} does not match the size and SHA-256 recorded when it was written (${fault}), and the store returned it anyway`, {
      fix: 'the store must pass over a checkpoint that does not verify (ExperimentStore.latestCheckpoint in @modnas/services; describeStoreContract in @modnas/testkit checks it); until it does, start a new run (without --resume)',
      where,
    });
  }
  let raw: CheckpointPayload;
  try {
    raw = JSON.parse(new TextDecoder().decode(rec.data)) as CheckpointPayload;
  } catch (e) {
    throw new ModnasError('MODNAS_E_RESUME_CHECKPOINT', `checkpoint ${rec.seq} of run ${rec.run} in ${where} cannot be read: ${(e as Error).message} (${rec.data.length.toLocaleString('en-US')} bytes${rec.sha256 ? '' : '; it records no checksum: written before @modnas recorded them'})`, {
      fix: 'start a new run (without --resume); the records of this one stay in the store',
      where,
      cause: e,
    });
  }
  // jsonSafe wrote NaN/Infinity (scores, losses) as strings: numbers again, except in the encoded weights.
  const p = { ...(reviveNonFinite({ ...raw, weights: undefined }) as CheckpointPayload), weights: raw.weights };
  if (p.format !== CHECKPOINT_FORMAT) {
    throw new ModnasError('MODNAS_E_RESUME_FORMAT', `checkpoint ${rec.seq} of run ${rec.run} has format ${p.format}; this modnas reads format ${CHECKPOINT_FORMAT}`, {
      fix: 'resume with the modnas version that wrote it, or start a new run (without --resume)',
    });
  }
  return p;
}
