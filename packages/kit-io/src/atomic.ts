import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify as toYaml } from 'yaml';

/**
 * Write a file so that a crash leaves either the old or the new content, never half of it:
 * write a temporary file beside it, fsync, rename over.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, beforeRename?: () => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  beforeRename?.();
  renameSync(tmp, path);
}

export function writeYamlAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, toYaml(value, { lineWidth: 0 }));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, jsonReplacer, 2) + '\n');
}

export function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** JSON.stringify replacer: bigints as strings, non-finite numbers as strings ("NaN", "Infinity"). */
export function jsonSafe(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}
