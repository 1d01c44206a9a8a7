// What runtime's own tests share (not part of the package: index.ts does not export it).
import type { AnyComponentDef } from '@modnas/core';
import { z } from '@modnas/core';
import { ArraySplit } from '@modnas/kit-estim';

/** Dataset `Tiny`: `size` 1x1x1 images whose value is their label (i % classes); the test split is the first `testSize`. */
export function tinyDataset(size: number, classes: number, testSize = size): AnyComponentDef {
  return {
    kind: 'dataset',
    id: 'Tiny',
    description: 'x',
    schema: z.strictObject({}),
    create: () => {
      const images = Float32Array.from({ length: size }, (_, i) => i % classes);
      const labels = Int32Array.from({ length: size }, (_, i) => i % classes);
      const shape: [number, number, number] = [1, 1, 1];
      return { name: 'Tiny', inputShape: shape, numClasses: classes, train: new ArraySplit(images, labels, shape), test: new ArraySplit(images.slice(0, testSize), labels.slice(0, testSize), shape) };
    },
  };
}
