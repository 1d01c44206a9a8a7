import type { ImagePreprocess } from '@modnas/core';
import { ModnasError } from '@modnas/core';
import type { PixelSpec } from './decode.js';
import { SharpMissingError, causeText, decodeRaw } from './decode.js';


/** The error code of an image file that cannot be decoded (corrupt, truncated, not an image). */
export const IMAGE_ERROR = 'MODNAS_E_DATA_IMAGE';

/** File extensions read as images (lower case; names match ignoring case). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

/** Whether a file name has one of IMAGE_EXTENSIONS (ignoring case). */
export function isImageFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot >= 0 && (IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot).toLowerCase());
}

/** The MODNAS_E_DATA_IMAGE error for an image that cannot be read: names the file and the cause. */
export function imageError(path: string, cause: unknown, where?: string): ModnasError {
  return new ModnasError(IMAGE_ERROR, `cannot read the image ${path}: ${typeof cause === 'string' ? cause : causeText(cause)}`, {
    fix: 'replace or delete the file (it is corrupt, truncated or not a PNG, JPEG or WebP image); a dataset of image files can skip such files instead (on_bad_image: skip)',
    where: where ?? path,
    cause: typeof cause === 'string' ? undefined : cause,
  });
}

/** sharp (the decoder) could not be loaded. */
export function sharpMissingError(message: string, cause?: unknown): ModnasError {
  return new ModnasError('MODNAS_E_DEPENDENCY_MISSING', message, {
    fix: 'reinstall with optional dependencies (npm i, not --omit=optional): sharp ships its binaries as per-platform packages (@img/sharp-<os>-<cpu>)',
    cause,
  });
}

function specError(msg: string): ModnasError {
  return new ModnasError('MODNAS_E_CONFIG_INVALID', `image preprocessing: ${msg}`, { fix: 'height and width are positive integers, channels 1 or 3, resize "fill" or "pad" with inner no larger than [height, width]' });
}

/** Throws on a spec that cannot describe an input (before any file is read). */
export function checkPixelSpec(pre: PixelSpec): void {
  const int = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
  if (!int(pre.height) || !int(pre.width)) throw specError(`height and width must be positive integers, got ${pre.height}x${pre.width}`);
  if (pre.channels !== 1 && pre.channels !== 3) throw specError(`channels must be 1 or 3, got ${String(pre.channels)}`);
  if (pre.resize !== 'fill' && pre.resize !== 'pad') throw specError(`resize must be "fill" or "pad", got ${String(pre.resize)}`);
  if (pre.inner !== undefined) {
    const [ih, iw] = pre.inner;
    if (!int(ih) || !int(iw) || ih > pre.height || iw > pre.width) throw specError(`inner [${pre.inner.join(', ')}] must be positive and fit in ${pre.height}x${pre.width}`);
  }
}

/**
 * Decode an image file (PNG, JPEG, WebP; the first frame of an animated one) into exactly
 * height x width x channels bytes, rows first, channels last (HWC), as the network sees it before
 * normalisation. EXIF orientation is applied; transparency is flattened onto black; 1 channel is
 * the luminance (libvips' sRGB to B_W), 3 channels are sRGB (a grey image repeats its channel).
 * resize 'fill': bilinear resize to height x width, aspect ratio not kept. resize 'pad': bilinear
 * resize to `inner` ([height, width] inside the canvas) and centred on a black canvas (offsets
 * rounded down: MNIST's 28 in 32 starts at row and column 2); without `inner`, the image keeps its
 * aspect ratio, fitted inside height x width and centred (letterboxed).
 * Throws MODNAS_E_DATA_IMAGE naming the file and the cause when it cannot be decoded (corrupt,
 * truncated, not an image).
 */
export async function readImagePixels(source: string | Uint8Array, pre: PixelSpec): Promise<Uint8Array> {
  checkPixelSpec(pre);
  try {
    return await decodeRaw(source, pre);
  } catch (e) {
    if (e instanceof SharpMissingError) throw sharpMissingError(e.message, e.cause);
    throw imageError(typeof source === 'string' ? source : `image data (${source.length} bytes)`, e);
  }
}

/**
 * Pixels as the network's input: x = (p / 255 - mean[ch]) / std[ch], channel ch = i % channels
 * (HWC order, as readImagePixels returns them), in the arithmetic of training batches (p / 255
 * rounded to float32 first), so the inputs are bit for bit the ones the network was trained on.
 */
export function normalizePixels(px: Uint8Array, pre: ImagePreprocess): Float32Array {
  const c = pre.channels;
  if (pre.mean.length !== c || pre.std.length !== c) {
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', `image preprocessing: mean and std need ${c} values (one per channel), got ${pre.mean.length} and ${pre.std.length}`, {
      fix: `give one mean and one std per channel, e.g. mean: [${Array(c).fill(0.5).join(', ')}]`,
    });
  }
  const out = new Float32Array(px.length);
  for (let i = 0; i < px.length; i++) {
    const ch = i % c;
    out[i] = (Math.fround(px[i] * (1 / 255)) - pre.mean[ch]) / pre.std[ch];
  }
  return out;
}
