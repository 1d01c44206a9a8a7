import { createHash } from 'node:crypto';
import type { CheckpointRecord } from '@modnas/services';

/** The size and SHA-256 (hex) of a checkpoint payload, as saveCheckpoint takes them. */
export function checkpointDigest(data: Uint8Array): { size: number; sha256: string } {
  return { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
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
