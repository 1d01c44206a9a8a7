import type { Batch, GradientAccess, StateOptimizer, TensorParam } from '@modnas/core';
import { ArchSpace, Module, tf } from '@modnas/core';
import { crossEntropy } from '@modnas/nn';
import { describeConformance } from '@modnas/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectGradOptim, directGradOptimSchema } from './direct-grad-optim.js';
import plugin from './index.js';

/** logits = Σ_i softmax(α)_i f_i(x W): three candidates mixed by α. */
class ToyNet extends Module {
  readonly W: tf.Variable;

  constructor(readonly alpha: TensorParam) {
    super();
    this.W = this.addParam('W', tf.tensor2d([0.3, -0.2, 0.5, 0.1, 0.4, -0.6, -0.3, 0.2, 0.7, 0.5, -0.1, 0.2], [4, 3]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return mix(this.W, this.alpha.variable, x);
  }
}

function mix(W: tf.Tensor, alpha: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const h = tf.matMul(x, W);
  const p = tf.softmax(alpha);
  return tf.addN([h, tf.mul(tf.tanh(h), 2), tf.mul(tf.square(h), 0.5)].map((c, i) => tf.mul(c, tf.slice(p, [i], [1]))));
}

const batchOf = (xs: number[], ys: number[]): Batch => ({ x: tf.tensor2d(xs, [ys.length, 4]) as unknown as tf.Tensor4D, y: tf.tensor1d(ys, 'int32') });

interface Toy {
  space: ArchSpace;
  alpha: TensorParam;
  net: ToyNet;
  trn: Batch;
  val: Batch;
  access: GradientAccess & { drawn: string[] };
  dispose(): void;
}

function makeToy(): Toy {
  const space = new ArchSpace();
  const alpha = space.tensor({ shape: [3], init: [0.2, -0.1, 0.05] });
  const net = new ToyNet(alpha);
  const trn = batchOf([0.5, -1, 0.3, 0.8, -0.4, 0.9, 1.1, -0.2, 0.7, 0.1, -0.6, 0.4], [0, 2, 1]);
  const val = batchOf([-0.3, 0.8, 0.5, -0.2, 0.9, 0.4, -1.0, 0.6, 0.2, -0.5, 0.3, 0.7], [1, 0, 2]);
  const drawn: string[] = [];
  return {
    space,
    alpha,
    net,
    trn,
    val,
    access: {
      model: net,
      space,
      trainer: { batchSize: 3, currentLr: () => 0.1 } as unknown as StateOptimizer,
      drawn,
      trainBatch: () => (drawn.push('train'), trn),
      validBatch: () => (drawn.push('valid'), val),
      loss: (b: Batch) => tf.tidy(() => crossEntropy(net.call(b.x), b.y)),
    },
    dispose() {
      net.dispose();
      space.dispose();
      for (const t of [trn.x, trn.y, val.x, val.y]) t.dispose();
    },
  };
}

/** ∇α of the loss of one batch, computed directly. */
function refGrad(toy: Toy, b: Batch): number[] {
  return tf.tidy(() => Array.from(tf.grad((a: tf.Tensor) => crossEntropy(mix(toy.net.W, a, b.x), b.y))(tf.tensor1d(toy.alpha.toArray())).dataSync()));
}

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: {
    DirectGradOptim: (o) => {
      const toy = makeToy();
      (o as DirectGradOptim).step({ results: [], grad: toy.access });
      toy.dispose();
    },
    DirectGradOptimBiLevel: (o) => {
      const toy = makeToy();
      (o as DirectGradOptim).step({ results: [], grad: toy.access });
      toy.dispose();
    },
  },
});

describe('DirectGradOptim / DirectGradOptimBiLevel', () => {
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy();
  });
  afterEach(() => toy.dispose());

  for (const split of ['train', 'valid'] as const) {
    it(`${split}: one Adam step along ∇α of the ${split} batch's loss, from that batch only`, () => {
      const lr = 0.01;
      const optim = new DirectGradOptim(toy.space, directGradOptimSchema.parse({ lr, weight_decay: 0 }), split);
      const want = refGrad(toy, split === 'train' ? toy.trn : toy.val);
      const other = refGrad(toy, split === 'train' ? toy.val : toy.trn);
      // The two batches pull α apart, so using the wrong one fails this test.
      expect(want.some((g, i) => Math.sign(g) !== Math.sign(other[i]))).toBe(true);
      const a0 = toy.alpha.toArray();
      const before = tf.memory().numTensors;
      optim.step({ results: [], grad: toy.access });
      expect(tf.memory().numTensors).toBe(before);
      expect(toy.access.drawn).toEqual([split]);
      // First Adam step moves each entry by −lr·sign(g).
      toy.alpha.toArray().forEach((a, i) => expect(a).toBeCloseTo(a0[i] - lr * Math.sign(want[i]), 6));
      optim.dispose();
    });
  }

  it('ids: train batch for DirectGradOptim, valid batch for DirectGradOptimBiLevel', async () => {
    const [single, bi] = plugin.components;
    const { makeBuildContext } = await import('@modnas/testkit');
    const ctx = makeBuildContext({ space: toy.space });
    const s = (await single.create(single.schema.parse({}), ctx, undefined)) as DirectGradOptim;
    const b = (await bi.create(bi.schema.parse({}), ctx, undefined)) as DirectGradOptim;
    expect([s.split, b.split]).toEqual(['train', 'valid']);
    expect([s.type, b.type]).toEqual(['DirectGradOptim', 'DirectGradOptimBiLevel']);
    s.dispose();
    b.dispose();
  });

  it('a restored optimizer continues identically', () => {
    const cfg = directGradOptimSchema.parse({ lr: 0.05 });
    const a = new DirectGradOptim(toy.space, cfg, 'valid');
    for (let i = 0; i < 3; i++) a.step({ results: [], grad: toy.access });
    const saved = JSON.parse(JSON.stringify(a.state())) as unknown;
    const mid = toy.alpha.toArray();
    for (let i = 0; i < 2; i++) a.step({ results: [], grad: toy.access });
    const after = toy.alpha.toArray();
    toy.alpha.assign(mid);
    const b = new DirectGradOptim(toy.space, cfg, 'valid');
    b.restore(saved);
    for (let i = 0; i < 2; i++) b.step({ results: [], grad: toy.access });
    expect(toy.alpha.toArray()).toEqual(after);
    toy.alpha.assign(mid);
    const c = new DirectGradOptim(toy.space, cfg, 'valid');
    for (let i = 0; i < 2; i++) c.step({ results: [], grad: toy.access });
    expect(Math.max(...toy.alpha.toArray().map((v, i) => Math.abs(v - after[i])))).toBeGreaterThan(1e-4);
    expect(() => c.restore({ type: 'DirectGradOptim', adam: {} })).toThrow(/DirectGradOptim/);
    [a, b, c].forEach((o) => o.dispose());
  });
});
