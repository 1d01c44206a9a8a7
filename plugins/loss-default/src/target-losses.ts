import { defineComponent, tf, z } from '@modnas/core';
import type { Reduction } from './common.js';
import { TaskLoss, classWeightSchema, classWeights, logSigmoid, modeSchema, oneHotOf, reduce, reductionSchema, softplus, trainableReduction } from './common.js';

// The torch losses defined on a target of the input's shape. The original's wrapper hands them the
// logits [N, C] and the labels [N], which torch refuses; here the target is the labels' one-hot
// (0/1), or its ±1 form (2·onehot - 1) where torch's loss expects ±1 targets. Each pure function
// below is torch's formula on any (input, target) of one shape.

export function torchMseLoss(x: tf.Tensor, t: tf.Tensor, reduction: Reduction = 'mean'): tf.Scalar {
  return tf.tidy(() => reduce(tf.squaredDifference(x, t), reduction));
}

export function torchL1Loss(x: tf.Tensor, t: tf.Tensor, reduction: Reduction = 'mean'): tf.Scalar {
  return tf.tidy(() => reduce(tf.abs(tf.sub(x, t)), reduction));
}

/** torch.nn.SmoothL1Loss: 0.5 d² / beta where |d| < beta, else |d| - 0.5 beta (beta 0: L1); HuberLoss(delta = beta) / beta. */
export function torchSmoothL1Loss(x: tf.Tensor, t: tf.Tensor, beta = 1, reduction: Reduction = 'mean'): tf.Scalar {
  return tf.tidy(() => (beta === 0 ? reduce(tf.abs(tf.sub(x, t)), reduction) : tf.div<tf.Scalar>(torchHuberLoss(x, t, beta, reduction), beta)));
}

/**
 * torch.nn.HuberLoss: 0.5 d² where |d| ≤ delta, else delta · (|d| - 0.5 delta); written with
 * q = min(|d|, delta) as 0.5 q² + delta (|d| - q), so that no comparison is on the gradient's path.
 */
export function torchHuberLoss(x: tf.Tensor, t: tf.Tensor, delta = 1, reduction: Reduction = 'mean'): tf.Scalar {
  return tf.tidy(() => {
    const d = tf.abs(tf.sub(x, t));
    const q = tf.minimum(d, delta);
    return reduce(tf.add(tf.mul(0.5, tf.square(q)), tf.mul(delta, tf.sub(d, q))), reduction);
  });
}

/** torch.nn.PoissonNLLLoss: e^x - t·x (log_input), else x - t·log(x + eps); full adds Stirling's t·log t - t + ½ log(2πt) where t > 1. */
export function torchPoissonNllLoss(x: tf.Tensor, t: tf.Tensor, o: { log_input?: boolean; full?: boolean; eps?: number; reduction?: Reduction } = {}): tf.Scalar {
  return tf.tidy(() => {
    let l = (o.log_input ?? true) ? tf.sub(tf.exp(x), tf.mul(t, x)) : tf.sub(x, tf.mul(t, tf.log(tf.add(x, o.eps ?? 1e-8))));
    if (o.full) {
      const safe = tf.maximum(t, 1);
      const stirling = tf.add(tf.sub(tf.mul(safe, tf.log(safe)), safe), tf.mul(0.5, tf.log(tf.mul(2 * Math.PI, safe))));
      l = tf.add(l, tf.where(tf.greater(t, 1), stirling, tf.zerosLike(stirling)));
    }
    return reduce(l, o.reduction ?? 'mean');
  });
}

/** torch.nn.GaussianNLLLoss with a constant variance: ½ (log max(var, eps) + (x - t)² / max(var, eps)), + ½ log 2π when full. */
export function torchGaussianNllLoss(x: tf.Tensor, t: tf.Tensor, o: { var?: number; full?: boolean; eps?: number; reduction?: Reduction } = {}): tf.Scalar {
  return tf.tidy(() => {
    const v = Math.max(o.var ?? 1, o.eps ?? 1e-6);
    let l = tf.mul(0.5, tf.add(Math.log(v), tf.div(tf.squaredDifference(x, t), v)));
    if (o.full) l = tf.add(l, 0.5 * Math.log(2 * Math.PI));
    return reduce(l, o.reduction ?? 'mean');
  });
}

/** torch.nn.SoftMarginLoss: log(1 + e^(-t·x)), t = ±1. */
export function torchSoftMarginLoss(x: tf.Tensor, t: tf.Tensor, reduction: Reduction = 'mean'): tf.Scalar {
  return tf.tidy(() => reduce(softplus(tf.neg(tf.mul(t, x))), reduction));
}

/** torch.nn.MultiLabelSoftMarginLoss: -mean_c w_c (t log σ(x) + (1 - t) log σ(-x)) per example. */
export function torchMultiLabelSoftMarginLoss(x: tf.Tensor2D, t: tf.Tensor2D, o: { weight?: readonly number[] | null; reduction?: Reduction } = {}): tf.Scalar {
  return tf.tidy(() => {
    let l = tf.neg(tf.add(tf.mul(t, logSigmoid(x)), tf.mul(tf.sub(1, t), logSigmoid(tf.neg(x)))));
    if (o.weight) l = tf.mul(l, classWeights('MultiLabelSoftMarginLoss', 'weight', o.weight, x.shape[1]));
    return reduce(tf.mean(l, 1), o.reduction ?? 'mean');
  });
}

/** torch.nn.HingeEmbeddingLoss: x where t = 1, max(0, margin - x) where t = -1. */
export function torchHingeEmbeddingLoss(x: tf.Tensor, t: tf.Tensor, margin = 1, reduction: Reduction = 'mean'): tf.Scalar {
  return tf.tidy(() => {
    const neg = tf.where(tf.notEqual(t, 1), tf.relu(tf.sub(margin, x)), tf.zerosLike(x));
    const pos = tf.where(tf.notEqual(t, -1), x, tf.zerosLike(x));
    return reduce(tf.add(neg, pos), reduction);
  });
}

/** torch.nn.KLDivLoss: t (log t - x) (0 where t = 0), or e^t (t - x) with log_target; 'batchmean' divides the sum by N. */
export function torchKlDivLoss(x: tf.Tensor, t: tf.Tensor, o: { log_target?: boolean; reduction?: Reduction | 'batchmean' } = {}): tf.Scalar {
  return tf.tidy(() => {
    const l = o.log_target
      ? tf.mul(tf.exp(t), tf.sub(t, x))
      : tf.sub(tf.where(tf.greater(t, 0), tf.mul(t, tf.log(tf.maximum(t, 1e-30))), tf.zerosLike(t)), tf.mul(t, x));
    const r = o.reduction ?? 'mean';
    return r === 'batchmean' ? tf.div(tf.sum(l), x.shape[0]) : reduce(l, r);
  });
}

/** torch.nn.BCEWithLogitsLoss: -w (p·t·log σ(x) + (1 - t) log σ(-x)), p the pos_weight of each class. */
export function torchBceWithLogitsLoss(x: tf.Tensor2D, t: tf.Tensor2D, o: { weight?: readonly number[] | null; pos_weight?: readonly number[] | null; reduction?: Reduction } = {}): tf.Scalar {
  return tf.tidy(() => {
    const c = x.shape[1];
    const pw: tf.Tensor = o.pos_weight ? classWeights('BCEWithLogitsLoss', 'pos_weight', o.pos_weight, c) : tf.scalar(1);
    let l = tf.neg(tf.add(tf.mul(tf.mul(pw, t), logSigmoid(x)), tf.mul(tf.sub(1, t), logSigmoid(tf.neg(x)))));
    if (o.weight) l = tf.mul(l, classWeights('BCEWithLogitsLoss', 'weight', o.weight, c));
    return reduce(l, o.reduction ?? 'mean');
  });
}

/** torch.nn.BCELoss of p = σ(x): -w (t·log p + (1 - t) log(1 - p)), each log clamped at -100 as torch does. */
export function torchBceLossOfSigmoid(x: tf.Tensor2D, t: tf.Tensor2D, o: { weight?: readonly number[] | null; reduction?: Reduction } = {}): tf.Scalar {
  return tf.tidy(() => {
    let l = tf.neg(tf.add(tf.mul(t, tf.maximum(logSigmoid(x), -100)), tf.mul(tf.sub(1, t), tf.maximum(logSigmoid(tf.neg(x)), -100))));
    if (o.weight) l = tf.mul(l, classWeights('BCELoss', 'weight', o.weight, x.shape[1]));
    return reduce(l, o.reduction ?? 'mean');
  });
}

/** ±1 targets from the labels: 1 at the true class, -1 elsewhere. */
const signsOf = (x: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor2D => tf.sub(tf.mul(oneHotOf(x, y), 2), 1);

const oneHotNote = "the target is the labels' one-hot, replacing the task loss";
const signNote = "the target is the labels' ±1 form (1 at the true class, -1 elsewhere), replacing the task loss";

/** A torch loss with reduction on (logits, one-hot or ±1 target). */
function targetLoss<S extends z.ZodRawShape>(
  id: string,
  description: string,
  shape: S,
  target: 'onehot' | 'sign',
  fn: (x: tf.Tensor2D, t: tf.Tensor2D, c: z.output<z.ZodObject<S>> & { reduction: Reduction }) => tf.Scalar,
) {
  const schema = z.strictObject({ ...shape, reduction: reductionSchema, mode: modeSchema });
  return defineComponent({
    kind: 'loss',
    id,
    description,
    schema,
    create(config) {
      const c = config as unknown as z.output<z.ZodObject<S>> & { reduction: 'mean' | 'sum' | 'none'; mode: 'all' | 'train' | 'eval' | 'arch' };
      const reduction = trainableReduction(id, c.reduction);
      return new TaskLoss(id, c.mode, (x, y) => fn(x, target === 'sign' ? signsOf(x, y) : oneHotOf(x, y), { ...c, reduction }));
    },
  });
}

export const mseLoss = targetLoss('MSELoss', `torch's MSELoss, mean (x - t)² over the logits; ${oneHotNote}`, {}, 'onehot', (x, t, c) => torchMseLoss(x, t, c.reduction));

export const l1Loss = targetLoss('L1Loss', `torch's L1Loss, mean |x - t| over the logits; ${oneHotNote}`, {}, 'onehot', (x, t, c) => torchL1Loss(x, t, c.reduction));

export const smoothL1Loss = targetLoss(
  'SmoothL1Loss',
  `torch's SmoothL1Loss (quadratic below beta, linear above) over the logits; ${oneHotNote}`,
  { beta: z.number().min(0).default(1).describe("torch's beta: where the loss turns from quadratic to linear (0: L1)") },
  'onehot',
  (x, t, c) => torchSmoothL1Loss(x, t, c.beta, c.reduction),
);

export const huberLoss = targetLoss(
  'HuberLoss',
  `torch's HuberLoss (quadratic up to delta, then delta-linear) over the logits; ${oneHotNote}`,
  { delta: z.number().positive().default(1).describe("torch's delta: where the loss turns from quadratic to linear") },
  'onehot',
  (x, t, c) => torchHuberLoss(x, t, c.delta, c.reduction),
);

export const poissonNllLoss = targetLoss(
  'PoissonNLLLoss',
  `torch's PoissonNLLLoss, the logits as (log) Poisson rates; ${oneHotNote}`,
  {
    log_input: z.boolean().default(true).describe("torch's log_input: the input is the log rate, loss e^x - t·x (true); false: the rate itself, x - t·log(x + eps)"),
    full: z.boolean().default(false).describe("torch's full: add Stirling's term t·log t - t + ½ log(2πt) (where t > 1; never with one-hot targets)"),
    eps: z.number().positive().default(1e-8).describe("torch's eps: added to the rate under the log when log_input is false"),
  },
  'onehot',
  (x, t, c) => torchPoissonNllLoss(x, t, c),
);

export const gaussianNllLoss = targetLoss(
  'GaussianNLLLoss',
  `torch's GaussianNLLLoss, the logits as Gaussian means with one constant variance (a classifier gives no variance); ${oneHotNote}`,
  {
    var: z.number().positive().default(1).describe("The variance torch's loss takes as its third input: one constant here (a classifier outputs no variance)"),
    full: z.boolean().default(false).describe("torch's full: add the constant ½ log 2π"),
    eps: z.number().positive().default(1e-6).describe("torch's eps: the variance is clamped to at least eps"),
  },
  'onehot',
  (x, t, c) => torchGaussianNllLoss(x, t, c),
);

export const softMarginLoss = targetLoss('SoftMarginLoss', `torch's SoftMarginLoss, mean log(1 + e^(-t·x)) over the logits; ${signNote}`, {}, 'sign', (x, t, c) => torchSoftMarginLoss(x, t, c.reduction));

export const multiLabelSoftMarginLoss = targetLoss(
  'MultiLabelSoftMarginLoss',
  `torch's MultiLabelSoftMarginLoss, a sigmoid cross-entropy per class averaged over the classes; ${oneHotNote}`,
  { weight: classWeightSchema },
  'onehot',
  (x, t, c) => torchMultiLabelSoftMarginLoss(x, t, c),
);

export const hingeEmbeddingLoss = targetLoss(
  'HingeEmbeddingLoss',
  `torch's HingeEmbeddingLoss over the logits: x at the true class, max(0, margin - x) at the others; ${signNote}`,
  { margin: z.number().default(1).describe("torch's margin") },
  'sign',
  (x, t, c) => torchHingeEmbeddingLoss(x, t, c.margin, c.reduction),
);

const klReduction = z.enum(['mean', 'sum', 'batchmean', 'none']).default('mean').describe("torch's reduction: 'mean' (torch's default, over every element), 'sum' or 'batchmean' (the sum over N, the KL divergence)");

export const klDivLossSchema = z.strictObject({
  reduction: klReduction,
  log_target: z.boolean().default(false).describe("torch's log_target: the target is given as log-probabilities"),
  log_softmax: z
    .boolean()
    .default(false)
    .describe("Not torch's: apply log_softmax to the logits first (with batchmean: the KL divergence from the labels' one-hot, which is cross-entropy); false: the outputs as they are, as the original passes them (torch expects log-probabilities)"),
  mode: modeSchema,
});

export const klDivLoss = defineComponent({
  kind: 'loss',
  id: 'KLDivLoss',
  description: `torch's KLDivLoss, t·(log t - x) with the outputs taken as log-probabilities (log_softmax: true applies it); ${oneHotNote}`,
  schema: klDivLossSchema,
  create(c) {
    if (c.reduction === 'none') trainableReduction('KLDivLoss', 'none');
    const reduction = c.reduction as Reduction | 'batchmean';
    return new TaskLoss('KLDivLoss', c.mode, (x, y) => torchKlDivLoss(c.log_softmax ? tf.logSoftmax(x) : x, oneHotOf(x, y), { log_target: c.log_target, reduction }));
  },
});

export const bceWithLogitsLoss = targetLoss(
  'BCEWithLogitsLoss',
  `torch's BCEWithLogitsLoss, a sigmoid cross-entropy per class (one-vs-rest); ${oneHotNote}`,
  { weight: classWeightSchema, pos_weight: z.array(z.number().min(0)).nullable().default(null).describe("torch's pos_weight: the factor of each class's positive term (null: all 1)") },
  'onehot',
  (x, t, c) => torchBceWithLogitsLoss(x, t, c),
);

export const bceLoss = targetLoss(
  'BCELoss',
  `torch's BCELoss of the logits' sigmoid (BCELoss needs probabilities; the original passes logits, which torch refuses); ${oneHotNote}`,
  { weight: classWeightSchema },
  'onehot',
  (x, t, c) => torchBceLossOfSigmoid(x, t, c),
);
