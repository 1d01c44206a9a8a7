import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64 as browserFrom, toBase64 as browserTo } from './base64.browser.js';
import { fromBase64, toBase64 } from './base64.js';
import { sha256Hex as browserSha256 } from './host.browser.js';
import { sha256Hex } from './host.js';

describe("the services' browser modules give what their Node versions give", () => {
  it("the browser build's SHA-256 gives node:crypto's digest, at every padding boundary and for strings", () => {
    let seed = 7;
    const byte = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) & 0xff;
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 1000, 100_003]) {
      const data = Uint8Array.from({ length: n }, byte);
      const want = createHash('sha256').update(data).digest('hex');
      expect(browserSha256(data), `${n} bytes`).toBe(want);
      expect(sha256Hex(data)).toBe(want);
    }
    expect(browserSha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(browserSha256('größe ✓')).toBe(createHash('sha256').update('größe ✓').digest('hex'));
  });

  it("the browser build's base64 (weights) gives Buffer's, both ways, past its chunk size", () => {
    for (const n of [0, 1, 2, 3, 0x8000 + 5, 100_001]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7919 + n) & 0xff);
      const b64 = toBase64(bytes);
      expect(browserTo(bytes), `${n} bytes`).toBe(b64);
      expect(new Uint8Array(browserFrom(b64))).toEqual(bytes);
      expect(new Uint8Array(fromBase64(b64))).toEqual(bytes);
    }
  });
});
