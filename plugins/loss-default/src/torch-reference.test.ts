// Each loss's value on one fixed batch against PyTorch 1.13. The reference numbers were computed with
// /usr/bin/python3 (torch 1.13, float64) on
//   x = [[0.5, -1.2, 2.0], [1.5, 0.3, -0.7], [-0.4, 0.9, 0.1], [2.2, -0.3, 0.8]], y = [2, 0, 2, 1],
//   t = F.one_hot(y, 3).double(), pm = 2 * t - 1,
// e.g. nn.MSELoss()(x, t), nn.SoftMarginLoss()(x, pm), nn.NLLLoss()(x, y), nn.MultiMarginLoss()(x, y),
// nn.MultiLabelMarginLoss()(x, [[y, -1, -1]]), nn.TripletMarginLoss()(x[[0, 2]], x[[2, 0]], x[[1, 3]]),
// nn.MarginRankingLoss()(x[y] repeated, x[i≠y], ones), nn.CosineEmbeddingLoss()(x[i], x[j], ±1) over i < j;
// the call of each is in the comment beside it.
import type { ComponentDef, Loss } from '@modnas/core';
import { ArchSpace, ModnasError, tf } from '@modnas/core';
import { Linear } from '@modnas/nn';
import { makeBuildContext, makeEstimContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { torchGaussianNllLoss, torchPoissonNllLoss } from './target-losses.js';
import { batchPairs, batchTriplets } from './triplet-losses.js';

const X = [
  [0.5, -1.2, 2.0],
  [1.5, 0.3, -0.7],
  [-0.4, 0.9, 0.1],
  [2.2, -0.3, 0.8],
];
const Y = [2, 0, 2, 1];
const W = [0.2, 0.3, 0.5];

const byId = (id: string): ComponentDef => {
  const def = plugin.components.find((c) => c.id === id);
  if (!def) throw new Error(`no component ${id}`);
  return def as ComponentDef;
};
const build = async (id: string, args: Record<string, unknown> = {}): Promise<Loss> => {
  const def = byId(id);
  return (await def.create(def.schema.parse(args), makeBuildContext(), undefined)) as Loss;
};

/** The loss of the fixed batch, through the session the estimator would start. */
async function lossOf(id: string, args: Record<string, unknown> = {}): Promise<{ value: number; taskWeight: number | undefined }> {
  const loss = await build(id, args);
  const ctx = makeEstimContext({ model: new Linear(3, 3), space: new ArchSpace(), trainer: {} as never });
  const s = loss.start(ctx);
  const logits = tf.tensor2d(X);
  const batch = { x: tf.zeros<tf.Rank.R4>([4, 1, 1, 3]), y: tf.tensor1d(Y, 'int32') };
  const before = tf.memory().numTensors;
  const v = s.term({ model: ctx.model, logits, batch });
  const value = v.dataSync()[0];
  v.dispose();
  expect(tf.memory().numTensors).toBe(before); // the term leaks nothing
  s.end();
  tf.dispose([logits, batch.x, batch.y]);
  return { value, taskWeight: s.taskWeight };
}

const cases: Array<[string, Record<string, unknown>, number, string]> = [
  ['NLLLoss', {}, -0.825, 'nn.NLLLoss()(x, y)'],
  ['NLLLoss', { weight: W }, -0.84, 'nn.NLLLoss(weight=[0.2, 0.3, 0.5])(x, y)'],
  ['NLLLoss', { ignore_index: 2, reduction: 'sum' }, -1.2, "nn.NLLLoss(ignore_index=2, reduction='sum')(x, y)"],
  ['NLLLoss', { log_softmax: true }, 1.1766986, 'nn.NLLLoss()(F.log_softmax(x, 1), y)'],
  ['MultiMarginLoss', {}, 0.6583333333, 'nn.MultiMarginLoss()(x, y)'],
  ['MultiMarginLoss', { p: 2, margin: 0.5, weight: W }, 0.3594166667, 'nn.MultiMarginLoss(p=2, margin=0.5, weight=[0.2, 0.3, 0.5])(x, y)'],
  ['MultiLabelMarginLoss', {}, 0.6583333333, 'nn.MultiLabelMarginLoss()(x, [[y_n, -1, -1]])'],
  ['MarginRankingLoss', {}, 0.55, 'nn.MarginRankingLoss()(x[y] x2, x[i≠y], ones(8))'],
  ['MarginRankingLoss', { margin: 0.5 }, 0.7375, 'nn.MarginRankingLoss(margin=0.5)(...)'],
  ['CrossEntropySoftTargetLoss', {}, 1.399237236, 'mean(sum(-softmax(t) * log_softmax(x), 1))'],
  ['CrossEntropySoftTargetLoss', { softmax: false }, 1.1766986, 'mean(sum(-t * log_softmax(x), 1))'],
  ['MSELoss', {}, 1.039166667, 'nn.MSELoss()(x, t)'],
  ['MSELoss', { reduction: 'sum' }, 12.47, "nn.MSELoss(reduction='sum')(x, t)"],
  ['L1Loss', {}, 0.8916666667, 'nn.L1Loss()(x, t)'],
  ['SmoothL1Loss', {}, 0.4541666667, 'nn.SmoothL1Loss()(x, t)'],
  ['SmoothL1Loss', { beta: 0.5 }, 0.6458333333, 'nn.SmoothL1Loss(beta=0.5)(x, t)'],
  ['HuberLoss', {}, 0.4541666667, 'nn.HuberLoss()(x, t)'],
  ['HuberLoss', { delta: 0.5 }, 0.3229166667, 'nn.HuberLoss(delta=0.5)(x, t)'],
  ['PoissonNLLLoss', {}, 2.382797624, 'nn.PoissonNLLLoss()(x, t)'],
  ['GaussianNLLLoss', {}, 0.5195833333, 'nn.GaussianNLLLoss()(x, t, ones)'],
  ['GaussianNLLLoss', { var: 0.5, full: true }, 1.61153161, 'nn.GaussianNLLLoss(full=True)(x, t, full(0.5))'],
  ['SoftMarginLoss', {}, 0.7960289209, 'nn.SoftMarginLoss()(x, pm)'],
  ['MultiLabelSoftMarginLoss', {}, 0.7960289209, 'nn.MultiLabelSoftMarginLoss()(x, t)'],
  ['MultiLabelSoftMarginLoss', { weight: W }, 0.2446222924, 'nn.MultiLabelSoftMarginLoss(weight=[0.2, 0.3, 0.5])(x, t)'],
  ['HingeEmbeddingLoss', {}, 0.8416666667, 'nn.HingeEmbeddingLoss()(x, pm)'],
  ['HingeEmbeddingLoss', { margin: 0.5 }, 0.6083333333, 'nn.HingeEmbeddingLoss(margin=0.5)(x, pm)'],
  ['KLDivLoss', {}, -0.275, 'nn.KLDivLoss()(x, t)'],
  ['KLDivLoss', { reduction: 'batchmean', log_softmax: true }, 1.1766986, "nn.KLDivLoss(reduction='batchmean')(F.log_softmax(x, 1), t)"],
  ['KLDivLoss', { log_target: true }, -0.04143356001, 'nn.KLDivLoss(log_target=True)(x, t)'],
  ['BCEWithLogitsLoss', {}, 0.7960289209, 'nn.BCEWithLogitsLoss()(x, t)'],
  ['BCEWithLogitsLoss', { pos_weight: [1, 2, 3] }, 0.9957793032, 'nn.BCEWithLogitsLoss(pos_weight=[1., 2., 3.])(x, t)'],
  ['BCELoss', {}, 0.7960289209, 'nn.BCELoss()(torch.sigmoid(x), t)'],
  ['TripletMarginLoss', {}, 0.8743233116, 'nn.TripletMarginLoss()(x[[0, 2]], x[[2, 0]], x[[1, 3]])'],
  ['TripletMarginLoss', { margin: 3, p: 1, swap: true }, 4.35, 'nn.TripletMarginLoss(margin=3.0, p=1, swap=True)(...)'],
  ['TripletMarginWithDistanceLoss', {}, 0.8743233116, 'nn.TripletMarginWithDistanceLoss()(...)'],
  ['TripletMarginWithDistanceLoss', { distance_function: 'cosine_distance', margin: 2 }, 2.102521235, 'nn.TripletMarginWithDistanceLoss(distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), margin=2.0)(...)'],
  ['CosineEmbeddingLoss', {}, 0.4447272784812213, 'nn.CosineEmbeddingLoss()(x[i], x[j], ±1) over the pairs i < j'],
  ['CosineEmbeddingLoss', { margin: 0.3, reduction: 'sum' }, 2.0683636708873276, "nn.CosineEmbeddingLoss(margin=0.3, reduction='sum')(...)"],
];

describe('the torch losses on logits and labels equal PyTorch 1.13', () => {
  it.each(cases)('%s %j = %d (%s)', async (id, args, want) => {
    const { value, taskWeight } = await lossOf(id, args);
    expect(value).toBeCloseTo(want, 5);
    expect(taskWeight).toBe(0); // it replaces the task loss, as the original's criterion does
  });

  it('NLLLoss2d is NLLLoss (torch\'s old name)', () => {
    expect(byId('NLLLoss').aliases).toContain('NLLLoss2d');
  });

  it('the formulas on targets other than one-hot: PoissonNLLLoss(log_input=False, full=True), GaussianNLLLoss', () => {
    // nn.PoissonNLLLoss(log_input=False, full=True)(x.abs(), t * 3) = 2.09834688 (Stirling's term where t > 1)
    const v = tf.tidy(() => torchPoissonNllLoss(tf.abs(tf.tensor2d(X)), tf.mul(tf.oneHot(Y, 3), 3), { log_input: false, full: true }).dataSync()[0]);
    expect(v).toBeCloseTo(2.09834688, 5);
    // nn.GaussianNLLLoss()(x, t, ones) = 0.5195833333
    const g = tf.tidy(() => torchGaussianNllLoss(tf.tensor2d(X), tf.oneHot(Y, 3)).dataSync()[0]);
    expect(g).toBeCloseTo(0.5195833333, 5);
  });

  it('triplets come from the labels: positive the next of the same label, negative the next of another, wrapping round', () => {
    expect(batchTriplets([2, 0, 2, 1])).toEqual({ a: [0, 2], p: [2, 0], n: [1, 3] });
    expect(batchTriplets([0, 1, 1, 0])).toEqual({ a: [0, 1, 2, 3], p: [3, 2, 1, 0], n: [1, 3, 3, 1] });
    expect(batchTriplets([0, 0, 0])).toEqual({ a: [], p: [], n: [] });
    // CosineEmbeddingLoss's pairs: every i < j, target 1 for the same label (torch.triu_indices(4, 4, 1))
    expect(batchPairs([2, 0, 2, 1])).toEqual({ i: [0, 0, 0, 1, 1, 2], j: [1, 2, 3, 2, 3, 3], y: [-1, 1, -1, -1, -1, -1] });
  });
});

describe('bad args are coded errors', () => {
  it("reduction 'none' is refused at create: a step needs one number", async () => {
    for (const id of ['MSELoss', 'NLLLoss', 'KLDivLoss', 'TripletMarginLoss']) {
      await expect(build(id, { reduction: 'none' })).rejects.toMatchObject({ code: 'MODNAS_E_LOSS_REDUCTION' });
    }
  });

  it('a class weight of the wrong length names the key and the classes', async () => {
    for (const [id, key] of [
      ['NLLLoss', 'weight'],
      ['MultiMarginLoss', 'weight'],
      ['BCEWithLogitsLoss', 'pos_weight'],
    ] as const) {
      const err = await lossOf(id, { [key]: [1, 2] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModnasError);
      expect(err).toMatchObject({ code: 'MODNAS_E_LOSS_WEIGHT' });
      expect((err as Error).message).toContain(`${key} has 2 factors and the network gives 3 classes`);
    }
  });

  it('logits that are not [N, C] against N labels are refused', async () => {
    const loss = await build('MSELoss');
    const s = loss.start(makeEstimContext({ model: new Linear(3, 3), space: new ArchSpace(), trainer: {} as never }));
    const logits = tf.zeros([4, 3]);
    const batch = { x: tf.zeros<tf.Rank.R4>([3, 1, 1, 3]), y: tf.tensor1d([0, 1, 2], 'int32') };
    expect(() => s.term({ model: new Linear(3, 3), logits, batch })).toThrow(expect.objectContaining({ code: 'MODNAS_E_LOSS_SHAPE' }));
    tf.dispose([logits, batch.x, batch.y]);
  });

  it("the schemas are torch's: unknown keys and values outside torch's fail validation", () => {
    expect(byId('MSELoss').schema.safeParse({ size_average: true }).success).toBe(false);
    expect(byId('MultiMarginLoss').schema.safeParse({ p: 3 }).success).toBe(false);
    expect(byId('HuberLoss').schema.safeParse({ delta: 0 }).success).toBe(false);
    expect(byId('GaussianNLLLoss').schema.safeParse({ var: -1 }).success).toBe(false);
  });
});
