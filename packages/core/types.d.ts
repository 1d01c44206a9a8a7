// The package's types: dist/index.d.ts plus tfjs-core's chained-op declarations (x.reshape(...)),
// which core registers at run time (src/tf.ts) and which a bundled .d.ts cannot carry.
/// <reference types="@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops" />
export * from './dist/index.js';
