import type { Batch, BatchOptions, DataSplit } from '@modnas/core';
import { Rng, tf } from '@modnas/core';
import type { AugmentConfig } from './augment.js';
import { augments, imageBatch } from './augment.js';
import { totalMemory } from './memory.js';

/**
 * A split held in memory as flat arrays (images NHWC as uint8 or float32, labels as int32).
 * Batches are gathered per step, so memory stays at one copy of the data plus one batch.
 */
export class ArraySplit implements DataSplit {
  constructor(
    private readonly images: Uint8Array | Float32Array,
    private readonly labels: Int32Array | Uint8Array,
    private readonly shape: [number, number, number],
    /** Indices of the examples in this split (default: all). */
    private readonly indices?: readonly number[],
    /** Per-channel mean and std to normalise with (images are scaled to [0,1] first when uint8). */
    private readonly norm?: { mean: number[]; std: number[] },
    /** Augmentation of the batches asked for with `augment: true` (training). */
    private readonly augment?: AugmentConfig,
  ) {}

  get size(): number {
    return this.indices?.length ?? this.labels.length;
  }

  subset(indices: readonly number[]): DataSplit {
    const base = this.indices;
    return new ArraySplit(this.images, this.labels, this.shape, base ? indices.map((i) => base[i]) : indices, this.norm, this.augment);
  }

  *batches(batchSize: number, opts: BatchOptions = {}): Iterable<Batch> {
    const n = this.size;
    const order = Array.from({ length: n }, (_, i) => i);
    const rng = opts.rng ?? new Rng(0);
    if (opts.shuffle) rng.shuffle(order);
    const augment = opts.augment && augments(this.augment) ? this.augment : undefined;
    const [h, w, c] = this.shape;
    const per = h * w * c;
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(start + batchSize, n);
      if (opts.dropLast && end - start < batchSize) break;
      const b = end - start;
      const px = this.images instanceof Uint8Array ? new Uint8Array(b * per) : new Float32Array(b * per);
      const ys = new Int32Array(b);
      for (let k = 0; k < b; k++) {
        const local = order[start + k];
        const idx = this.indices ? this.indices[local] : local;
        px.set(this.images.subarray(idx * per, (idx + 1) * per), k * per);
        ys[k] = this.labels[idx];
      }
      yield { x: imageBatch(px, b, this.shape, { norm: this.norm, augment, rng }), y: tf.tensor1d(ys, 'int32') };
    }
  }
}

/** Split `split` into train and valid parts (by a seeded shuffle), each optionally capped. */
export function splitTrainValid(
  split: DataSplit,
  portion: number,
  seed: number,
  caps: { trainSize?: number; validSize?: number } = {},
): { train: DataSplit; valid: DataSplit } {
  const idx = new Rng(seed).shuffle(Array.from({ length: split.size }, (_, i) => i));
  const cut = Math.round(split.size * portion);
  let tr = idx.slice(0, cut);
  let va = idx.slice(cut);
  if (caps.trainSize) tr = tr.slice(0, caps.trainSize);
  if (caps.validSize) va = va.slice(0, caps.validSize);
  return { train: split.subset(tr), valid: split.subset(va) };
}

/** An endless stream of batches over a split, reshuffled each pass: for interleaved train/valid steps. */
export class BatchCycler {
  private it: Iterator<Batch> | undefined;
  /** The rng state the current pass shuffled from, and the batches drawn from it (a checkpoint's position). */
  private passStart = 0;
  private used = 0;

  constructor(
    private readonly split: DataSplit,
    private readonly batchSize: number,
    private readonly rng: Rng,
    /** Batches that train weights: the split augments them (BatchOptions.augment). */
    private readonly opts: { augment?: boolean } = {},
  ) {}

  next(): Batch {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!this.it) this.startPass();
      const r = this.it!.next();
      if (!r.done) {
        this.used++;
        return r.value;
      }
      this.it = undefined;
    }
    throw new Error('BatchCycler: the split is empty');
  }

  private startPass(): void {
    // a split may hold resources per pass (decoding ahead): let go of the one left behind
    this.it?.return?.();
    this.passStart = this.rng.getState();
    this.used = 0;
    this.it = this.split.batches(this.batchSize, { shuffle: true, rng: this.rng, dropLast: this.split.size >= this.batchSize, augment: this.opts.augment === true })[Symbol.iterator]();
  }

  /** Where the cycle is, as JSON (checkpoints). */
  state(): { rng: number; used: number } {
    return this.it ? { rng: this.passStart, used: this.used } : { rng: this.rng.getState(), used: 0 };
  }

  /** Continue from a state(): the same pass, with the batches drawn before skipped. */
  restore(s: { rng: number; used: number }): void {
    this.rng.setState(s.rng);
    this.it?.return?.();
    this.it = undefined;
    if (s.used <= 0) return;
    this.startPass();
    for (let i = 0; i < s.used; i++) {
      const r = this.it!.next();
      if (r.done) break;
      r.value.x.dispose();
      r.value.y.dispose();
      this.used++;
    }
  }
}

/**
 * A zod check for a dataset's config: the bytes it would hold in memory must fit in half of this
 * machine's memory, else the config is refused at validation (before any folder or tensor exists),
 * with the estimate. `bytes` of the parsed config; `path` the key that sets the size.
 */
export function fitsInMemory<T>(bytes: (c: T) => number, path: string, what: string): (c: T, ctx: { addIssue(i: { code: 'custom'; message: string; path: string[] }): void }) => void {
  return (c, ctx) => {
    const need = bytes(c);
    const budget = totalMemory() / 2;
    if (need > budget) {
      const gb = (b: number): string => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 2 : 0)} GB`;
      ctx.addIssue({ code: 'custom', path: [path], message: `${what} would take ${gb(need)} of memory; this machine has ${gb(totalMemory())} (at most half of it is used for data): make it smaller` });
    }
  };
}
