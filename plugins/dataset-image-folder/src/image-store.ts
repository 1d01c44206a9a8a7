import type { Logger } from '@modnas/core';
import type { PixelSpec } from '@modnas/kit-image';
import { ImageDecoder, imageError } from '@modnas/kit-image';

/** Files asked for in one request: the ones already in the cache, and the decoder job for the rest. */
export interface PendingImages {
  readonly paths: readonly string[];
  /** Pixels from the cache, by position (undefined: decoded by the job, or a known bad file). */
  readonly hits: ReadonlyArray<Uint8Array | undefined>;
  /** Positions the job decodes, in job order. */
  readonly misses: readonly number[];
  readonly job?: number;
}

/**
 * The decoded images of one dataset, shared by its splits: a decoder thread, a bounded cache of
 * decoded images, and the files found bad. The cache keeps the first images decoded until it holds
 * `cacheBytes` and then stops growing (no eviction: with a reshuffle every pass, evicting buys no
 * more hits than it costs); the rest are decoded again each time a batch needs them.
 */
export class ImageStore {
  readonly decoder: ImageDecoder;
  private readonly cache = new Map<string, Uint8Array>();
  private cachedBytes = 0;
  private readonly bad = new Set<string>();
  /** Bad files skipped so far (on_bad_image: skip), in the order found. */
  readonly skipped: string[] = [];

  constructor(
    readonly spec: PixelSpec,
    private readonly cacheBytes: number,
    private readonly onBad: 'skip' | 'error',
    private readonly logger: Logger,
    private readonly where: string,
  ) {
    this.decoder = new ImageDecoder(spec);
  }

  get cacheSize(): { images: number; bytes: number } {
    return { images: this.cache.size, bytes: this.cachedBytes };
  }

  /** Start decoding what is not cached yet (known bad files are not tried again). */
  request(paths: readonly string[]): PendingImages {
    const hits: Array<Uint8Array | undefined> = [];
    const misses: number[] = [];
    paths.forEach((p, i) => {
      const px = this.cache.get(p);
      hits.push(px);
      if (!px && !this.bad.has(p)) misses.push(i);
    });
    const job = misses.length > 0 ? this.decoder.request(misses.map((i) => paths[i])) : undefined;
    return { paths, hits, misses, job };
  }

  /**
   * The pixels of each requested file, undefined for a bad one (reported once, in the log and in
   * `skipped`). With on_bad_image 'error' a bad file throws MODNAS_E_DATA_IMAGE instead.
   */
  collect(p: PendingImages): Array<Uint8Array | undefined> {
    const out = [...p.hits];
    if (p.job === undefined) return out;
    const { pixels, failed } = this.decoder.wait(p.job);
    const per = this.decoder.imageBytes;
    const why = new Map(failed.map((f) => [f.index, f.error]));
    p.misses.forEach((pos, k) => {
      const path = p.paths[pos];
      const reason = why.get(k);
      if (reason !== undefined) {
        this.markBad(path, reason);
        return;
      }
      let px = pixels.subarray(k * per, (k + 1) * per);
      if (this.cachedBytes + per <= this.cacheBytes && !this.cache.has(path)) {
        // a copy: a view would keep the whole job's buffer alive
        px = px.slice();
        this.cache.set(path, px);
        this.cachedBytes += per;
      }
      out[pos] = px;
    });
    return out;
  }

  /** Drop a request that will not be collected (an iterator closed early). */
  cancel(p: PendingImages): void {
    if (p.job !== undefined) this.decoder.cancel(p.job);
  }

  private markBad(path: string, reason: string): void {
    if (this.onBad === 'error') throw imageError(path, reason, `${this.where}.on_bad_image`);
    if (this.bad.has(path)) return;
    this.bad.add(path);
    this.skipped.push(path);
    this.logger.warn(`ImageFolder: skipped ${path}: ${reason} (on_bad_image: skip; replace or delete the file)`);
  }
}
