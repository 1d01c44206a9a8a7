import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '@modnas/core';
import { describeConformance } from '@modnas/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { cifar10Dataset, cifar10Schema, decodeCifarRecords } from './cifar10.js';
import plugin from './index.js';

const tmp = mkdtempSync(join(tmpdir(), 'modnas-cifar-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Records in the CIFAR-10 binary layout: label, then R, G, B planes. Pixel (c, p) of record i = (i + 3p + c) % 256. */
function records(n: number, first = 0): Buffer {
  const b = Buffer.alloc(n * 3073);
  for (let i = 0; i < n; i++) {
    const r = i * 3073;
    b[r] = (first + i) % 10;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) b[r + 1 + c * 1024 + p] = (first + i + 3 * p + c) % 256;
  }
  return b;
}

function folder(perBatch = 3, test = 2): string {
  const dir = mkdtempSync(join(tmp, 'cifar-'));
  for (let k = 1; k <= 5; k++) writeFileSync(join(dir, `data_batch_${k}.bin`), records(perBatch, (k - 1) * perBatch));
  writeFileSync(join(dir, 'test_batch.bin'), records(test, 100));
  return dir;
}

const confDir = folder(2, 2);

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { CIFAR10: { path: confDir } },
  step: {
    CIFAR10: (ds) => {
      for (const b of (ds as ReturnType<typeof cifar10Dataset>).train.batches(4)) tf.dispose([b.x, b.y]);
    },
  },
});

describe('CIFAR10', () => {
  it('decodes the binary records to NHWC', () => {
    const { images, labels } = decodeCifarRecords(records(2));
    expect(Array.from(labels)).toEqual([0, 1]);
    // record 1, pixel p = 5 (row 0, col 5): channels (1 + 15 + c) % 256
    expect(Array.from(images.subarray(3072 + 15, 3072 + 18))).toEqual([16, 17, 18]);
    expect(() => decodeCifarRecords(Buffer.alloc(100))).toThrow(/whole number of 3073-byte records/);
    const bad = records(1);
    bad[0] = 12;
    expect(() => decodeCifarRecords(bad)).toThrow(/label 12/);
  });

  it('reads the five training batches and the test batch from a folder (or its parent), normalised per channel', () => {
    const dir = folder(3, 2);
    const parent = mkdtempSync(join(tmp, 'parent-'));
    mkdirSync(join(parent, 'cifar-10-batches-bin'));
    for (const f of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']) {
      writeFileSync(join(parent, 'cifar-10-batches-bin', f), records(1));
    }
    expect(cifar10Dataset(cifar10Schema.parse({ path: parent })).train.size).toBe(5);
    const ds = cifar10Dataset(cifar10Schema.parse({ path: dir }));
    expect(ds.inputShape).toEqual([32, 32, 3]);
    expect(ds.numClasses).toBe(10);
    expect(ds.train.size).toBe(15);
    expect(ds.test?.size).toBe(2);
    const [b] = ds.train.batches(15);
    expect(Array.from(b.y.dataSync())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
    const x = b.x.arraySync();
    // record 7 (batch 3), pixel (row 1, col 2) = p 34: channel c = (7 + 102 + c) % 256
    const mean = [0.4914, 0.4822, 0.4465];
    const std = [0.247, 0.2435, 0.2616];
    for (let c = 0; c < 3; c++) expect(x[7][1][2][c]).toBeCloseTo(((7 + 102 + c) / 255 - mean[c]) / std[c], 4);
    tf.dispose([b.x, b.y]);
    const two = cifar10Dataset(cifar10Schema.parse({ path: dir, train_batches: 2, test: false, normalize: 'none' }));
    expect(two.train.size).toBe(6);
    expect(two.test).toBeUndefined();
  });

  it('names the folder and the expected files when they are missing', () => {
    const dir = mkdtempSync(join(tmp, 'partial-'));
    writeFileSync(join(dir, 'data_batch_1.bin'), records(1));
    let err: Error | undefined;
    try {
      cifar10Dataset(cifar10Schema.parse({ path: dir }));
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toContain(`data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin not found in ${dir}`);
    expect((err as { code?: string }).code).toBe('MODNAS_E_DATA_MISSING');
    expect(() => cifar10Dataset(cifar10Schema.parse({ path: join(dir, 'none') }))).toThrow(/data_batch_1.bin/);
  });
});
