import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import type { Batch, BatchOptions, DataSplit, EstimContext, StateOptimizer, StepResult } from '@modnas/core';
import { ArchSpace, EventBus, Module, Rng, silentLogger, tf } from '@modnas/core';
import type { AugmentConfig } from './augment.js';
import { augmentSchema, describeAugment, imageBatch } from './augment.js';
import { ArraySplit, BatchCycler } from './data.js';
import { createGradientAccess, evaluate, recalibrateBatchNorm, trainEpoch } from './estim-base.js';

const aug = (a: Partial<AugmentConfig>): AugmentConfig => augmentSchema(a).parse(undefined);

/** An rng whose draws are scripted: int(n) and next() return the queued values in order. */
function scripted(ints: number[], nexts: number[]): Rng {
  const calls: string[] = [];
  return {
    calls,
    int: (n: number) => {
      const v = ints.shift()!;
      calls.push(`int(${n})=${v}`);
      return v;
    },
    next: () => {
      const v = nexts.shift()!;
      calls.push(`next=${v}`);
      return v;
    },
  } as unknown as Rng;
}

function values(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

/**
 * The documented semantics, written the plain way: pad with black, take the window, mirror it,
 * normalise, then cut the holes out. Used to check imageBatch over many random draws.
 */
function reference(px: Uint8Array, n: number, [h, w, c]: [number, number, number], a: AugmentConfig, rng: Rng, norm: { mean: number[]; std: number[] }): number[] {
  const out: number[] = [];
  const p = a.crop_padding;
  for (let i = 0; i < n; i++) {
    const padded = (y: number, x: number, ch: number): number => {
      const sy = y - p;
      const sx = x - p;
      return sy >= 0 && sy < h && sx >= 0 && sx < w ? px[i * h * w * c + (sy * w + sx) * c + ch] : 0;
    };
    const dy = p > 0 ? rng.int(2 * p + 1) : 0;
    const dx = p > 0 ? rng.int(2 * p + 1) : 0;
    const mirror = a.flip && rng.next() < 0.5;
    const img: number[][][] = [];
    for (let y = 0; y < h; y++) {
      const row: number[][] = [];
      for (let x = 0; x < w; x++) row.push(Array.from({ length: c }, (_, ch) => (Math.fround(padded(y + dy, x + dx, ch) / 255) - norm.mean[ch]) / norm.std[ch]));
      img.push(mirror ? row.reverse() : row);
    }
    for (let k = 0; a.cutout > 0 && k < a.cutout_holes; k++) {
      const cy = rng.int(h);
      const cx = rng.int(w);
      const half = Math.floor(a.cutout / 2);
      for (let y = Math.max(cy - half, 0); y < Math.min(cy + half, h); y++) for (let x = Math.max(cx - half, 0); x < Math.min(cx + half, w); x++) img[y][x].fill(0);
    }
    out.push(...img.flat(2));
  }
  return out.map(Math.fround);
}

describe('imageBatch (augmentation)', () => {
  it('crops from the padded image, mirrors, then cuts holes: exact pixels for scripted draws', () => {
    // 3x3x1, pixels 10..90; pad 1, crop offset (row +1, column -1) = draws int(3)=2, int(3)=0; mirrored (next 0.2); one hole of 2 at (0, 1)
    const px = Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const rng = scripted([2, 0, 0, 1], [0.2]);
    const x = imageBatch(px, 1, [3, 3, 1], { augment: aug({ crop_padding: 1, flip: true, cutout: 2 }), rng });
    expect(x.shape).toEqual([1, 3, 3, 1]);
    // window rows 1..3 and columns -1..1 of the original, mirrored: [50 40 pad; 80 70 pad; pad pad pad]; the hole zeroes row 0, columns 0..1
    expect(values(x).map((v) => Math.round(v * 255))).toEqual([0, 0, 0, 80, 70, 0, 0, 0, 0]);
    expect((rng as unknown as { calls: string[] }).calls).toEqual(['int(3)=2', 'int(3)=0', 'next=0.2', 'int(3)=0', 'int(3)=1']);
  });

  it('pads with black before normalising, and zeroes holes after it', () => {
    const px = Uint8Array.from([255, 255, 255, 255]);
    const norm = { mean: [0.5], std: [0.25] };
    // shift right by one column (int(3)=0 -> -1), no flip, hole of 2 around (1, 1): row 0..1? half 1 -> rows 0..1, cols 0..1
    const x = imageBatch(px, 1, [2, 2, 1], { norm, augment: aug({ crop_padding: 1, cutout: 2 }), rng: scripted([1, 0, 1, 1], []) });
    // column 0 is padding: black (0 - 0.5) / 0.25 = -2; column 1 = original column 0: (1 - 0.5) / 0.25 = 2; hole [0,2)x[0,2) zeroes all
    expect(values(x)).toEqual([0, 0, 0, 0]);
    const y = imageBatch(px, 1, [2, 2, 1], { norm, augment: aug({ crop_padding: 1 }), rng: scripted([1, 0], []) });
    expect(values(y)).toEqual([-2, 2, -2, 2]);
  });

  it('matches the plain-way reference over many random draws (3 channels, normalised, every augmentation)', () => {
    const shape: [number, number, number] = [5, 6, 3];
    const n = 40;
    const src = new Rng(7);
    const px = Uint8Array.from({ length: n * 90 }, () => src.int(256));
    const a = aug({ crop_padding: 2, flip: true, cutout: 3, cutout_holes: 2 });
    const norm = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
    const r1 = new Rng(3);
    const r2 = new Rng(3);
    const got = values(imageBatch(px, n, shape, { norm, augment: a, rng: r1 }));
    expect(got).toEqual(reference(px, n, shape, a, r2, norm));
    // the same number of draws
    expect(r1.getState()).toBe(r2.getState());
  });

  it('keeps every crop within the padding and flips about half the images', () => {
    const [h, w] = [8, 8];
    const n = 400;
    const p = 2;
    // float pixels that say where they came from: 1 + 100 * row + column (0 = padding)
    const px = new Float32Array(n * h * w);
    for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[i * h * w + y * w + x] = 1 + 100 * y + x;
    const out = values(imageBatch(px, n, [h, w, 1], { augment: aug({ crop_padding: p, flip: true }), rng: new Rng(11) }));
    const offsets = new Set<string>();
    let flipped = 0;
    for (let i = 0; i < n; i++) {
      const img = out.slice(i * h * w, (i + 1) * h * w);
      // the centre pixel is never padding with p < h / 2
      const v = img[4 * w + 4] - 1;
      const oy = Math.floor(v / 100) - 4;
      const mirror = img[4 * w + 5] !== 0 && img[4 * w + 5] < img[4 * w + 4];
      const ox = (v % 100) - (mirror ? 3 : 4);
      expect(Math.abs(oy)).toBeLessThanOrEqual(p);
      expect(Math.abs(ox)).toBeLessThanOrEqual(p);
      offsets.add(`${oy},${ox}`);
      if (mirror) flipped++;
      // every pixel is the one the offsets and the flip say, or padding
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const sy = y + oy;
          const sx = (mirror ? w - 1 - x : x) + ox;
          expect(img[y * w + x]).toBe(sy >= 0 && sy < h && sx >= 0 && sx < w ? 1 + 100 * sy + sx : 0);
        }
      }
    }
    expect(offsets.size).toBe((2 * p + 1) ** 2);
    expect(flipped).toBeGreaterThan(150);
    expect(flipped).toBeLessThan(250);
  });

  it('without augmentation: (p/255 - mean) / std as the earlier per-pixel loop computed it, bit for bit', () => {
    const px = Uint8Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => (i * 37) % 256);
    const mean = [0.4914, 0.4822, 0.4465];
    const std = [0.247, 0.2435, 0.2616];
    const old = new Float32Array(px.length);
    for (let j = 0; j < px.length; j++) old[j] = px[j] * (1 / 255);
    for (let j = 0; j < px.length; j++) old[j] = (old[j] - mean[j % 3]) / std[j % 3];
    expect(values(imageBatch(px, 2, [4, 4, 3], { norm: { mean, std } }))).toEqual(Array.from(old));
  });

  it('describes itself in one log line; the schema takes a dataset\'s defaults', () => {
    expect(describeAugment(aug({ crop_padding: 4, flip: true }), [32, 32, 3])).toBe('random crop 32 (pad 4), horizontal flip');
    expect(describeAugment(aug({ cutout: 16, cutout_holes: 2 }), [24, 32, 3])).toBe('cutout 2 holes of 16x16');
    expect(describeAugment(aug({}), [32, 32, 3])).toBe('none');
    expect(augmentSchema({ crop_padding: 4, flip: true }).parse(undefined)).toEqual({ crop_padding: 4, flip: true, cutout: 0, cutout_holes: 1 });
    expect(augmentSchema().parse({ flip: true })).toEqual({ crop_padding: 0, flip: true, cutout: 0, cutout_holes: 1 });
    expect(augmentSchema().safeParse({ flip: true, crop: 4 }).success).toBe(false);
    expect(() => imageBatch(new Uint8Array(4), 1, [2, 2, 1], { augment: aug({ flip: true }) })).toThrow(/needs an rng/);
  });
});

/** 6 uint8 images of 4x4x1 whose pixels are 16 * i + position. */
function u8Split(augment?: AugmentConfig): ArraySplit {
  const n = 6;
  const images = Uint8Array.from({ length: n * 16 }, (_, j) => j);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  return new ArraySplit(images, labels, [4, 4, 1], undefined, { mean: [0.5], std: [0.5] }, augment);
}

function drain(split: DataSplit, bs: number, opts: BatchOptions): number[][] {
  const out: number[][] = [];
  for (const b of split.batches(bs, opts)) {
    out.push([...values(b.x), ...values(b.y)]);
  }
  return out;
}

describe('ArraySplit augmentation', () => {
  const a = aug({ crop_padding: 1, flip: true, cutout: 2 });

  it('augments only batches asked for with augment: true, and carries it into subsets', () => {
    const plain = drain(u8Split(), 3, {});
    expect(drain(u8Split(a), 3, {})).toEqual(plain);
    expect(drain(u8Split(a), 3, { augment: false, rng: new Rng(1) })).toEqual(plain);
    const augmented = drain(u8Split(a), 3, { augment: true, rng: new Rng(1) });
    expect(augmented).not.toEqual(plain);
    // labels are not touched
    expect(augmented.map((b) => b.slice(-3))).toEqual(plain.map((b) => b.slice(-3)));
    expect(drain(u8Split(a).subset([0, 1, 2]), 3, { augment: true, rng: new Rng(1) })).toEqual([augmented[0]]);
  });

  it('the same rng state gives the same shuffled, augmented batches (what a resumed run relies on)', () => {
    const r = new Rng(5);
    r.next();
    const state = r.getState();
    const first = drain(u8Split(a), 4, { shuffle: true, augment: true, rng: r });
    const again = new Rng(123);
    again.setState(state);
    expect(drain(u8Split(a), 4, { shuffle: true, augment: true, rng: again })).toEqual(first);
    expect(again.getState()).toBe(r.getState());
  });

  it('BatchCycler restored from state() continues with the same augmented batches', () => {
    const take = (c: BatchCycler, k: number): number[][] =>
      Array.from({ length: k }, () => {
        const b = c.next();
        return [...values(b.x), ...values(b.y)];
      });
    const c1 = new BatchCycler(u8Split(a), 2, new Rng(9), { augment: true });
    take(c1, 2);
    const st = c1.state();
    const rest = take(c1, 4);
    const c2 = new BatchCycler(u8Split(a), 2, new Rng(0), { augment: true });
    c2.restore(st);
    expect(take(c2, 4)).toEqual(rest);
    // without augment: true the cycler's batches are the plain ones
    const plain = new BatchCycler(u8Split(a), 6, new Rng(9));
    const b = plain.next();
    expect(values(b.x)).toEqual(drain(u8Split(), 6, { shuffle: true, rng: new Rng(9) })[0].slice(0, 96));
    b.y.dispose();
  });
});

/** A split that records the options of each batches() call, by who asked. */
class RecordingSplit implements DataSplit {
  calls: BatchOptions[] = [];
  constructor(private readonly inner: DataSplit) {}
  get size(): number {
    return this.inner.size;
  }
  subset(indices: readonly number[]): DataSplit {
    return this.inner.subset(indices);
  }
  batches(batchSize: number, opts: BatchOptions = {}): Iterable<Batch> {
    this.calls.push(opts);
    return this.inner.batches(batchSize, opts);
  }
}

class MeanTrainer implements StateOptimizer {
  batchSize = 2;
  setEpoch(): void {}
  currentLr(): number {
    return 0.1;
  }
  private stat(b: Batch): StepResult {
    return { loss: tf.tidy(() => tf.mean(b.x).dataSync()[0]), correct: 0, count: b.y.shape[0] };
  }
  trainStep(_m: Module, b: Batch): StepResult {
    return this.stat(b);
  }
  evalStep(_m: Module, b: Batch): StepResult {
    return this.stat(b);
  }
  loss(_m: Module, b: Batch): tf.Scalar {
    return tf.tidy<tf.Scalar>(() => tf.mean(b.x));
  }
  reset(): void {}
  state(): unknown {
    return {};
  }
  restore(): void {}
  dispose(): void {}
}

describe('who asks for augmented batches', () => {
  it('trainEpoch and the gradient access\' training batches do; evaluation, recalibration and validation batches do not', async () => {
    class BN extends Module {
      momentum = 0.1;
      forward(x: tf.Tensor): tf.Tensor {
        return tf.mean(x, [1, 2, 3]);
      }
      resetRunningStats(): void {}
    }
    const model = new BN();
    const train = new RecordingSplit(u8Split(aug({ flip: true })));
    const valid = new RecordingSplit(u8Split(aug({ flip: true })));
    const ctx: EstimContext = {
      name: 't',
      model,
      space: new ArchSpace(),
      trainer: new MeanTrainer(),
      data: { train, valid },
      metrics: [],
      events: new EventBus(),
      logger: silentLogger,
      progress: { start: () => ({ tick() {}, done() {} }) },
      rng: new Rng(0),
      store: { append() {}, read: () => [] },
      container: rootContainer.createChildContainer(),
    };
    await trainEpoch(ctx, { epoch: 0, epochs: 1 });
    expect(train.calls.map((o) => o.augment)).toEqual([true]);
    await evaluate(model, ctx.trainer, valid);
    recalibrateBatchNorm(model, train, { batches: 1, batchSize: 2 });
    expect(valid.calls.map((o) => o.augment === true)).toEqual([false]);
    expect(train.calls.map((o) => o.augment === true)).toEqual([true, false]);
    const access = createGradientAccess(ctx);
    access.trainBatch();
    access.validBatch();
    access.release();
    expect(train.calls.at(-1)?.augment).toBe(true);
    expect(valid.calls.at(-1)?.augment).toBe(false);
  });
});
