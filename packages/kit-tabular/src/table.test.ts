import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { once, readTable, writeTable } from './table.js';

describe('packed tables', () => {
  it('round-trips exact decimals and NaN, and checks the format', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-table-'));
    const file = join(dir, 't.json.gz');
    writeTable(file, { meta: { source: 'test' }, rows: 3, columns: { a: [94.3733, 0.1, NaN], b: [1, 2, 3] } });
    const t = readTable(file);
    expect(t.rows).toBe(3);
    expect(t.meta).toEqual({ source: 'test' });
    expect(Array.from(t.column('a')).slice(0, 2)).toEqual([94.3733, 0.1]);
    expect(Number.isNaN(t.column('a')[2])).toBe(true);
    expect(() => t.column('c')).toThrow(/no column "c".*\n.*columns: a, b/s);
    expect(() => writeTable(file, { meta: {}, rows: 2, columns: { a: [1] } })).toThrow(/1 entries, expected 2/);
    writeFileSync(join(dir, 'bad.json.gz'), gzipSync('{"format":"other/9","rows":0,"columns":{}}'));
    expect(() => readTable(join(dir, 'bad.json.gz'))).toThrow(/format "other\/9"/);
    expect(() => readTable(join(dir, 'missing.json.gz'))).toThrow(/cannot read the benchmark table/);
  });

  it('once() computes on first use only', () => {
    let n = 0;
    const f = once(() => ++n);
    expect([f(), f(), n]).toEqual([1, 1, 1]);
  });
});
