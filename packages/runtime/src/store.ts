import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { ResultStore } from '@modnas/core';
import { jsonReplacer } from '@modnas/kit-io';

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
