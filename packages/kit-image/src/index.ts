export type { PixelSpec } from './decode.js';
export { IMAGE_ERROR, IMAGE_EXTENSIONS, isImageFile, imageError, checkPixelSpec, readImagePixels, normalizePixels } from './pixels.js';
export type { DecodedFiles, ImageDecoderOptions } from './decoder.js';
export { ImageDecoder } from './decoder.js';
