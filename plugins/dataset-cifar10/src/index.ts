import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { cifar10 } from './cifar10.js';

export { CIFAR10_CLASSES, cifar10, cifar10Dataset, cifar10Schema, cifarDir, decodeCifarPickle, decodeCifarRecords } from './cifar10.js';
export type { PyValue } from './pickle.js';
export { NdArray, PyTuple, unpickle } from './pickle.js';
export type { Cifar10Config } from './cifar10.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [cifar10],
});
