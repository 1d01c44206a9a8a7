import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Dataset, ImagePreprocess, Logger } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { ArraySplit, augmentSchema, augments, describeAugment } from '@modnas/kit-estim';
import type { PyValue } from './pickle.js';
import { NdArray, unpickle } from './pickle.js';

export const cifar10Schema = z.strictObject({
  path: z
    .string()
    .default('data/cifar10')
    .describe('Folder with the CIFAR-10 binary files (data_batch_1..5.bin, test_batch.bin) or python files (data_batch_1..5, test_batch), or its parent holding cifar-10-batches-bin/ or cifar-10-batches-py/'),
  normalize: z.enum(['cifar', 'none', 'symmetric']).default('cifar').describe("'cifar': per-channel mean (0.4914, 0.4822, 0.4465) and std (0.2470, 0.2435, 0.2616); 'none': [0, 1]; 'symmetric': [-1, 1]"),
  train_batches: z.number().int().min(1).max(5).default(5).describe('How many of data_batch_1..5.bin to read (10,000 images each)'),
  test: z.boolean().default(true).describe('Read test_batch(.bin) as the test split'),
  augment: augmentSchema({ crop_padding: 4, flip: true }),
});
export type Cifar10Config = z.output<typeof cifar10Schema>;

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;
const NORM = {
  cifar: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  symmetric: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
} as const;

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

/** n images of 3 colour planes (1024 red, 1024 green, 1024 blue bytes, rows first) at `first + i * stride` of buf, as NHWC. */
function planesToNhwc(buf: Uint8Array, n: number, stride: number, first: number): Uint8Array {
  const images = new Uint8Array(n * 3 * PLANE);
  for (let i = 0; i < n; i++) {
    const r = first + i * stride;
    const o = i * 3 * PLANE;
    for (let p = 0; p < PLANE; p++) {
      images[o + 3 * p] = buf[r + p];
      images[o + 3 * p + 1] = buf[r + PLANE + p];
      images[o + 3 * p + 2] = buf[r + 2 * PLANE + p];
    }
  }
  return images;
}

/**
 * Decode CIFAR-10 binary records (1 label byte, then 1024 red, 1024 green, 1024 blue bytes, rows
 * first) into NHWC uint8 images and labels.
 */
export function decodeCifarRecords(buf: Uint8Array, file = 'CIFAR-10 file'): { images: Uint8Array; labels: Uint8Array } {
  if (buf.length === 0 || buf.length % RECORD !== 0) {
    throw new ModnasError('MODNAS_E_DATA_FORMAT', `CIFAR10: ${file} has ${buf.length} bytes, not a whole number of ${RECORD}-byte records`, {
      fix: 'use the CIFAR-10 binary version (cifar-10-binary.tar.gz) or the python version (cifar-10-python.tar.gz), not the matlab one',
    });
  }
  const n = buf.length / RECORD;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = buf[i * RECORD];
    if (label > 9) throw new ModnasError('MODNAS_E_DATA_FORMAT', `CIFAR10: ${file} record ${i} has label ${label} (expected 0-9)`);
    labels[i] = label;
  }
  return { images: planesToNhwc(buf, n, RECORD, 1), labels };
}

/**
 * Decode one file of the CIFAR-10 python version (data_batch_1 ... test_batch): a pickled dict with
 * b'data', a numpy uint8 array of n x 3072 (the colour planes of each image), and b'labels', a list
 * of n ints in 0-9. Returns NHWC uint8 images and the labels.
 */
export function decodeCifarPickle(buf: Uint8Array, file = 'CIFAR-10 file'): { images: Uint8Array; labels: Uint8Array } {
  const bad = (what: string): ModnasError =>
    new ModnasError('MODNAS_E_DATA_FORMAT', `CIFAR10: ${file} ${what}`, {
      fix: 'use the files of the CIFAR-10 python version (cifar-10-python.tar.gz) as downloaded, or its binary version',
      where: file,
    });
  const d: PyValue = unpickle(buf, `CIFAR10: ${file}`);
  if (!(d instanceof Map)) throw bad('does not hold a dict');
  const data = d.get('data');
  const labels = d.get('labels');
  if (!(data instanceof NdArray)) throw bad(`has no 'data' array${d.has('fine_labels') ? ' (it looks like CIFAR-100, which has fine_labels)' : ''}`);
  if (!Array.isArray(labels)) throw bad(`has no 'labels' list${d.has('fine_labels') ? ' (it holds fine_labels: CIFAR-100, not CIFAR-10)' : ''}`);
  const [n, per] = data.shape;
  if (data.dtype !== 'u1' || data.shape.length !== 2 || per !== 3 * PLANE || data.fortran) throw bad(`has a 'data' array of ${data.dtype} [${data.shape.join(', ')}]${data.fortran ? ' in Fortran order' : ''}, expected uint8 [n, 3072] in C order`);
  if (data.data.length !== n * per) throw bad(`has ${data.data.length} bytes of pixels for [${n}, ${per}]: truncated`);
  if (labels.length !== n) throw bad(`has ${labels.length} labels for ${n} images`);
  const out = new Uint8Array(n);
  labels.forEach((l, i) => {
    if (typeof l !== 'number' || !Number.isInteger(l) || l < 0 || l > 9) throw bad(`has label ${String(l)} at ${i} (expected 0-9)`);
    out[i] = l;
  });
  return { images: planesToNhwc(data.data, n, per, 0), labels: out };
}

type CifarFormat = 'binary' | 'python';
const SUFFIX: Record<CifarFormat, string> = { binary: '.bin', python: '' };

/** The folder holding the batch files and their version: `path` itself, or `path`/cifar-10-batches-bin (or -py). */
export function cifarDir(path: string): { dir: string; format: CifarFormat } {
  const p = resolve(path);
  const has = (dir: string, f: CifarFormat): boolean => existsSync(join(dir, `data_batch_1${SUFFIX[f]}`)) || existsSync(join(dir, `test_batch${SUFFIX[f]}`));
  for (const [dir, f] of [
    [p, 'binary'],
    [p, 'python'],
    [join(p, 'cifar-10-batches-bin'), 'binary'],
    [join(p, 'cifar-10-batches-py'), 'python'],
  ] as const) {
    if (has(dir, f)) return { dir, format: f };
  }
  return { dir: p, format: 'binary' };
}

function readFiles(dir: string, files: string[], format: CifarFormat): { images: Uint8Array; labels: Uint8Array } {
  const parts = files.map((f) => (format === 'binary' ? decodeCifarRecords : decodeCifarPickle)(readFileSync(join(dir, f)), join(dir, f)));
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  const images = new Uint8Array(n * 3 * PLANE);
  const labels = new Uint8Array(n);
  let k = 0;
  for (const p of parts) {
    images.set(p.images, k * 3 * PLANE);
    labels.set(p.labels, k);
    k += p.labels.length;
  }
  return { images, labels };
}

export function cifar10Dataset(c: Cifar10Config, logger?: Logger): Dataset {
  const { dir, format } = cifarDir(c.path);
  const sfx = SUFFIX[format];
  const trainFiles = Array.from({ length: c.train_batches }, (_, i) => `data_batch_${i + 1}${sfx}`);
  const wanted = [...trainFiles, ...(c.test ? [`test_batch${sfx}`] : [])];
  const absent = wanted.filter((f) => !existsSync(join(dir, f)));
  if (absent.length > 0) {
    throw new ModnasError('MODNAS_E_DATA_MISSING', `CIFAR10: ${absent.join(', ')} not found in ${dir}`, {
      fix: `put the CIFAR-10 files (${wanted.join(', ')}) in that folder, e.g. unpack cifar-10-binary.tar.gz (or cifar-10-python.tar.gz) there, and set data.path to it`,
      where: 'data.path',
    });
  }
  const shape: [number, number, number] = [SIDE, SIDE, 3];
  const norm = c.normalize === 'none' ? undefined : { mean: [...NORM[c.normalize].mean], std: [...NORM[c.normalize].std] };
  const tr = readFiles(dir, trainFiles, format);
  const te = c.test ? readFiles(dir, [`test_batch${sfx}`], format) : undefined;
  if (logger && augments(c.augment)) logger.info(`CIFAR10: augmentation: ${describeAugment(c.augment, shape)}`);
  const preprocess: ImagePreprocess = { height: SIDE, width: SIDE, channels: 3, resize: 'fill', mean: norm?.mean ?? [0, 0, 0], std: norm?.std ?? [1, 1, 1] };
  return {
    name: 'CIFAR10',
    inputShape: shape,
    numClasses: 10,
    classes: [...CIFAR10_CLASSES],
    preprocess,
    train: new ArraySplit(tr.images, tr.labels, shape, undefined, norm, c.augment),
    test: te ? new ArraySplit(te.images, te.labels, shape, undefined, norm, c.augment) : undefined,
  };
}

export const cifar10 = defineComponent({
  kind: 'dataset',
  id: 'CIFAR10',
  aliases: ['Cifar10'],
  description: 'CIFAR-10 (50,000 train + 10,000 test 32x32 colour images, 10 classes) from the standard binary or python files in a local folder, random crop and flip on training batches; nothing is downloaded',
  schema: cifar10Schema,
  create(config, ctx) {
    return cifar10Dataset(config, ctx.logger);
  },
});
