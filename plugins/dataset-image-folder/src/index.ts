import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { imageFolder } from './image-folder.js';

export { AUTO_STATS_IMAGES, ImageFolderSplit, channelStats, imageFolder, imageFolderDataset, imageFolderSchema } from './image-folder.js';
export type { ImageFolderConfig, ImageFolderDataset } from './image-folder.js';
export { scanImageFolder } from './scan.js';
export type { FileList, FolderScan } from './scan.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [imageFolder],
});
