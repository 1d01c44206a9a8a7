import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageDecoder } from './decoder.js';
import type { PixelSpec } from './decode.js';
import { checkPixelSpec, isImageFile, normalizePixels, readImagePixels } from './pixels.js';

const tmp = mkdtempSync(join(tmpdir(), 'modnas-kit-image-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A w x h RGB image whose pixel (y, x) is (10 + 40x, 20 + 50y, 200). */
function gradient(w: number, h: number): Buffer {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([10 + 40 * x, 20 + 50 * y, 200], (y * w + x) * 3);
  return raw;
}
const raw3 = { width: 4, height: 3, channels: 3 as const };

async function file(name: string, img: Sharp): Promise<string> {
  const p = join(tmp, name);
  await img.toFile(p);
  return p;
}

async function codedError(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

const same: PixelSpec = { height: 3, width: 4, channels: 3, resize: 'fill' };

describe('readImagePixels', () => {
  it('decodes PNG and lossless WebP to exactly the pixels written, HWC, and JPEG close to them', async () => {
    const want = Array.from(gradient(4, 3));
    const png = await file('g.png', sharp(gradient(4, 3), { raw: raw3 }).png());
    const webp = await file('g.webp', sharp(gradient(4, 3), { raw: raw3 }).webp({ lossless: true }));
    const jpg = await file('g.JPG', sharp(gradient(4, 3), { raw: raw3 }).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }));
    expect(Array.from(await readImagePixels(png, same))).toEqual(want);
    expect(Array.from(await readImagePixels(webp, same))).toEqual(want);
    expect(Array.from(await readImagePixels(readFileSync(png), same))).toEqual(want);
    const j = await readImagePixels(jpg, same);
    expect(j.length).toBe(36);
    expect(Math.max(...Array.from(j, (v, i) => Math.abs(v - want[i])))).toBeLessThanOrEqual(6);
  });

  it('channels 1 is the luminance; channels 3 repeats a grey image', async () => {
    const grey = await file('grey.png', sharp(Buffer.from([0, 128, 255, 60]), { raw: { width: 2, height: 2, channels: 1 } }).png());
    expect(Array.from(await readImagePixels(grey, { height: 2, width: 2, channels: 1, resize: 'fill' }))).toEqual([0, 128, 255, 60]);
    expect(Array.from(await readImagePixels(grey, { height: 2, width: 2, channels: 3, resize: 'fill' }))).toEqual([0, 0, 0, 128, 128, 128, 255, 255, 255, 60, 60, 60]);
    const rgb = await file('rgb.png', sharp(Buffer.from([255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 0]), { raw: { width: 4, height: 1, channels: 3 } }).png());
    const l = Array.from(await readImagePixels(rgb, { height: 1, width: 4, channels: 1, resize: 'fill' }));
    // white, red, green, black: green is brighter than red (luminance weights), both strictly between
    expect(l[0]).toBe(255);
    expect(l[3]).toBe(0);
    expect(l[1]).toBeGreaterThan(0);
    expect(l[2]).toBeGreaterThan(l[1]);
    expect(l[2]).toBeLessThan(255);
  });

  it('flattens transparency onto black and drops alpha', async () => {
    const rgba = await file('a.png', sharp(Buffer.from([200, 100, 50, 255, 200, 100, 50, 128, 200, 100, 50, 0]), { raw: { width: 3, height: 1, channels: 4 } }).png());
    const px = Array.from(await readImagePixels(rgba, { height: 1, width: 3, channels: 3, resize: 'fill' }));
    expect(px.slice(0, 3)).toEqual([200, 100, 50]);
    px.slice(3, 6).forEach((v, i) => expect(Math.abs(v - [100, 50, 25][i])).toBeLessThanOrEqual(1));
    expect(px.slice(6)).toEqual([0, 0, 0]);
  });

  it('applies the EXIF orientation', async () => {
    // stored 16 wide, 8 high: red left half, blue right half; orientation 6 = shown turned 90° clockwise, 8 wide, 16 high: red on top
    const raw = Buffer.alloc(16 * 8 * 3);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) raw.set(x < 8 ? [255, 0, 0] : [0, 0, 255], (y * 16 + x) * 3);
    const p = await file('o.jpg', sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: 6 }));
    const px = await readImagePixels(p, { height: 16, width: 8, channels: 3, resize: 'fill' });
    const at = (y: number, x: number): number[] => Array.from(px.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    expect(at(2, 4)[0]).toBeGreaterThan(230);
    expect(at(2, 4)[2]).toBeLessThan(25);
    expect(at(13, 4)[0]).toBeLessThan(25);
    expect(at(13, 4)[2]).toBeGreaterThan(230);
  });

  it("resize 'fill' ignores the aspect ratio; 'pad' centres the resized image on black (offsets rounded down); 'pad' without inner letterboxes", async () => {
    // 4x2: left half white, right half black
    const half = await file('half.png', sharp(Buffer.from([255, 255, 0, 0, 255, 255, 0, 0]), { raw: { width: 4, height: 2, channels: 1 } }).png());
    // 2x2 from 4x2, no black bars: bright left column, dark right one (libvips' linear kernel widens when it shrinks)
    const [a, b, c, d] = Array.from(await readImagePixels(half, { height: 2, width: 2, channels: 1, resize: 'fill' }));
    expect([c, d]).toEqual([a, b]);
    expect(a).toBeGreaterThan(200);
    expect(b).toBeLessThan(55);
    expect(a + b).toBe(255);
    const white = await file('white.png', sharp({ create: { width: 3, height: 3, channels: 3, background: '#ffffff' } }).png());
    const pad = Array.from(await readImagePixels(white, { height: 6, width: 6, channels: 1, resize: 'pad', inner: [3, 3] }));
    // (6 - 3) >> 1 = 1: rows and columns 1..3 white
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) expect(pad[y * 6 + x]).toBe(y >= 1 && y <= 3 && x >= 1 && x <= 3 ? 255 : 0);
    const box = Array.from(await readImagePixels(half, { height: 4, width: 4, channels: 1, resize: 'pad' }));
    // 4x2 fitted in 4x4: rows 1..2 hold the image, rows 0 and 3 are black
    expect(box.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(box.slice(12)).toEqual([0, 0, 0, 0]);
    expect(box.slice(4, 8)).toEqual([255, 255, 0, 0]);
  });

  it('a truncated PNG, JPEG or WebP, a text file named .png and a missing file throw MODNAS_E_DATA_IMAGE naming the file', async () => {
    for (const [name, img] of [
      ['t.png', sharp(gradient(16, 16), { raw: { width: 16, height: 16, channels: 3 } }).png()],
      ['t.jpg', sharp(gradient(16, 16), { raw: { width: 16, height: 16, channels: 3 } }).jpeg()],
      ['t.webp', sharp(gradient(16, 16), { raw: { width: 16, height: 16, channels: 3 } }).webp()],
    ] as const) {
      const buf = await img.toBuffer();
      const p = join(tmp, `cut-${name}`);
      writeFileSync(p, buf.subarray(0, Math.floor(buf.length * 0.6)));
      const e = await codedError(readImagePixels(p, same));
      expect(e.code, name).toBe('MODNAS_E_DATA_IMAGE');
      expect(e.message).toContain(`cannot read the image ${p}: `);
      expect(e.message).toContain('fix:');
    }
    const text = join(tmp, 'notes.png');
    writeFileSync(text, 'not an image');
    expect((await codedError(readImagePixels(text, same))).message).toContain(`cannot read the image ${text}: `);
    expect((await codedError(readImagePixels(join(tmp, 'gone.png'), same))).code).toBe('MODNAS_E_DATA_IMAGE');
  });

  it('rejects a spec that cannot be an input', async () => {
    expect(() => checkPixelSpec({ height: 0, width: 4, channels: 3, resize: 'fill' })).toThrow(/positive integers/);
    expect(() => checkPixelSpec({ height: 4, width: 4, channels: 2 as unknown as 1, resize: 'fill' })).toThrow(/channels must be 1 or 3/);
    expect(() => checkPixelSpec({ height: 4, width: 4, channels: 1, resize: 'pad', inner: [5, 4] })).toThrow(/fit in 4x4/);
    expect((await codedError(readImagePixels(join(tmp, 'g.png'), { ...same, width: 2.5 }))).code).toBe('MODNAS_E_CONFIG_INVALID');
  });

  it('isImageFile: png, jpg, jpeg, webp in any case', () => {
    expect(['a.png', 'b.JPG', 'c.Jpeg', 'd.webp'].every(isImageFile)).toBe(true);
    expect(['a.gif', 'b.txt', 'png', '.DS_Store', 'x.png.bak'].some(isImageFile)).toBe(false);
  });
});

describe('normalizePixels', () => {
  it('(p/255 - mean) / std per channel, float32', () => {
    const out = normalizePixels(Uint8Array.from([0, 255, 51, 255, 0, 102]), { height: 1, width: 2, channels: 3, resize: 'fill', mean: [0.5, 0, 0.2], std: [0.5, 2, 0.4] });
    expect(out).toBeInstanceOf(Float32Array);
    const f = Math.fround;
    expect(Array.from(out)).toEqual([-1, 0.5, f((f(51 / 255) - 0.2) / 0.4), 1, 0, f((f(102 / 255) - 0.2) / 0.4)]);
    expect(() => normalizePixels(new Uint8Array(3), { height: 1, width: 1, channels: 3, resize: 'fill', mean: [0], std: [1] })).toThrow(/mean and std need 3 values/);
  });
});

describe('ImageDecoder (a worker thread, waited for synchronously)', () => {
  it('decodes a job to the pixels readImagePixels gives, reports failed files by index, and overlaps jobs', async () => {
    const good = join(tmp, 'g.png');
    const webp = join(tmp, 'g.webp');
    const cut = join(tmp, 'cut-t.png');
    const d = new ImageDecoder(same, { concurrency: 2 });
    try {
      const one = readImagePixels(good, same);
      const first = d.request([good, cut, webp]);
      const second = d.request([webp]);
      // taken out of order: the first reply waits in the port until asked for
      const b = d.wait(second);
      const a = d.wait(first);
      const px = Array.from(await one);
      expect(Array.from(a.pixels.subarray(0, 36))).toEqual(px);
      expect(Array.from(a.pixels.subarray(36, 72))).toEqual(new Array(36).fill(0));
      expect(Array.from(a.pixels.subarray(72))).toEqual(px);
      expect(a.failed).toHaveLength(1);
      expect(a.failed[0].index).toBe(1);
      expect(a.failed[0].error).not.toBe(''); // sharp's own words for a truncated PNG vary (often 'Unknown error'); the index names the file
      expect(Array.from(b.pixels)).toEqual(px);
      expect(b.failed).toEqual([]);
      // a cancelled job's reply is dropped; waiting for it is a mistake
      const dropped = d.request([good]);
      d.cancel(dropped);
      expect(d.decode([webp]).failed).toEqual([]);
      expect(() => d.wait(dropped)).toThrow(/never requested, or was cancelled/);
      // closed: the next request starts a new thread
      d.close();
      expect(d.decode([good, good]).pixels.length).toBe(72);
    } finally {
      d.close();
    }
  });
});
