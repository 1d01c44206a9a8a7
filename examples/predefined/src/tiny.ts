/** The predefined experiments shrunk to seconds on the cpu backend, for the tests that run them. */

/** Shrinks an example to seconds on the cpu backend: a thin, shallow net on 16x16 synthetic images, one epoch each. */
export const tiny = (out: string) => [
  `output_dir=${out}`,
  'quick=true',
  'model.args={width_coeff: 0.25, depth_coeff: 0.25}',
  'data={type: Synthetic, size: 24, test_size: 8, image_size: 16, num_classes: 10}',
  'data_provider.train_size=8',
  'data_provider.valid_size=8',
  'trainer.batch_size=8',
];

/** As tiny, on MNIST digits centred in 32x32 (the training step: its exported model is fed PNG files). */
export const tinyImages = (out: string) => tiny(out).map((o) => (o.startsWith('data=') ? 'data={type: MNIST, image_size: 32, channels: 3}' : o));

/**
 * DARTS' second-order step runs every candidate of every block several times: on a reduced space
 * (two candidates per block, on top of the tiny net's 7 blocks) it takes seconds, not a minute.
 * The native file is reduced with native keys, the seed file with its own keys.
 */
export const REDUCED: Record<string, { native: string[]; seed: string[] }> = {
  darts: {
    native: ['construct.mixed_op.primitives=[MB3E3, MB5E3]'],
    seed: ['nas.search_space.custom.search.mixed_op.candidates=[MB3E3, MB5E3]'],
  },
};
