/**
 * How the store writes values as JSON (records, run configs, checkpoint payloads, the JSONL exports)
 * and reads them back: bigints and non-finite numbers become strings, which JSON can hold.
 */

/** JSON.stringify replacer: bigints as strings, non-finite numbers as strings ("NaN", "Infinity"). */
export function jsonSafe(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

/** jsonSafe wrote NaN/Infinity as strings; numbers-as-strings come back as numbers. */
export function reviveNonFinite(v: unknown): unknown {
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (Array.isArray(v)) return v.map(reviveNonFinite);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reviveNonFinite(x)]));
  return v;
}
