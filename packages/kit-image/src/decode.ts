/**
 * The sharp pipeline alone, without @modnas/core, so the decoder thread loads sharp and nothing
 * else (core would bring tfjs into every decoder thread). pixels.ts wraps it in coded errors.
 */
import type { ImagePreprocess } from '@modnas/core';
import type Sharp from 'sharp';

/** What decoding needs of an ImagePreprocess (normalisation comes after, on the pixels). */
export type PixelSpec = Pick<ImagePreprocess, 'height' | 'width' | 'channels' | 'resize' | 'inner'>;

type SharpFn = typeof Sharp;
let sharpModule: Promise<SharpFn> | undefined;

/** Thrown when sharp itself cannot be loaded (not a fault of any one file). */
export class SharpMissingError extends Error {
  override readonly name = 'SharpMissingError';
}

/** sharp, loaded on first use (its native library is only mapped when an image is decoded). */
export function loadSharp(): Promise<SharpFn> {
  sharpModule ??= import('sharp').then(
    (m) => {
      const s = m.default;
      // one pass over many distinct files: libvips' operation cache would only hold memory
      s.cache(false);
      return s;
    },
    (e: unknown) => {
      sharpModule = undefined;
      throw new SharpMissingError(`the image decoder sharp could not be loaded: ${causeText(e)}`, { cause: e });
    },
  );
  return sharpModule;
}

/** The cause of a failure as one line (sharp's messages can span lines). */
export function causeText(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0].trim();
}

const BLACK = { r: 0, g: 0, b: 0 };

/** readImagePixels (pixels.ts) without the coded errors: throws sharp's own error for a bad file. */
export async function decodeRaw(source: string | Uint8Array, pre: PixelSpec): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const { height: h, width: w, channels: c } = pre;
  // failOn 'error': a truncated or broken file fails; benign warnings (extra bytes after the end) do not
  let img = sharp(source, { failOn: 'error', autoOrient: true }).flatten({ background: BLACK });
  if (pre.resize === 'pad' && pre.inner) {
    const [ih, iw] = pre.inner;
    img = img.resize(iw, ih, { fit: 'fill', kernel: 'linear' });
    const top = (h - ih) >> 1;
    const left = (w - iw) >> 1;
    if (ih !== h || iw !== w) img = img.extend({ top, bottom: h - ih - top, left, right: w - iw - left, background: BLACK });
  } else {
    img = img.resize(w, h, { fit: pre.resize === 'pad' ? 'contain' : 'fill', kernel: 'linear', background: BLACK });
  }
  img = img.toColourspace(c === 1 ? 'b-w' : 'srgb');
  const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.width !== w || info.height !== h || info.channels !== c || data.length !== h * w * c) {
    throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${w}x${h}x${c}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}
