import { tf } from '@modnas/core';
import { TensorMixedOp, isMixedOp } from '@modnas/kit-mixed-op';
import { alphaGradients, describeConformance, makeBuildContext, registerTestPrimitives } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { WeightedSumOp, weightedSum } from './weighted-sum.js';

// Stand-in candidates until the real primitives are installed: TestLin = tanh(conv1x1(x)), seeded.
registerTestPrimitives();

const PRIMS = [{ type: 'TestLin', seed: 1 }, { type: 'TestLin', seed: 2 }, { type: 'TestLin', seed: 3 }];
const SLOT = { chnIn: 2, chnOut: 3, stride: 1 };

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url), configs: { WeightedSum: { primitives: PRIMS } } });

async function make(alpha: number[]): Promise<{ op: WeightedSumOp; dispose: () => void }> {
  const ctx = makeBuildContext({ seed: 3 });
  const op = (await ctx.build('mixed-op', { type: 'WeightedSum', primitives: PRIMS }, SLOT)) as WeightedSumOp;
  op.alpha.assign(alpha);
  return { op, dispose: () => (op.dispose(), ctx.space.dispose()) };
}

const input = (): tf.Tensor4D => tf.tensor4d(Array.from({ length: 2 * 3 * 3 * 2 }, (_, i) => Math.sin(i + 1)), [2, 3, 3, 2]);
const softmax = (a: number[]): number[] => {
  const e = a.map((v) => Math.exp(v - Math.max(...a)));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
};

describe('WeightedSum', () => {
  it('is found by its alias, makes a t_<n> tensor param of shape [n] and a generic mixed op', async () => {
    const ctx = makeBuildContext();
    const op = await ctx.build('mixed-op', { type: 'SoftmaxSumMixedOp', primitives: ['TestLin', { type: 'TestLin', seed: 5 }] }, SLOT);
    expect(op).toBeInstanceOf(WeightedSumOp);
    expect(op).toBeInstanceOf(TensorMixedOp);
    expect(isMixedOp(op)).toBe(true);
    const ws = op as WeightedSumOp;
    expect(ws.alpha.name).toBe('t_0');
    expect(ws.alpha.shape).toEqual([2]);
    expect(ctx.space.names()).toEqual(['t_0']);
    expect(ws.candidateNames()).toEqual(['TestLin', 'TestLin_1']);
    expect(weightedSum.refs?.(weightedSum.schema.parse({ primitives: ['A', 'B'] })).map((r) => [r.kind, r.spec, r.path])).toEqual([
      ['primitive', 'A', 'primitives.0'],
      ['primitive', 'B', 'primitives.1'],
    ]);
    op.dispose();
    ctx.space.dispose();
  });

  it('equals the hand-computed softmax(alpha)-weighted sum, in training and in evaluation', async () => {
    const alpha = [0.3, -1.2, 0.9];
    const { op, dispose } = await make(alpha);
    const p = softmax(alpha);
    const x = input();
    const outs = op.candidates().map((c) => Array.from(tf.tidy(() => c.call(x)).dataSync()));
    const want = outs[0].map((_, k) => outs.reduce((acc, o, i) => acc + p[i] * o[k], 0));
    for (const training of [true, false]) {
      op.train(training);
      const got = tf.tidy(() => Array.from(op.call(x).dataSync()));
      got.forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
    }
    expect(op.probs().map((v) => Number(v.toFixed(6)))).toEqual(p.map((v) => Number(v.toFixed(6))));
    expect(op.toArchDesc()).toEqual({ type: 'TestLin', seed: 3 });
    expect(op.sampledIndex).toBeUndefined();
    x.dispose();
    dispose();
  });

  it('gives alpha the gradient that finite differences measure, without leaking tensors', async () => {
    const { op, dispose } = await make([0.2, -0.4, 0.7]);
    const x = input();
    const target = tf.tidy(() => tf.mul(tf.onesLike(op.call(x)), 0.3));
    const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(op.call(x), target)));
    const { grad: g, fd, leaked } = alphaGradients(op.alpha, loss);
    expect(leaked).toBe(0);
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(1e-3);
    g.forEach((v, i) => expect(v).toBeCloseTo(fd[i], 3));
    // Softmax gradients sum to zero.
    expect(g.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 5);
    tf.dispose([x, target]);
    dispose();
  });
});
