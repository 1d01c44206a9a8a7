// The event-file encoder against known CRC-32C vectors and a reader written from the format
// (test/read-tfevents.ts: TFRecord framing, the Event/Summary/Value fields): every record's
// checksums verify and every field reads back. The real TensorBoard reader reads a run's files in packages/cli's writers e2e test.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEvent, readRecords } from '../test/read-tfevents.js';
import { EventFileWriter, TF_EVENT_FILE_VERSION, crc32c, encodeEvent, maskedCrc32c, tfRecord } from './tfevents.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'modnas-tfevents-'));
  dirs.push(d);
  return d;
};

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('CRC-32C', () => {
  it('matches the standard check value and the RFC 3720 vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('masks as TFRecord does: rotate right 15, add 0xa282ead8 (mod 2^32)', () => {
    const c = 0xe3069283;
    expect(maskedCrc32c(ascii('123456789'))).toBe(((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) % 2 ** 32);
    // the empty string: crc 0 masks to the constant
    expect(maskedCrc32c(new Uint8Array(0))).toBe(0xa282ead8);
  });
});

describe('TFRecord and Event encoding', () => {
  it('frames data with its length and both masked CRCs', () => {
    const rec = tfRecord(ascii('hello'));
    expect(rec.length).toBe(8 + 4 + 5 + 4);
    expect(Buffer.from(rec.subarray(0, 8))).toEqual(Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]));
    expect(readRecords(rec).map((d) => Buffer.from(d).toString())).toEqual(['hello']);
    const bad = Uint8Array.from(rec);
    bad[13] ^= 1;
    expect(() => readRecords(bad)).toThrow(/bad data crc/);
  });

  it('encodes wall_time, step, file_version and scalar values as their protobuf fields', () => {
    const e = decodeEvent(encodeEvent({ wallTime: 1700000000.25, step: 3, fileVersion: TF_EVENT_FILE_VERSION }));
    expect(e).toEqual({ wallTime: 1700000000.25, step: 3n, fileVersion: 'brain.Event:2', scalars: [] });
    const s = decodeEvent(encodeEvent({ wallTime: 1.5, step: 2 ** 40, scalars: [{ tag: 'search/acc', value: 0.9375 }, { tag: 'search/alpha/α0/MB3E3', value: 0.1 }, { tag: 'x', value: NaN }] }));
    expect(s.step).toBe(2n ** 40n);
    expect(s.scalars.map((x) => x.tag)).toEqual(['search/acc', 'search/alpha/α0/MB3E3', 'x']);
    // simple_value is a float32
    expect(s.scalars[0].value).toBe(0.9375);
    expect(s.scalars[1].value).toBe(Math.fround(0.1));
    expect(s.scalars[2].value).toBeNaN();
    // a step of 0 is still written (readers default it anyway), a negative one as 10-byte two's complement
    expect(decodeEvent(encodeEvent({ wallTime: 0, step: -1 })).step).toBe(-1n);
  });
});

describe('EventFileWriter', () => {
  it('names the file as readers expect and starts it with the file version; records read back in order', () => {
    const dir = tmp();
    const w = new EventFileWriter(dir, { wallTime: 1700000123.9 });
    expect(w.file).toBe(join(dir, `events.out.tfevents.1700000123.${hostname()}`));
    w.addScalars(1, [{ tag: 'warmup/loss', value: 2.5 }, { tag: 'warmup/acc', value: 0.25 }], 1700000124);
    w.addScalars(2, [], 1700000125); // nothing to write: no event
    w.add([
      { wallTime: 1700000126, step: 2, scalars: [{ tag: 'warmup/loss', value: 1.5 }] },
      { wallTime: 1700000127, step: 1, scalars: [{ tag: 'search/best_score', value: 0.5 }] },
    ]);
    const events = readRecords(readFileSync(w.file)).map(decodeEvent);
    expect(events).toEqual([
      { wallTime: 1700000123.9, step: 0n, fileVersion: 'brain.Event:2', scalars: [] },
      { wallTime: 1700000124, step: 1n, scalars: [{ tag: 'warmup/loss', value: 2.5 }, { tag: 'warmup/acc', value: 0.25 }] },
      { wallTime: 1700000126, step: 2n, scalars: [{ tag: 'warmup/loss', value: 1.5 }] },
      { wallTime: 1700000127, step: 1n, scalars: [{ tag: 'search/best_score', value: 0.5 }] },
    ]);
    // a torn last record (a kill mid-write) leaves every record before it readable
    const whole = readFileSync(w.file);
    expect(readRecords(whole.subarray(0, whole.length - 3)).length).toBe(3);
  });

  it('a second writer in the same second opens its own file', () => {
    const dir = tmp();
    const a = new EventFileWriter(dir, { wallTime: 5 });
    const b = new EventFileWriter(dir, { wallTime: 5 });
    expect(b.file).toBe(`${a.file}.1`);
    expect(readdirSync(dir).sort()).toEqual([`events.out.tfevents.5.${hostname()}`, `events.out.tfevents.5.${hostname()}.1`]);
    expect(readRecords(readFileSync(b.file)).map(decodeEvent)[0].fileVersion).toBe(TF_EVENT_FILE_VERSION);
  });
});
