import { basename, dirname } from 'node:path';
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { testDiskRoom, testDiskWrite } from './fault-points.js';

/** The error write(2) gives on a full disk, for a write that could not place all its bytes. */
function noSpace(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28, syscall: 'write', path });
}

const bytesOf = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? Buffer.from(data) : data);

/**
 * Write every byte of `data` at the fd's position, or throw. write(2) may take fewer bytes than it
 * is given (a nearly full disk takes what fits, then fails with ENOSPC): loop until all are
 * written, and fail with ENOSPC when a write makes no progress. `site` names the write for the
 * fault suite's MODNAS_TEST_DISK_FULL_AT (fault-points.ts); `path` is for the error.
 */
export function writeAll(fd: number, data: Uint8Array, site: string, path: string): void {
  let at = 0;
  let allow = testDiskWrite(site, data.length);
  while (at < data.length) {
    if (allow <= 0) throw noSpace(path);
    const n = writeSync(fd, data, at, allow);
    if (n <= 0) throw noSpace(path);
    at += n;
    allow = testDiskRoom(data.length - at);
  }
}

export interface AtomicWriteOptions {
  /** The write site for MODNAS_TEST_DISK_FULL_AT (default "file:<name>"). */
  site?: string;
  /** Called after the temporary file is complete, before it is renamed (the fault suite kills here). */
  beforeRename?: () => void;
}

/**
 * Write a file so that a crash or a full disk leaves either the old or the new content, never
 * part of it: write a temporary file beside it, check that every byte was written, fsync, rename
 * over. On failure the temporary file is removed (freeing what it took) and the old file stands.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, bytesOf(data), opts.site ?? `file:${basename(path)}`, path);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  opts.beforeRename?.();
  renameSync(tmp, path);
}

/**
 * Append `data` to a file whole or not at all: every byte is written (as writeAll), and when that
 * fails (a full disk) the file is cut back to its length before, so it never ends in part of a
 * record. For a file this process alone appends to (a log, or a journal under its lock).
 * Returns the bytes appended.
 */
export function appendFileWhole(path: string, data: string | Uint8Array, opts: { site: string; fsync?: boolean }): number {
  const buf = bytesOf(data);
  const fd = openSync(path, 'a');
  try {
    const before = fstatSync(fd).size;
    try {
      writeAll(fd, buf, opts.site, path);
      if (opts.fsync) fsyncSync(fd);
    } catch (e) {
      try {
        ftruncateSync(fd, before);
      } catch {
        // cannot cut it back: readers skip a torn last line
      }
      throw e;
    }
  } finally {
    closeSync(fd);
  }
  return buf.length;
}

export function writeYamlAtomic(path: string, value: unknown, opts?: AtomicWriteOptions): void {
  writeFileAtomic(path, toYaml(value, { lineWidth: 0 }), opts);
}

export function writeJsonAtomic(path: string, value: unknown, opts?: AtomicWriteOptions): void {
  writeFileAtomic(path, JSON.stringify(value, jsonReplacer, 2) + '\n', opts);
}

export function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
