/**
 * TensorBoard event files, written by hand: the format is TFRecord framing around `Event` protocol
 * buffers, and a scalar needs five fields of three messages, so no protobuf library is needed.
 *   TFRecord: uint64 LE length, uint32 LE masked CRC32C of those 8 bytes, data, uint32 LE masked CRC32C of data
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5 }
 *   Summary { repeated Value value = 1 }
 *   Value   { string tag = 1; float simple_value = 2 }
 * The first event of a file carries file_version "brain.Event:2" (readers take it as the format
 * version). Files are named events.out.tfevents.<unix seconds>.<hostname>: readers find event files
 * by "tfevents" in the name.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { appendFileWhole } from './atomic.js';
import { DISK_SITES } from './fault-points.js';

// ---------------------------------------------------------------- CRC32C

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord framing. */
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotated right by 15 bits plus a constant (a CRC of data holding CRCs stays strong). */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, its masked CRC, the data, the data's masked CRC. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

// ---------------------------------------------------------------- protobuf

/** The few protobuf wire types an Event needs, appended to a growing list of byte chunks. */
class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(v: number | bigint): void {
    let x = BigInt(v);
    if (x < 0n) x = BigInt.asUintN(64, x); // int64 negatives are ten bytes, as two's complement
    const bytes: number[] = [];
    while (x > 0x7fn) {
      bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    bytes.push(Number(x));
    this.push(Uint8Array.from(bytes));
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  double(field: number, v: number): this {
    this.key(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.push(b);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  int64(field: number, v: number): this {
    this.key(field, 0);
    this.varint(Math.trunc(v));
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** A scalar for TensorBoard: its tag (a "/" groups tags into sections) and value (stored as float32). */
export interface Scalar {
  tag: string;
  value: number;
}

export interface TfEvent {
  /** Seconds since the epoch (fractions allowed). */
  wallTime: number;
  step: number;
  /** Only the first event of a file: "brain.Event:2". */
  fileVersion?: string;
  scalars?: readonly Scalar[];
}

/** The file version readers expect in the first event. */
export const TF_EVENT_FILE_VERSION = 'brain.Event:2';

/** An Event message (protobuf bytes, unframed). */
export function encodeEvent(e: TfEvent): Uint8Array {
  const w = new ProtoWriter().double(1, e.wallTime).int64(2, e.step);
  if (e.fileVersion !== undefined) w.string(3, e.fileVersion);
  if (e.scalars?.length) {
    const summary = new ProtoWriter();
    for (const s of e.scalars) summary.bytes(1, new ProtoWriter().string(1, s.tag).float(2, s.value).finish());
    w.bytes(5, summary.finish());
  }
  return w.finish();
}

// ---------------------------------------------------------------- the file

export interface EventFileOptions {
  /** The write site for the fault suite's MODNAS_TEST_DISK_FULL_AT (default DISK_SITES.writer). */
  site?: string;
  /** Seconds since the epoch for the file's name and first event (default: now). */
  wallTime?: number;
}

/**
 * An append-only TensorBoard event file in `dir` (which must exist). Each call to `add` appends its
 * events whole (appendFileWhole: a full disk cuts the file back and throws), so a run killed at any
 * point leaves a file that readers read up to its last complete call.
 */
export class EventFileWriter {
  /** The file's path: <dir>/events.out.tfevents.<unix seconds>.<hostname>[.<n>]. */
  readonly file: string;
  private readonly site: string;

  constructor(dir: string, opts: EventFileOptions = {}) {
    const wallTime = opts.wallTime ?? Date.now() / 1000;
    const base = join(dir, `events.out.tfevents.${Math.floor(wallTime)}.${hostname()}`);
    // two writers in one second (a run resumed at once) get two files, not one with two headers
    let file = base;
    for (let n = 1; existsSync(file); n++) file = `${base}.${n}`;
    this.file = file;
    this.site = opts.site ?? DISK_SITES.writer;
    appendFileWhole(this.file, tfRecord(encodeEvent({ wallTime, step: 0, fileVersion: TF_EVENT_FILE_VERSION })), { site: this.site });
  }

  /** Append events (one per step) in one write. */
  add(events: readonly TfEvent[]): void {
    if (events.length === 0) return;
    const records = events.map((e) => tfRecord(encodeEvent(e)));
    appendFileWhole(this.file, Buffer.concat(records), { site: this.site });
  }

  /** Append one event of scalars at `step`. */
  addScalars(step: number, scalars: readonly Scalar[], wallTime = Date.now() / 1000): void {
    if (scalars.length > 0) this.add([{ wallTime, step, scalars }]);
  }
}
