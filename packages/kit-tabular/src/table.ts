import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ModnasError } from '@modnas/core';
import { writeFileAtomic } from '@modnas/kit-io';

export const TABLE_FORMAT = 'modnas-table/1';

/**
 * A benchmark table as shipped in a package's data/ folder: gzipped JSON with one number array
 * per column (exact decimals of the source, no float32 rounding) and free-form provenance.
 */
export interface PackedTable {
  format: typeof TABLE_FORMAT;
  /** Sources, commits, licences, column meanings. */
  meta: Record<string, unknown>;
  rows: number;
  columns: Record<string, number[]>;
}

/** A loaded table: columns as Float64Arrays. */
export interface Table {
  meta: Record<string, unknown>;
  rows: number;
  columns: Record<string, Float64Array>;
  /** A column, or an error naming the ones there are. */
  column(name: string): Float64Array;
}

/** Read a packed table (gzipped JSON); checks the format and that every column has `rows` entries. */
export function readTable(file: string | URL): Table {
  let packed: PackedTable;
  try {
    packed = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as PackedTable;
  } catch (e) {
    throw new ModnasError('MODNAS_E_TABLE_READ', `cannot read the benchmark table ${String(file)}`, {
      fix: 'reinstall the benchmark package (its data/ folder is part of the package)',
      cause: e,
    });
  }
  if (packed.format !== TABLE_FORMAT) {
    throw new ModnasError('MODNAS_E_TABLE_FORMAT', `${String(file)} is in format ${JSON.stringify(packed.format)}, this reader reads ${TABLE_FORMAT}`, { fix: 'update @modnas/kit-tabular' });
  }
  const columns: Record<string, Float64Array> = {};
  for (const [name, values] of Object.entries(packed.columns)) {
    if (values.length !== packed.rows) {
      throw new ModnasError('MODNAS_E_TABLE_FORMAT', `${String(file)}: column ${name} has ${values.length} entries, expected ${packed.rows}`);
    }
    columns[name] = Float64Array.from(values, (v) => (v === null ? NaN : v));
  }
  return {
    meta: packed.meta,
    rows: packed.rows,
    columns,
    column(name: string): Float64Array {
      const c = columns[name];
      if (!c) throw new ModnasError('MODNAS_E_TABLE_COLUMN', `the table has no column "${name}"`, { fix: `columns: ${Object.keys(columns).join(', ')}` });
      return c;
    },
  };
}

/** Write a packed table (used by the benchmark packages' conversion scripts). NaN is stored as null. */
export function writeTable(file: string, table: Omit<PackedTable, 'format'>): void {
  for (const [name, values] of Object.entries(table.columns)) {
    if (values.length !== table.rows) throw new ModnasError('MODNAS_E_TABLE_FORMAT', `column ${name} has ${values.length} entries, expected ${table.rows}`);
  }
  const packed: PackedTable = { format: TABLE_FORMAT, meta: table.meta, rows: table.rows, columns: table.columns };
  const json = JSON.stringify(packed, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v));
  writeFileAtomic(file, gzipSync(Buffer.from(json, 'utf8'), { level: 9 }));
}

/** A value computed once on first use (tables load once per process, however many runs). */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      value = make();
      done = true;
    }
    return value as T;
  };
}
