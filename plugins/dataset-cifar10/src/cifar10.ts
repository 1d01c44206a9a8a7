import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Dataset } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { ArraySplit } from '@modnas/kit-estim';

export const cifar10Schema = z.strictObject({
  path: z.string().default('data/cifar10').describe('Folder with the CIFAR-10 binary files (data_batch_1..5.bin, test_batch.bin), or its parent holding cifar-10-batches-bin/'),
  normalize: z.enum(['cifar', 'none', 'symmetric']).default('cifar').describe("'cifar': per-channel mean (0.4914, 0.4822, 0.4465) and std (0.2470, 0.2435, 0.2616); 'none': [0, 1]; 'symmetric': [-1, 1]"),
  train_batches: z.number().int().min(1).max(5).default(5).describe('How many of data_batch_1..5.bin to read (10,000 images each)'),
  test: z.boolean().default(true).describe('Read test_batch.bin as the test split'),
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

/**
 * Decode CIFAR-10 binary records (1 label byte, then 1024 red, 1024 green, 1024 blue bytes, rows
 * first) into NHWC uint8 images and labels.
 */
export function decodeCifarRecords(buf: Uint8Array, file = 'CIFAR-10 file'): { images: Uint8Array; labels: Uint8Array } {
  if (buf.length === 0 || buf.length % RECORD !== 0) {
    throw new ModnasError('MODNAS_E_DATA_FORMAT', `CIFAR10: ${file} has ${buf.length} bytes, not a whole number of ${RECORD}-byte records`, {
      fix: 'use the CIFAR-10 binary version (cifar-10-binary.tar.gz), not the python or matlab one',
    });
  }
  const n = buf.length / RECORD;
  const images = new Uint8Array(n * 3 * PLANE);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * RECORD;
    const label = buf[r];
    if (label > 9) throw new ModnasError('MODNAS_E_DATA_FORMAT', `CIFAR10: ${file} record ${i} has label ${label} (expected 0-9)`);
    labels[i] = label;
    const o = i * 3 * PLANE;
    for (let p = 0; p < PLANE; p++) {
      images[o + 3 * p] = buf[r + 1 + p];
      images[o + 3 * p + 1] = buf[r + 1 + PLANE + p];
      images[o + 3 * p + 2] = buf[r + 1 + 2 * PLANE + p];
    }
  }
  return { images, labels };
}

/** The folder holding the batch files: `path` itself, or `path`/cifar-10-batches-bin. */
export function cifarDir(path: string): string {
  const p = resolve(path);
  if (existsSync(join(p, 'data_batch_1.bin')) || existsSync(join(p, 'test_batch.bin'))) return p;
  const nested = join(p, 'cifar-10-batches-bin');
  return existsSync(nested) ? nested : p;
}

function readFiles(dir: string, files: string[]): { images: Uint8Array; labels: Uint8Array } {
  const parts = files.map((f) => decodeCifarRecords(readFileSync(join(dir, f)), join(dir, f)));
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

export function cifar10Dataset(c: Cifar10Config): Dataset {
  const dir = cifarDir(c.path);
  const trainFiles = Array.from({ length: c.train_batches }, (_, i) => `data_batch_${i + 1}.bin`);
  const wanted = [...trainFiles, ...(c.test ? ['test_batch.bin'] : [])];
  const absent = wanted.filter((f) => !existsSync(join(dir, f)));
  if (absent.length > 0) {
    throw new ModnasError('MODNAS_E_DATA_MISSING', `CIFAR10: ${absent.join(', ')} not found in ${dir}`, {
      fix: `put the CIFAR-10 binary files (${wanted.join(', ')}) in that folder, e.g. unpack cifar-10-binary.tar.gz there, and set data.path to it`,
      where: 'data.path',
    });
  }
  const shape: [number, number, number] = [SIDE, SIDE, 3];
  const norm = c.normalize === 'none' ? undefined : { mean: [...NORM[c.normalize].mean], std: [...NORM[c.normalize].std] };
  const tr = readFiles(dir, trainFiles);
  const te = c.test ? readFiles(dir, ['test_batch.bin']) : undefined;
  return {
    name: 'CIFAR10',
    inputShape: shape,
    numClasses: 10,
    train: new ArraySplit(tr.images, tr.labels, shape, undefined, norm),
    test: te ? new ArraySplit(te.images, te.labels, shape, undefined, norm) : undefined,
  };
}

export const cifar10 = defineComponent({
  kind: 'dataset',
  id: 'CIFAR10',
  aliases: ['Cifar10'],
  description: 'CIFAR-10 (50,000 train + 10,000 test 32x32 colour images, 10 classes) from the standard binary files in a local folder; nothing is downloaded',
  schema: cifar10Schema,
  create(config) {
    return cifar10Dataset(config);
  },
});
