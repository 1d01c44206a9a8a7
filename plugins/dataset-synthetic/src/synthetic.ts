import { Rng, defineComponent, z } from '@modnas/core';
import { ArraySplit, fitsInMemory } from '@modnas/kit-estim';

export const syntheticSchema = z.strictObject({
  size: z.number().int().positive().default(512).describe('Number of training examples'),
  test_size: z.number().int().nonnegative().default(128).describe('Number of test examples'),
  image_size: z.number().int().positive().default(16).describe('Height and width of the images'),
  channels: z.number().int().positive().default(3).describe('Channels per image'),
  num_classes: z.number().int().min(2).default(10).describe('Number of classes'),
  noise: z.number().nonnegative().default(0.3).describe('Std of the Gaussian noise around each class template'),
  seed: z.number().int().nonnegative().default(0).describe('Seed of the templates and the noise'),
}).superRefine(fitsInMemory((c) => (c.size + c.test_size + c.num_classes) * c.image_size ** 2 * c.channels * 4, 'size', 'the images (float32, size + test_size of image_size² x channels)'));

/**
 * Images drawn around one random template per class: learnable in a few steps, so tests and
 * quick runs exercise the whole loop without real data.
 */
export const synthetic = defineComponent({
  kind: 'dataset',
  id: 'Synthetic',
  description: 'Synthetic images around one random template per class (tests and quick runs)',
  schema: syntheticSchema,
  create(c) {
    const rng = new Rng(c.seed);
    const shape: [number, number, number] = [c.image_size, c.image_size, c.channels];
    const per = shape[0] * shape[1] * shape[2];
    const templates = Array.from({ length: c.num_classes }, () => Float32Array.from({ length: per }, () => rng.normal()));
    const make = (n: number): ArraySplit => {
      const images = new Float32Array(n * per);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const y = rng.int(c.num_classes);
        labels[i] = y;
        for (let j = 0; j < per; j++) images[i * per + j] = templates[y][j] + c.noise * rng.normal();
      }
      return new ArraySplit(images, labels, shape);
    };
    return { name: 'Synthetic', inputShape: shape, numClasses: c.num_classes, train: make(c.size), test: make(c.test_size) };
  },
});
