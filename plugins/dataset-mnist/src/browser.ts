/** @modnas/dataset-mnist in a browser (the `browser` condition of its exports): the images are fetched (source.browser.ts). */
export { default } from './plugin.js';
export { mnist } from './mnist.js';
export { datasetOf, decodeIdx, mnistSchema, padImages, parseIdx, repeatChannels, resizeImages } from './images.js';
export type { Decoded, MnistConfig } from './images.js';
