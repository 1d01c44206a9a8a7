export * from './browser.js';
export { default } from './plugin.js';
export { loadMnist, mnistDataset, packagedMnistDir } from './source.js';
