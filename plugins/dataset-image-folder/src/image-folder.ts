import { resolve } from 'node:path';
import type { Batch, BatchOptions, DataSplit, Dataset, ImagePreprocess, Logger } from '@modnas/core';
import { ModnasError, Rng, defineComponent, tf, z } from '@modnas/core';
import type { AugmentConfig } from '@modnas/kit-estim';
import { augmentSchema, augments, describeAugment, imageBatch } from '@modnas/kit-estim';
import type { PixelSpec } from '@modnas/kit-image';
import type { PendingImages } from './image-store.js';
import { ImageStore } from './image-store.js';
import type { FileList } from './scan.js';
import { scanImageFolder } from './scan.js';

/** At most this many training images give the per-channel statistics of normalize: auto. */
export const AUTO_STATS_IMAGES = 1000;

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export const imageFolderSchema = z.strictObject({
  path: z.string().default('data/images').describe('Folder with one folder of images per class (<path>/<class>/*.png|jpg|jpeg|webp), or with train/, val/ (or valid/) and test/ folders that each hold the class folders'),
  image_size: z
    .union([z.number().int().min(1).max(4096), z.tuple([z.number().int().min(1).max(4096), z.number().int().min(1).max(4096)])])
    .default(32)
    .describe('Input size of the network: a side, or [height, width]; every image is resized to it'),
  channels: z.union([z.literal(1), z.literal(3)]).default(3).describe('3: RGB (alpha flattened onto black); 1: grey (the luminance)'),
  resize: z.enum(['fill', 'pad']).default('fill').describe("'fill': bilinear resize to image_size, aspect ratio not kept; 'pad': keep the aspect ratio, fit inside image_size and centre on black"),
  normalize: z
    .union([z.enum(['auto', 'none', 'imagenet']), z.strictObject({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) })])
    .default('auto')
    .describe(`'auto': per-channel mean and std of the training images (a sample of at most ${AUTO_STATS_IMAGES}, evenly spaced over the sorted file list); 'none': pixels in [0, 1]; 'imagenet': mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225); or { mean: [...], std: [...] }, one value per channel`),
  on_bad_image: z.enum(['skip', 'error']).default('skip').describe("A file that cannot be decoded (corrupt, truncated): 'skip' leaves it out of its batch and names it in the log; 'error' stops the run (MODNAS_E_DATA_IMAGE)"),
  cache_mb: z.number().min(0).default(256).describe('Memory for decoded images (MB): the first images decoded stay there, the rest are decoded again each time a batch needs them; 0 = decode every time'),
  augment: augmentSchema(),
});
export type ImageFolderConfig = z.output<typeof imageFolderSchema>;

/** A Dataset of image files; what it found bad is in `skipped` as the run finds it. */
export interface ImageFolderDataset extends Dataset {
  readonly classes: readonly string[];
  readonly preprocess: ImagePreprocess;
  /** Files skipped as bad so far (on_bad_image: skip), in the order found. */
  readonly skipped: readonly string[];
}

interface Source {
  readonly list: FileList;
  readonly store: ImageStore;
  readonly shape: [number, number, number];
  readonly norm?: { mean: number[]; std: number[] };
  readonly augment: AugmentConfig;
}

/**
 * A split of image files, decoded per batch on the store's decoder thread: the next batch decodes
 * while the current one trains. A bad file is left out of its batch (so a batch can be smaller;
 * one with no good file is not yielded), and the random draws stay the same whichever run first
 * finds it bad: shuffles are over every file, augmentation draws per image kept.
 */
export class ImageFolderSplit implements DataSplit {
  constructor(
    private readonly src: Source,
    private readonly indices?: readonly number[],
  ) {}

  get size(): number {
    return this.indices?.length ?? this.src.list.files.length;
  }

  subset(indices: readonly number[]): DataSplit {
    const base = this.indices;
    return new ImageFolderSplit(this.src, base ? indices.map((i) => base[i]) : indices);
  }

  *batches(batchSize: number, opts: BatchOptions = {}): Iterable<Batch> {
    const { list, store, shape, norm } = this.src;
    const n = this.size;
    const order = Array.from({ length: n }, (_, i) => (this.indices ? this.indices[i] : i));
    const rng = opts.rng ?? new Rng(0);
    if (opts.shuffle) rng.shuffle(order);
    const augment = opts.augment && augments(this.src.augment) ? this.src.augment : undefined;
    const starts: number[] = [];
    for (let s = 0; s < n; s += batchSize) {
      if (opts.dropLast && s + batchSize > n) break;
      starts.push(s);
    }
    const per = shape[0] * shape[1] * shape[2];
    const members = (k: number): number[] => order.slice(starts[k], Math.min(starts[k] + batchSize, n));
    const pending = new Map<number, PendingImages>();
    const ask = (k: number): void => {
      if (k < starts.length && !pending.has(k)) pending.set(k, store.request(members(k).map((i) => list.files[i])));
    };
    try {
      for (let k = 0; k < starts.length; k++) {
        ask(k);
        // the next batch decodes while this one trains
        ask(k + 1);
        const p = pending.get(k)!;
        pending.delete(k);
        const got = store.collect(p);
        const idx = members(k);
        const px = new Uint8Array(idx.length * per);
        const ys: number[] = [];
        got.forEach((g, j) => {
          if (!g) return;
          px.set(g, ys.length * per);
          ys.push(list.labels[idx[j]]);
        });
        if (ys.length === 0) continue;
        yield { x: imageBatch(px, ys.length, shape, { norm, augment, rng }), y: tf.tensor1d(ys, 'int32') };
      }
    } finally {
      for (const p of pending.values()) store.cancel(p);
    }
  }
}

/** Per-channel mean and std of pixels in [0, 1] over at most `max` images evenly spaced over the list. */
export function channelStats(list: FileList, store: ImageStore, max = AUTO_STATS_IMAGES): { mean: number[]; std: number[]; images: number } {
  const c = store.spec.channels;
  const n = list.files.length;
  const k = Math.min(n, max);
  const picks = Array.from({ length: k }, (_, i) => list.files[Math.floor((i * n) / k)]);
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  let images = 0;
  let values = 0;
  for (let s = 0; s < picks.length; s += 256) {
    for (const px of store.collect(store.request(picks.slice(s, s + 256)))) {
      if (!px) continue;
      images++;
      values += px.length / c;
      for (let j = 0; j < px.length; j++) {
        const v = px[j] / 255;
        sum[j % c] += v;
        sq[j % c] += v * v;
      }
    }
  }
  if (images === 0) {
    throw new ModnasError('MODNAS_E_DATA_NO_IMAGES', `ImageFolder: none of the ${k} training images sampled for normalize: auto could be decoded`, {
      fix: 'check the image files (the log names each one skipped), or give normalize: { mean: [...], std: [...] }',
    });
  }
  const mean = Array.from(sum, (v) => v / values);
  // a constant channel (all black) has std 0: leave its scale alone
  const std = Array.from(sq, (v, i) => Math.sqrt(Math.max(v / values - mean[i] * mean[i], 0))).map((s) => (s > 1e-6 ? s : 1));
  const r = (v: number): number => Number(v.toPrecision(6));
  return { mean: mean.map(r), std: std.map(r), images };
}

function resolveNorm(c: ImageFolderConfig, list: FileList, store: ImageStore, logger: Logger, where: string): { mean: number[]; std: number[] } | undefined {
  const ch = c.channels;
  if (c.normalize === 'none') return undefined;
  if (c.normalize === 'imagenet') {
    if (ch !== 3) throw new ModnasError('MODNAS_E_CONFIG_INVALID', "ImageFolder: normalize 'imagenet' has RGB statistics, but channels is 1", { fix: "use normalize: auto (or { mean: [m], std: [s] }) with channels: 1", where: `${where}.normalize` });
    return { mean: [...IMAGENET.mean], std: [...IMAGENET.std] };
  }
  if (c.normalize === 'auto') {
    const t0 = Date.now();
    const s = channelStats(list, store);
    logger.info(`ImageFolder: normalize auto: mean [${s.mean.join(', ')}], std [${s.std.join(', ')}] from ${s.images} of ${list.files.length} training images (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return { mean: s.mean, std: s.std };
  }
  const { mean, std } = c.normalize;
  if (mean.length !== ch || std.length !== ch) {
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', `ImageFolder: normalize has ${mean.length} means and ${std.length} stds for ${ch} channel${ch > 1 ? 's' : ''}`, { fix: `give ${ch} of each`, where: `${where}.normalize` });
  }
  return { mean: [...mean], std: [...std] };
}

/** Scan the folder, measure the normalisation, and make the splits (nothing else is decoded yet). */
export function imageFolderDataset(c: ImageFolderConfig, logger: Logger, where = 'data'): ImageFolderDataset {
  const root = resolve(c.path);
  const scan = scanImageFolder(root, `${where}.path`);
  const [height, width] = typeof c.image_size === 'number' ? [c.image_size, c.image_size] : c.image_size;
  const spec: PixelSpec = { height, width, channels: c.channels, resize: c.resize };
  const store = new ImageStore(spec, c.cache_mb * 2 ** 20, c.on_bad_image, logger, where);
  const shape: [number, number, number] = [height, width, c.channels];
  const counts = (l: FileList): string => l.files.length.toLocaleString('en-US');
  logger.info(
    `ImageFolder: ${root}: ${scan.classes.length} classes (${scan.classes.slice(0, 10).join(', ')}${scan.classes.length > 10 ? ', ...' : ''}); train ${counts(scan.train)} images${scan.val ? `, val ${counts(scan.val)}` : ''}${scan.test ? `, test ${counts(scan.test)}` : ''}; resized to ${height}x${width} (${c.resize}), ${c.channels} channel${c.channels > 1 ? 's' : ''}, decoded per batch (cache ${c.cache_mb} MB)`,
  );
  for (const note of scan.notes) logger.info(`ImageFolder: ${note}`);
  if (scan.val && scan.test) logger.info('ImageFolder: test/ is the test split; val/ is the dataset\'s `valid` split');
  else if (scan.val) logger.info('ImageFolder: val/ is the test split (data_provider.train_portion: 1 validates on it)');
  const norm = resolveNorm(c, scan.train, store, logger, where);
  if (augments(c.augment)) logger.info(`ImageFolder: augmentation: ${describeAugment(c.augment, shape)}`);
  const split = (list: FileList): ImageFolderSplit => new ImageFolderSplit({ list, store, shape, norm, augment: c.augment });
  const heldOut = scan.test ?? scan.val;
  return {
    name: 'ImageFolder',
    inputShape: shape,
    numClasses: scan.classes.length,
    classes: scan.classes,
    preprocess: { ...spec, mean: norm?.mean ?? Array<number>(c.channels).fill(0), std: norm?.std ?? Array<number>(c.channels).fill(1) },
    train: split(scan.train),
    test: heldOut ? split(heldOut) : undefined,
    valid: scan.val && scan.test ? split(scan.val) : undefined,
    skipped: store.skipped,
  };
}

export const imageFolder = defineComponent({
  kind: 'dataset',
  id: 'ImageFolder',
  aliases: ['ImageFolderDataset'],
  description: 'Your own images: one folder of PNG, JPEG or WebP files per class (optionally under train/, val/, test/), resized, normalised and decoded per batch; corrupt files skipped and named in the log',
  schema: imageFolderSchema,
  create(config, ctx) {
    return imageFolderDataset(config, ctx.logger, ctx.where);
  },
});
