import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { ResultStore } from './interfaces.js';

/**
 * Write a file so that a crash leaves either the old or the new content, never half of it:
 * write a temporary file beside it, fsync, rename over.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function writeYamlAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, toYaml(value, { lineWidth: 0 }));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, jsonReplacer, 2) + '\n');
}

function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/**
 * Trials and results as JSON Lines under a folder, one file per stream. Each record is one
 * appended line, so a crash loses at most the record being written; a torn last line is skipped
 * on read.
 */
export class JsonlStore implements ResultStore {
  constructor(private readonly dir: string) {}

  private file(stream: string): string {
    return `${this.dir}/${stream}.jsonl`;
  }

  append(stream: string, record: Record<string, unknown>): void {
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(this.file(stream), JSON.stringify(record, jsonReplacer) + '\n');
  }

  read(stream: string): Array<Record<string, unknown>> {
    const f = this.file(stream);
    if (!existsSync(f)) return [];
    const out: Array<Record<string, unknown>> = [];
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // a line torn by a crash
      }
    }
    return out;
  }
}

/** A store that keeps records in memory (tests, benchmarks). */
export class MemoryStore implements ResultStore {
  private readonly streams = new Map<string, Array<Record<string, unknown>>>();

  append(stream: string, record: Record<string, unknown>): void {
    const l = this.streams.get(stream) ?? [];
    l.push(record);
    this.streams.set(stream, l);
  }

  read(stream: string): Array<Record<string, unknown>> {
    return [...(this.streams.get(stream) ?? [])];
  }
}
