// A reader of TensorBoard event files written here from the format, for tests only (the writer is
// src/tfevents.ts): TFRecords with both masked CRC-32C checked, then the Event, Summary and Value
// fields. Anything else in a record fails the read, so a test sees every field the writer wrote.
import { readFileSync } from 'node:fs';
import { crc32c } from '../src/tfevents.js';

const mask = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

/** The records of a file, each after checking its CRCs; a torn last record (a kill mid-write) ends the list. */
export function readRecords(buf: Uint8Array): Uint8Array[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at + 12 <= buf.length) {
    const len = Number(view.getBigUint64(at, true));
    if (view.getUint32(at + 8, true) !== mask(crc32c(buf.subarray(at, at + 8)))) throw new Error(`bad length crc at ${at}`);
    if (at + 12 + len + 4 > buf.length) break;
    const data = buf.subarray(at + 12, at + 12 + len);
    if (view.getUint32(at + 12 + len, true) !== mask(crc32c(data))) throw new Error(`bad data crc at ${at}`);
    out.push(data);
    at += 16 + len;
  }
  return out;
}

interface Field {
  field: number;
  wire: number;
  value: bigint | number | Uint8Array;
}

/** The fields of a protobuf message (varint, fixed64 read as double, fixed32 as float, length-delimited). */
function fields(b: Uint8Array): Field[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const x = b[at++];
      v |= BigInt(x & 0x7f) << shift;
      if (!(x & 0x80)) return v;
    }
  };
  while (at < b.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) {
      out.push({ field, wire, value: view.getFloat64(at, true) });
      at += 8;
    } else if (wire === 5) {
      out.push({ field, wire, value: view.getFloat32(at, true) });
      at += 4;
    } else if (wire === 2) {
      const n = Number(varint());
      out.push({ field, wire, value: b.subarray(at, at + n) });
      at += n;
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

export interface DecodedEvent {
  wallTime?: number;
  step?: bigint;
  fileVersion?: string;
  scalars: Array<{ tag: string; value: number }>;
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

export function decodeEvent(b: Uint8Array): DecodedEvent {
  const e: DecodedEvent = { scalars: [] };
  for (const f of fields(b)) {
    if (f.field === 1 && f.wire === 1) e.wallTime = f.value as number;
    else if (f.field === 2 && f.wire === 0) e.step = BigInt.asIntN(64, f.value as bigint);
    else if (f.field === 3 && f.wire === 2) e.fileVersion = text(f.value as Uint8Array);
    else if (f.field === 5 && f.wire === 2) {
      for (const v of fields(f.value as Uint8Array)) {
        if (v.field !== 1 || v.wire !== 2) throw new Error(`Summary field ${v.field}/${v.wire}`);
        const s = { tag: '', value: NaN };
        for (const x of fields(v.value as Uint8Array)) {
          if (x.field === 1 && x.wire === 2) s.tag = text(x.value as Uint8Array);
          else if (x.field === 2 && x.wire === 5) s.value = x.value as number;
          else throw new Error(`Value field ${x.field}/${x.wire}`);
        }
        e.scalars.push(s);
      }
    } else throw new Error(`Event field ${f.field}/${f.wire}`);
  }
  return e;
}

/** Every event of a file, in order. */
export const readEventFile = (file: string): DecodedEvent[] => readRecords(readFileSync(file)).map(decodeEvent);

/** tag -> [step, value] in file order (what a reader plots). */
export function scalarsByTag(events: readonly DecodedEvent[]): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const e of events) for (const s of e.scalars) out.set(s.tag, [...(out.get(s.tag) ?? []), [Number(e.step ?? 0n), s.value]]);
  return out;
}
