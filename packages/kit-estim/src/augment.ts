/**
 * Image batches as the network gets them: pixels scaled, augmented (random crop with padding,
 * horizontal flip, cutout) and normalised, in one pass over the batch. Every split of images
 * (ArraySplit, dataset plugins of image files) builds its batches here, so augmentation is the same
 * everywhere and draws its random numbers in one documented order.
 */
import type { Rng } from '@modnas/core';
import { tf, z } from '@modnas/core';

/** Augmentation of training batches (config keys as a dataset's `augment` option has them). */
export interface AugmentConfig {
  /** Random crop: pad each side by this many black pixels, then take an image-sized window at a random offset (0: off). */
  crop_padding: number;
  /** Mirror half the images left to right. */
  flip: boolean;
  /** Cutout: side of each square hole, zeroed after normalisation (0: off). */
  cutout: number;
  /** Cutout holes per image. */
  cutout_holes: number;
}

export const NO_AUGMENT: AugmentConfig = { crop_padding: 0, flip: false, cutout: 0, cutout_holes: 1 };

/**
 * The `augment` option of a dataset, with that dataset's defaults (CIFAR10: crop_padding 4 and
 * flip; a folder of your images: off).
 */
export function augmentSchema(defaults: Partial<AugmentConfig> = {}) {
  const d = { ...NO_AUGMENT, ...defaults };
  return z
    .strictObject({
      crop_padding: z.number().int().min(0).default(d.crop_padding).describe('Random crop: pad each side with this many black pixels, then crop back to the image size at a random offset (CIFAR: 4); 0 = off'),
      flip: z.boolean().default(d.flip).describe('Random horizontal flip (each image with probability 0.5)'),
      cutout: z.number().int().min(0).default(d.cutout).describe('Cutout: side in pixels of square holes set to 0 after normalisation (DARTS on CIFAR: 16); 0 = off'),
      cutout_holes: z.number().int().min(1).default(d.cutout_holes).describe('Cutout holes per image'),
    })
    .default(d)
    .describe('Augmentation of the batches that train weights (never of validation, test or batch-norm recalibration batches), drawn from the run\'s seeded random streams');
}

/** Whether any augmentation is on. */
export function augments(a: AugmentConfig | undefined): a is AugmentConfig {
  return a !== undefined && (a.crop_padding > 0 || a.flip || a.cutout > 0);
}

/** One line for the log: "random crop 32 (pad 4), horizontal flip", or "none". */
export function describeAugment(a: AugmentConfig | undefined, shape: readonly [number, number, ...number[]]): string {
  if (!augments(a)) return 'none';
  const [h, w] = shape;
  const parts: string[] = [];
  if (a.crop_padding > 0) parts.push(`random crop ${h === w ? h : `${h}x${w}`} (pad ${a.crop_padding})`);
  if (a.flip) parts.push('horizontal flip');
  if (a.cutout > 0) parts.push(`cutout ${a.cutout_holes > 1 ? `${a.cutout_holes} holes of ` : ''}${a.cutout}x${a.cutout}`);
  return parts.join(', ');
}

export interface ImageBatchOptions {
  /** Per-channel mean and std: x = (v - mean) / std, on v in [0, 1] for uint8 pixels. */
  norm?: { mean: readonly number[]; std: readonly number[] };
  /** Augmentation to apply (omit for evaluation batches). */
  augment?: AugmentConfig;
  /** Where the augmentation's random numbers come from (required with augment). */
  rng?: Rng;
}

/**
 * A batch tensor [n, h, w, c] from n images stored one after another (HWC each): uint8 pixels are
 * scaled to [0, 1], float pixels taken as they are; then, with `augment`, each image is cropped
 * from its black-padded copy at a random offset and mirrored at random; then normalised; then
 * cutout sets its holes to 0 (after normalisation, as DeVries & Taylor and DARTS do). Random draws,
 * per image in batch order: crop row offset and column offset (rng.int(2p + 1) each, when
 * crop_padding p > 0), flip (rng.next() < 0.5, when flip), and per cutout hole its centre row and
 * column (rng.int(h), rng.int(w); the hole spans centre ± floor(size / 2), clipped to the image).
 * One pass over the output, with a lookup table for uint8 pixels: on this engine tfjs' gather and
 * pad kernels are JavaScript loops of their own, an order of magnitude slower for this job.
 */
export function imageBatch(pixels: Uint8Array | Float32Array, n: number, shape: readonly [number, number, number], opts: ImageBatchOptions = {}): tf.Tensor4D {
  const [h, w, c] = shape;
  const per = h * w * c;
  if (pixels.length < n * per) throw new RangeError(`imageBatch: ${pixels.length} values for ${n} images of ${h}x${w}x${c}`);
  const out = new Float32Array(n * per);
  const mean = opts.norm?.mean;
  const std = opts.norm?.std;
  const u8 = pixels instanceof Uint8Array;
  // value of byte v in channel ch, from a lookup table: v/255 rounded to float32 first, then
  // normalised (the arithmetic of kit-image's normalizePixels, so prediction sees the same inputs)
  const lut = u8 ? new Float32Array(256 * c) : undefined;
  if (lut) {
    for (let ch = 0; ch < c; ch++) {
      for (let v = 0; v < 256; v++) {
        const s = Math.fround(v * (1 / 255));
        lut[ch * 256 + v] = mean && std ? (s - mean[ch]) / std[ch] : s;
      }
    }
  }
  const conv = (v: number, ch: number): number => (lut ? lut[ch * 256 + v] : mean && std ? (v - mean[ch]) / std[ch] : v);
  // the black padding of random crops, normalised
  const black = Array.from({ length: c }, (_, ch) => conv(0, ch));
  const aug = opts.augment;
  const p = aug?.crop_padding ?? 0;
  const flip = aug?.flip === true;
  const holes = aug && aug.cutout > 0 ? aug.cutout_holes : 0;
  if ((p > 0 || flip || holes > 0) && !opts.rng) throw new Error('imageBatch: augmentation needs an rng');
  const rng = opts.rng!;
  const rowFrom = new Int32Array(w);
  for (let i = 0; i < n; i++) {
    const src = i * per;
    const oy = p > 0 ? rng.int(2 * p + 1) - p : 0;
    const ox = p > 0 ? rng.int(2 * p + 1) - p : 0;
    const mirror = flip && rng.next() < 0.5;
    if (oy === 0 && ox === 0 && !mirror) {
      if (lut) for (let j = 0; j < per; j++) out[src + j] = lut[(j % c) * 256 + pixels[src + j]];
      else for (let j = 0; j < per; j++) out[src + j] = conv(pixels[src + j], j % c);
    } else {
      // output column q reads input column rowFrom[q] (-1: padding)
      for (let q = 0; q < w; q++) {
        const sq = (mirror ? w - 1 - q : q) + ox;
        rowFrom[q] = sq >= 0 && sq < w ? sq : -1;
      }
      for (let r = 0; r < h; r++) {
        const sr = r + oy;
        const o = src + r * w * c;
        for (let q = 0; q < w; q++) {
          const sq = rowFrom[q];
          const oq = o + q * c;
          if (sr < 0 || sr >= h || sq < 0) {
            for (let ch = 0; ch < c; ch++) out[oq + ch] = black[ch];
          } else {
            const s = src + (sr * w + sq) * c;
            for (let ch = 0; ch < c; ch++) out[oq + ch] = conv(pixels[s + ch], ch);
          }
        }
      }
    }
    for (let k = 0; k < holes; k++) {
      const cy = rng.int(h);
      const cx = rng.int(w);
      const half = aug!.cutout >> 1;
      const y1 = Math.max(cy - half, 0);
      const y2 = Math.min(cy + half, h);
      const x1 = Math.max(cx - half, 0);
      const x2 = Math.min(cx + half, w);
      for (let y = y1; y < y2; y++) out.fill(0, src + (y * w + x1) * c, src + (y * w + x2) * c);
    }
  }
  return tf.tensor4d(out, [n, h, w, c]);
}
