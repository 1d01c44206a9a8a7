import { tf } from '@modnas/core';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { synthetic } from './synthetic.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    Synthetic: (ds) => {
      for (const b of (ds as { train: { batches(n: number): Iterable<{ x: tf.Tensor; y: tf.Tensor }> } }).train.batches(64)) {
        b.x.dispose();
        b.y.dispose();
      }
    },
  },
});

describe('Synthetic', () => {
  it('makes the sizes and shapes asked for, the same for the same seed', async () => {
    const cfg = synthetic.schema.parse({ size: 20, test_size: 4, image_size: 5, channels: 2, num_classes: 3 });
    const a = await synthetic.create(cfg, makeBuildContext(), undefined);
    const b = await synthetic.create(cfg, makeBuildContext(), undefined);
    expect(a.train.size).toBe(20);
    expect(a.test?.size).toBe(4);
    const [ba] = [...a.train.batches(20)];
    const [bb] = [...b.train.batches(20)];
    expect(ba.x.shape).toEqual([20, 5, 5, 2]);
    expect(Array.from(ba.y.dataSync()).every((y) => y >= 0 && y < 3)).toBe(true);
    expect(Array.from(ba.x.dataSync())).toEqual(Array.from(bb.x.dataSync()));
    tf.dispose([ba.x, ba.y, bb.x, bb.y]);
  });
});
