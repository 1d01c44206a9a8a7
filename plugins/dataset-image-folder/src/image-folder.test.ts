import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from '@modnas/core';
import { Rng, silentLogger, tf } from '@modnas/core';
import { normalizePixels, readImagePixels } from '@modnas/kit-image';
import { describeConformance } from '@modnas/testkit';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageFolderDataset } from './image-folder.js';
import { channelStats, imageFolderDataset, imageFolderSchema } from './image-folder.js';
import { ImageStore } from './image-store.js';
import plugin from './index.js';

const tmp = mkdtempSync(join(tmpdir(), 'modnas-image-folder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An image of class k (k-th primary colour), w x h, brightness varied by i. */
async function png(path: string, k: number, i: number, w = 6, h = 6, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const raw = Buffer.alloc(w * h * 3);
  for (let p = 0; p < w * h; p++) raw[p * 3 + (k % 3)] = 100 + ((i * 37 + p * 5) % 150);
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  await (format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg() : img.webp({ lossless: true })).toFile(path);
}

/** A folder tree from a spec: { 'cat/a.png': class index, ... }; string values are written as text. */
async function tree(spec: Record<string, number | string>): Promise<string> {
  const root = mkdtempSync(join(tmp, 'set-'));
  let i = 0;
  for (const [rel, v] of Object.entries(spec)) {
    const p = join(root, rel);
    if (typeof v === 'string') {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, v);
    } else await png(p, v, i++, 6, 6, /\.jpe?g$/i.test(rel) ? 'jpeg' : /\.webp$/i.test(rel) ? 'webp' : 'png');
  }
  return root;
}

/** A log that keeps its lines. */
function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (lvl: string) => (m: string) => void lines.push(`${lvl} ${m}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function open(path: string, over: Record<string, unknown> = {}, logger: Logger = silentLogger): ImageFolderDataset {
  return imageFolderDataset(imageFolderSchema.parse({ path, ...over }), logger);
}

function codeOf(f: () => unknown): { code?: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

/** Every batch of a split as [x values..., labels...]. */
function drain(ds: ImageFolderDataset['train'], bs: number, opts = {}): { xs: number[][]; ys: number[][] } {
  const xs: number[][] = [];
  const ys: number[][] = [];
  for (const b of ds.batches(bs, opts)) {
    xs.push(Array.from(b.x.dataSync()));
    ys.push(Array.from(b.y.dataSync()));
    tf.dispose([b.x, b.y]);
  }
  return { xs, ys };
}

const small = await tree({ 'b/1.png': 1, 'b/2.png': 1, 'a/1.png': 0, 'a/2.png': 0, 'a/3.png': 0 });

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { ImageFolder: { path: small } },
  step: {
    ImageFolder: (ds) => {
      for (const b of (ds as ImageFolderDataset).train.batches(2, { augment: true, shuffle: true, rng: new Rng(1) })) tf.dispose([b.x, b.y]);
    },
  },
});

describe('ImageFolder layout', () => {
  it('classes are the sorted folder names; images at any depth, any case of extension; other and hidden files ignored', async () => {
    const root = await tree({
      'zebra/1.PNG': 2,
      'zebra/deep/er/2.jpg': 2,
      'apple/1.webp': 0,
      'apple/2.JPEG': 0,
      'mango/1.png': 1,
      'mango/notes.txt': 'hello',
      'mango/.hidden.png': 'not read',
      '.cache/x.png': 'not a class',
      'README.md': 'about',
    });
    const log = memoryLog();
    const ds = open(root, { image_size: [4, 5], normalize: 'none' }, log);
    expect(ds.classes).toEqual(['apple', 'mango', 'zebra']);
    expect(ds.numClasses).toBe(3);
    expect(ds.inputShape).toEqual([4, 5, 3]);
    expect(ds.train.size).toBe(5);
    expect(ds.test).toBeUndefined();
    const { xs, ys } = drain(ds.train, 8);
    expect(ys).toEqual([[0, 0, 1, 2, 2]]);
    expect(xs[0]).toHaveLength(5 * 4 * 5 * 3);
    expect(log.lines.join('\n')).toContain('1 files that are not png, jpg, jpeg or webp ignored, e.g. mango/notes.txt');
    expect(log.lines[0]).toContain(`ImageFolder: ${root}: 3 classes (apple, mango, zebra); train 5 images; resized to 4x5 (fill), 3 channels`);
  });

  it('train/, val/ (or valid/) and test/ folders: the same class names; test is test/, else val/', async () => {
    const root = await tree({ 'train/a/1.png': 0, 'train/a/2.png': 0, 'train/b/1.png': 1, 'valid/a/1.png': 0, 'valid/b/1.png': 1, 'test/b/1.png': 1, 'LICENSE.txt': 'x' });
    const log = memoryLog();
    const ds = open(root, { normalize: 'none' }, log);
    expect(ds.classes).toEqual(['a', 'b']);
    expect(ds.train.size).toBe(3);
    expect(ds.test?.size).toBe(1);
    expect(ds.valid?.size).toBe(2);
    expect(drain(ds.test!, 4).ys).toEqual([[1]]);
    const text = log.lines.join('\n');
    expect(text).toContain('train 3 images, val 2, test 1');
    expect(text).toContain('test/ has no images of a');
    expect(text).toContain('ignored beside the split folders: LICENSE.txt');
    const onlyVal = await tree({ 'train/a/1.png': 0, 'train/b/1.png': 1, 'val/a/1.png': 0 });
    const v = open(onlyVal, { normalize: 'none' });
    expect(v.test?.size).toBe(1);
    expect(v.valid).toBeUndefined();
  });

  it('says what is wrong with a folder, with a code, the folder and the fix', async () => {
    const missing = codeOf(() => open(join(tmp, 'nowhere')));
    expect(missing.code).toBe('MODNAS_E_DATA_MISSING');
    expect(missing.message).toContain(join(tmp, 'nowhere'));
    const emptyClass = await tree({ 'a/1.png': 0, 'b/readme.txt': 'no images' });
    const e1 = codeOf(() => open(emptyClass));
    expect(e1.code).toBe('MODNAS_E_DATA_EMPTY_CLASS');
    expect(e1.message).toContain(`class folder ${join(emptyClass, 'b')} holds no images`);
    expect(e1.message).toContain('fix:');
    const one = await tree({ 'only/1.png': 0, 'only/2.png': 0 });
    expect(codeOf(() => open(one))).toMatchObject({ code: 'MODNAS_E_DATA_ONE_CLASS', message: expect.stringContaining('has one class folder (only)') });
    const loose = await tree({ '1.png': 0, '2.png': 1 });
    expect(codeOf(() => open(loose))).toMatchObject({ code: 'MODNAS_E_DATA_NO_IMAGES', message: expect.stringContaining('2 images lie directly in') });
    const empty = mkdtempSync(join(tmp, 'empty-'));
    expect(codeOf(() => open(empty)).code).toBe('MODNAS_E_DATA_NO_IMAGES');
    const noImages = await tree({ 'a/x.txt': 'x', 'b/y.gif': 'y' });
    expect(codeOf(() => open(noImages))).toMatchObject({ code: 'MODNAS_E_DATA_NO_IMAGES', message: expect.stringContaining('2 other files') });
    const mismatch = await tree({ 'train/a/1.png': 0, 'train/b/1.png': 1, 'test/a/1.png': 0, 'test/c/1.png': 2 });
    const e2 = codeOf(() => open(mismatch));
    expect(e2.code).toBe('MODNAS_E_DATA_CLASSES_MISMATCH');
    expect(e2.message).toContain(`${join(mismatch, 'test')} has class folder c that ${join(mismatch, 'train')} does not have (its classes: a, b)`);
    const noTrain = await tree({ 'val/a/1.png': 0, 'test/a/1.png': 0 });
    expect(codeOf(() => open(noTrain))).toMatchObject({ code: 'MODNAS_E_DATA_LAYOUT', message: expect.stringContaining('but no train/ folder') });
    const twoVal = await tree({ 'train/a/1.png': 0, 'train/b/1.png': 1, 'val/a/1.png': 0, 'valid/a/1.png': 0 });
    expect(codeOf(() => open(twoVal)).code).toBe('MODNAS_E_DATA_LAYOUT');
  });
});

describe('ImageFolder batches', () => {
  it('are the decoded, resized pixels normalised exactly as normalizePixels does (what predict uses), labels by class', async () => {
    const root = await tree({ 'a/1.png': 0, 'a/2.webp': 0, 'b/1.png': 1 });
    await png(join(root, 'b', 'big.png'), 1, 9, 20, 11);
    const ds = open(root, { image_size: 5, normalize: { mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] } });
    expect(ds.preprocess).toEqual({ height: 5, width: 5, channels: 3, resize: 'fill', mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] });
    const { xs, ys } = drain(ds.train, 4);
    expect(ys).toEqual([[0, 0, 1, 1]]);
    const files = [join(root, 'a/1.png'), join(root, 'a/2.webp'), join(root, 'b/1.png'), join(root, 'b/big.png')];
    const want: number[] = [];
    for (const f of files) want.push(...normalizePixels(await readImagePixels(f, ds.preprocess), ds.preprocess));
    expect(xs[0]).toEqual(want);
  });

  it('normalize auto: per-channel mean and std of an evenly spaced sample of the training images, the same each run', async () => {
    const log = memoryLog();
    const ds = open(small, { image_size: 6 }, log);
    const files = ['a/1.png', 'a/2.png', 'a/3.png', 'b/1.png', 'b/2.png'].map((f) => join(small, f));
    const sum = [0, 0, 0];
    const sq = [0, 0, 0];
    for (const f of files) {
      const px = await readImagePixels(f, ds.preprocess);
      px.forEach((v, j) => {
        sum[j % 3] += v / 255;
        sq[j % 3] += (v / 255) ** 2;
      });
    }
    const count = files.length * 36;
    const mean = sum.map((s) => s / count);
    // the blue channel is 0 in every image (classes a and b are red and green): its std stays 1
    const std = sq.map((s, i) => Math.sqrt(s / count - mean[i] ** 2)).map((s) => (s > 1e-6 ? s : 1));
    expect(std[2]).toBe(1);
    ds.preprocess.mean.forEach((m, i) => expect(m).toBeCloseTo(mean[i], 5));
    ds.preprocess.std.forEach((s, i) => expect(s).toBeCloseTo(std[i], 5));
    expect(open(small, { image_size: 6 }).preprocess).toEqual(ds.preprocess);
    expect(log.lines.join('\n')).toMatch(/normalize auto: mean \[.*\], std \[.*\] from 5 of 5 training images/);
    // a sample of 2 of the 5: files 0 and floor(5/2) = 2 (a/1 and a/3): class a is red, its green channel is all zero
    const store = new ImageStore({ height: 6, width: 6, channels: 3, resize: 'fill' }, 0, 'skip', silentLogger, 'data');
    const scanList = { dir: small, files, labels: Int32Array.from([0, 0, 0, 1, 1]), counts: [3, 2] };
    const two = channelStats(scanList, store, 2);
    expect(two.images).toBe(2);
    expect(two.mean[1]).toBe(0);
    // a constant channel keeps std 1
    expect(two.std[1]).toBe(1);
    expect(open(small, { normalize: 'imagenet' }).preprocess.mean).toEqual([0.485, 0.456, 0.406]);
    expect(open(small, { normalize: 'none', channels: 1 }).preprocess).toMatchObject({ channels: 1, mean: [0], std: [1] });
    expect(codeOf(() => open(small, { normalize: 'imagenet', channels: 1 })).code).toBe('MODNAS_E_CONFIG_INVALID');
    expect(codeOf(() => open(small, { normalize: { mean: [0.5], std: [0.5] } })).message).toContain('1 means and 1 stds for 3 channels');
  });

  it('augments training batches only when asked, from the rng, the same for the same rng state', async () => {
    const ds = open(small, { normalize: 'none', image_size: 6, augment: { crop_padding: 2, flip: true } });
    const plain = drain(ds.train, 5);
    expect(drain(ds.train, 5, { augment: false, rng: new Rng(3) })).toEqual(plain);
    const a1 = drain(ds.train, 2, { shuffle: true, augment: true, rng: new Rng(3) });
    const a2 = drain(ds.train, 2, { shuffle: true, augment: true, rng: new Rng(3) });
    expect(a1).toEqual(a2);
    expect(a1.xs.flat()).not.toEqual(drain(ds.train, 2, { shuffle: true, rng: new Rng(3) }).xs.flat());
    expect(ds.train.subset([4, 0]).size).toBe(2);
    expect(drain(ds.train.subset([4, 0]), 2).ys).toEqual([[1, 0]]);
  });
});

describe('bad images', () => {
  async function withBad(): Promise<{ root: string; bad: string; text: string }> {
    const root = await tree({ 'a/1.png': 0, 'a/2.png': 0, 'b/1.png': 1, 'b/2.png': 1 });
    const bad = join(root, 'a', 'broken.png');
    const good = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
    writeFileSync(bad, good.subarray(0, good.length - 30));
    const text = join(root, 'b', 'fake.jpg');
    writeFileSync(text, 'this is not a jpeg');
    return { root, bad, text };
  }

  it('on_bad_image skip (the default): left out of their batches, each named once in the log and in skipped', async () => {
    const { root, bad, text } = await withBad();
    const log = memoryLog();
    const ds = open(root, { normalize: 'none', image_size: 4 }, log);
    expect(ds.train.size).toBe(6);
    for (let pass = 0; pass < 2; pass++) {
      const { ys } = drain(ds.train, 3);
      // a/1 a/2 a/broken | b/1 b/2 b/fake: one good left of each bad batch... two good in each
      expect(ys).toEqual([[0, 0], [1, 1]]);
    }
    expect(ds.skipped).toEqual([bad, text]);
    const warned = log.lines.filter((l) => l.startsWith('warn'));
    expect(warned).toHaveLength(2);
    expect(warned[0]).toContain(`ImageFolder: skipped ${bad}: `);
    expect(warned[1]).toContain(`ImageFolder: skipped ${text}: `);
  });

  it('a batch of bad files only is not yielded; shuffles and augmentation draw the same whether a bad file is known yet or not', async () => {
    const { root } = await withBad();
    const ds = open(root, { normalize: 'none', image_size: 4, augment: { flip: true, crop_padding: 1 } });
    const fresh = drain(ds.train, 2, { shuffle: true, augment: true, rng: new Rng(8) });
    // now both bad files are known and not decoded again
    const known = drain(ds.train, 2, { shuffle: true, augment: true, rng: new Rng(8) });
    expect(known).toEqual(fresh);
    expect(fresh.ys.flat()).toHaveLength(4);
    const single = open(root, { normalize: 'none', image_size: 4 });
    const ys = drain(single.train.subset([2, 5, 0]), 1).ys;
    expect(ys).toEqual([[0]]);
  });

  it('on_bad_image error stops with MODNAS_E_DATA_IMAGE naming the file', async () => {
    const { root, bad } = await withBad();
    const ds = open(root, { normalize: 'none', image_size: 4, on_bad_image: 'error' });
    const e = codeOf(() => drain(ds.train, 3));
    expect(e.code).toBe('MODNAS_E_DATA_IMAGE');
    expect(e.message).toContain(`cannot read the image ${bad}: `);
    expect(e.message).toContain('where: data.on_bad_image');
    // normalize auto reads a sample at create(): found there already
    expect(codeOf(() => open(root, { image_size: 4, on_bad_image: 'error' })).code).toBe('MODNAS_E_DATA_IMAGE');
  });
});

describe('the decoded-image cache', () => {
  it('holds at most cache_mb of images, and none with cache_mb 0; batches are the same either way', async () => {
    const files = ['a/1.png', 'a/2.png', 'a/3.png', 'b/1.png', 'b/2.png'].map((f) => join(small, f));
    const spec = { height: 16, width: 16, channels: 3 as const, resize: 'fill' as const };
    const per = 16 * 16 * 3;
    const bounded = new ImageStore(spec, 2 * per + 10, 'skip', silentLogger, 'data');
    const none = new ImageStore(spec, 0, 'skip', silentLogger, 'data');
    for (let pass = 0; pass < 2; pass++) {
      const a = bounded.collect(bounded.request(files));
      const b = none.collect(none.request(files));
      expect(a.map((x) => Array.from(x!))).toEqual(b.map((x) => Array.from(x!)));
    }
    expect(bounded.cacheSize).toEqual({ images: 2, bytes: 2 * per });
    expect(none.cacheSize).toEqual({ images: 0, bytes: 0 });
    // a request served from the cache needs no decoding
    expect(bounded.request(files.slice(0, 2)).job).toBeUndefined();
    bounded.decoder.close();
    none.decoder.close();
  });

  it('an iterator closed early drops the batch it was decoding ahead', async () => {
    const ds = open(small, { normalize: 'none', cache_mb: 0 });
    for (const b of ds.train.batches(1)) {
      tf.dispose([b.x, b.y]);
      break;
    }
    // the next pass still gets every batch, in order
    expect(drain(ds.train, 1).ys).toEqual([[0], [0], [0], [1], [1]]);
  });
});
