import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, tf } from '@modnas/core';
import type { Logger } from '@modnas/core';
import { describeConformance } from '@modnas/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { CIFAR10_CLASSES, cifar10Dataset, cifar10Schema, cifarDir, decodeCifarPickle, decodeCifarRecords } from './cifar10.js';
import plugin from './index.js';
import { NdArray, unpickle } from './pickle.js';

/** Made by test/make-fixtures.py (python3 + numpy): the python version's layout, 2 records per batch. */
const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const pyDir = join(fixtures, 'cifar-10-batches-py');

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

/** Pixel p of colour plane c of fixture record g (make-fixtures.py). */
const fx = (g: number, p: number, c: number): number => (g * 7 + 3 * p + c) % 256;

function codeOf(f: () => unknown): { code?: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

describe('CIFAR10 python version (pickles)', () => {
  it('reads data_batch_1..5 and test_batch as written by Python 2 cPickle (protocol 2), from the folder or its parent', () => {
    expect(cifarDir(pyDir)).toEqual({ dir: pyDir, format: 'python' });
    expect(cifarDir(fixtures)).toEqual({ dir: pyDir, format: 'python' });
    const ds = cifar10Dataset(cifar10Schema.parse({ path: fixtures, normalize: 'none' }));
    expect(ds.train.size).toBe(10);
    expect(ds.test?.size).toBe(2);
    const [b] = ds.train.batches(10);
    expect(Array.from(b.y.dataSync())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const x = b.x.arraySync();
    // record 7, pixel (row 1, col 2) = p 34: channel c = fx(7, 34, c) / 255
    for (let c = 0; c < 3; c++) expect(x[7][1][2][c]).toBeCloseTo(fx(7, 34, c) / 255, 6);
    tf.dispose([b.x, b.y]);
    const [t] = ds.test!.batches(2);
    expect(Array.from(t.y.dataSync())).toEqual([0, 1]);
    expect(t.x.arraySync()[1][31][31][2]).toBeCloseTo(fx(101, 1023, 2) / 255, 6);
    tf.dispose([t.x, t.y]);
  });

  it('Python 3 pickles of the same batch (protocol 2 through _codecs.encode, protocol 4 with frames) decode the same', () => {
    const official = decodeCifarPickle(readFileSync(join(pyDir, 'data_batch_1')));
    expect(official.images.length).toBe(2 * 3072);
    expect(official.images[3072 + 3 * 5 + 1]).toBe(fx(1, 5, 1));
    for (const f of ['protocol2', 'protocol4']) {
      const d = decodeCifarPickle(readFileSync(join(fixtures, 'py3', f)), f);
      expect(Array.from(d.labels), f).toEqual(Array.from(official.labels));
      expect(Buffer.compare(Buffer.from(d.images), Buffer.from(official.images)), f).toBe(0);
    }
    const v = unpickle(readFileSync(join(pyDir, 'batches.meta')));
    expect(v instanceof Map && (v.get('label_names') as Uint8Array[]).map((n) => Buffer.from(n).toString())).toEqual([...CIFAR10_CLASSES]);
    const arr = (unpickle(readFileSync(join(pyDir, 'test_batch'))) as Map<string, unknown>).get('data');
    expect(arr).toBeInstanceOf(NdArray);
    expect((arr as NdArray).shape).toEqual([2, 3072]);
  });

  it('anything but those pickles is a coded error naming the file', () => {
    const good = readFileSync(join(pyDir, 'data_batch_1'));
    const cut = codeOf(() => decodeCifarPickle(good.subarray(0, 3000), 'cut'));
    expect(cut.code).toBe('MODNAS_E_DATA_FORMAT');
    expect(cut.message).toContain('cut: the file ends inside an opcode');
    // protocol 0 (text pickles)
    expect(codeOf(() => unpickle(Buffer.from('(dp0\n.'), 'p0')).message).toContain('p0: pickle opcode 0x64 ("d") (at byte 1)');
    expect(codeOf(() => unpickle(Buffer.from([0x80, 5, 0x4e, 0x2e]), 'p5')).message).toContain('pickle protocol 5');
    // a pickle that calls os.system
    const evil = Buffer.concat([Buffer.from([0x80, 2]), Buffer.from('cos\nsystem\nU\x02ls\x85R.', 'latin1')]);
    expect(codeOf(() => unpickle(evil, 'evil')).message).toContain('a call of os.system');
    // a CIFAR-100 style dict
    const c100 = Buffer.concat([Buffer.from([0x80, 2, 0x7d, 0x28]), Buffer.from('U\x0bfine_labels]K\x01aU\x04dataK\x00u.', 'latin1')]);
    expect(codeOf(() => decodeCifarPickle(c100, 'train')).message).toContain("has no 'data' array (it looks like CIFAR-100");
    expect(codeOf(() => decodeCifarPickle(Buffer.from([0x80, 2, 0x4e, 0x2e]), 'none')).message).toContain('does not hold a dict');
  });

  it('names the python files when some are missing', () => {
    const dir = mkdtempSync(join(tmp, 'py-partial-'));
    cpSync(join(pyDir, 'data_batch_1'), join(dir, 'data_batch_1'));
    const e = codeOf(() => cifar10Dataset(cifar10Schema.parse({ path: dir })));
    expect(e.code).toBe('MODNAS_E_DATA_MISSING');
    expect(e.message).toContain(`data_batch_2, data_batch_3, data_batch_4, data_batch_5, test_batch not found in ${dir}`);
  });
});

describe('CIFAR10 augmentation, classes and preprocess', () => {
  it('augments training batches with the standard random crop 32 (pad 4) and flip by default, said once in the log', () => {
    const lines: string[] = [];
    const logger: Logger = { debug() {}, info: (m) => void lines.push(m), warn() {}, error() {} };
    const ds = cifar10Dataset(cifar10Schema.parse({ path: pyDir }), logger);
    expect(lines).toEqual(['CIFAR10: augmentation: random crop 32 (pad 4), horizontal flip']);
    expect(ds.classes).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    expect(ds.preprocess).toEqual({ height: 32, width: 32, channels: 3, resize: 'fill', mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] });
    const grab = (opts: object): number[] => {
      const [b] = ds.train.batches(10, opts);
      const v = Array.from(b.x.dataSync());
      tf.dispose([b.x, b.y]);
      return v;
    };
    const plain = grab({});
    expect(grab({ augment: true, rng: new Rng(2) })).not.toEqual(plain);
    expect(grab({ augment: true, rng: new Rng(2) })).toEqual(grab({ augment: true, rng: new Rng(2) }));
    const off = cifar10Dataset(cifar10Schema.parse({ path: pyDir, normalize: 'none', augment: { crop_padding: 0, flip: false } }), logger);
    expect(lines).toHaveLength(1);
    expect(off.preprocess?.mean).toEqual([0, 0, 0]);
    const [b] = off.train.batches(10, { augment: true, rng: new Rng(2) });
    const [c] = off.train.batches(10);
    expect(Array.from(b.x.dataSync())).toEqual(Array.from(c.x.dataSync()));
    tf.dispose([b.x, b.y, c.x, c.y]);
  });
});
