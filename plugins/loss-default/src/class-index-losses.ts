import { defineComponent, tf, z } from '@modnas/core';
import type { Reduction } from './common.js';
import { TaskLoss, classWeightSchema, classWeights, modeSchema, oneHotOf, reduce, reductionSchema, trainableReduction } from './common.js';

// The torch losses defined on (input [N, C], class index [N]): computed on the network's outputs and
// the batch's labels exactly as torch computes them, with torch's arguments and defaults.

const logSoftmaxKey = z
  .boolean()
  .default(false)
  .describe("Not torch's: apply log_softmax to the logits first (then NLLLoss is CrossEntropyLoss); false: the network's outputs as they are, as the original passes them (torch expects log-probabilities)");

export const nllLossSchema = z.strictObject({
  weight: classWeightSchema,
  ignore_index: z.number().int().default(-100).describe("torch's ignore_index: examples with this label take no part (nor in the mean's denominator)"),
  reduction: reductionSchema,
  log_softmax: logSoftmaxKey,
  mode: modeSchema,
});
export type NLLLossConfig = z.output<typeof nllLossSchema>;

/** torch.nn.NLLLoss: -Σ w[y_n] x[n, y_n] over the examples not ignored, divided by Σ w[y_n] ('mean'). */
export function torchNllLoss(x: tf.Tensor2D, labels: tf.Tensor1D, o: { weight?: readonly number[] | null; ignore_index?: number; reduction?: Reduction } = {}): tf.Scalar {
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(x, oneHotOf(x, labels)), 1);
    const y = tf.cast(labels, 'int32');
    let w: tf.Tensor = o.weight ? tf.gather(classWeights('NLLLoss', 'weight', o.weight, x.shape[1]), tf.clipByValue(y, 0, x.shape[1] - 1)) : tf.onesLike(picked);
    w = tf.mul(w, tf.cast(tf.notEqual(y, o.ignore_index ?? -100), 'float32'));
    const total = tf.neg(tf.sum<tf.Scalar>(tf.mul(w, picked)));
    return (o.reduction ?? 'mean') === 'sum' ? total : tf.div<tf.Scalar>(total, tf.sum(w));
  });
}

export const nllLoss = defineComponent({
  kind: 'loss',
  id: 'NLLLoss',
  aliases: ['NLLLoss2d'],
  description: "torch's NLLLoss (NLLLoss2d: its old name) on the network's outputs (taken as log-probabilities) and the labels: -mean w[y]·x[y], replacing the task loss (log_softmax: true makes it cross-entropy)",
  schema: nllLossSchema,
  create(c) {
    const reduction = trainableReduction('NLLLoss', c.reduction);
    return new TaskLoss('NLLLoss', c.mode, (x, y) => torchNllLoss(c.log_softmax ? tf.logSoftmax(x) : x, y, { ...c, reduction }));
  },
});

export const multiMarginLossSchema = z.strictObject({
  p: z.union([z.literal(1), z.literal(2)]).default(1).describe("torch's p: 1 (hinge) or 2 (squared hinge)"),
  margin: z.number().default(1).describe("torch's margin"),
  weight: classWeightSchema,
  reduction: reductionSchema,
  mode: modeSchema,
});

/** torch.nn.MultiMarginLoss: Σ_{i≠y} w[y] · max(0, margin - x[y] + x[i])^p / C per example. */
export function torchMultiMarginLoss(x: tf.Tensor2D, labels: tf.Tensor1D, o: { p?: 1 | 2; margin?: number; weight?: readonly number[] | null; reduction?: Reduction } = {}): tf.Scalar {
  return tf.tidy(() => {
    const t = oneHotOf(x, labels);
    const xy = tf.sum(tf.mul(x, t), 1, true);
    let h = tf.mul(tf.relu(tf.add(tf.sub(o.margin ?? 1, xy), x)), tf.sub(1, t));
    if ((o.p ?? 1) === 2) h = tf.square(h);
    if (o.weight) h = tf.mul(h, tf.expandDims(tf.gather(classWeights('MultiMarginLoss', 'weight', o.weight, x.shape[1]), tf.cast(labels, 'int32')), 1));
    return reduce(tf.div(tf.sum(h, 1), x.shape[1]), o.reduction ?? 'mean');
  });
}

export const multiMarginLoss = defineComponent({
  kind: 'loss',
  id: 'MultiMarginLoss',
  description: "torch's MultiMarginLoss on the logits and the labels: the multi-class hinge Σ_{i≠y} max(0, margin - x[y] + x[i])^p / C, replacing the task loss",
  schema: multiMarginLossSchema,
  create(c) {
    const reduction = trainableReduction('MultiMarginLoss', c.reduction);
    return new TaskLoss('MultiMarginLoss', c.mode, (x, y) => torchMultiMarginLoss(x, y, { ...c, reduction }));
  },
});

export const multiLabelMarginLossSchema = z.strictObject({ reduction: reductionSchema, mode: modeSchema });

export const multiLabelMarginLoss = defineComponent({
  kind: 'loss',
  id: 'MultiLabelMarginLoss',
  description: "torch's MultiLabelMarginLoss with each example's one label as its target set ([y, -1, ...]): Σ_{i≠y} max(0, 1 - x[y] + x[i]) / C, replacing the task loss",
  schema: multiLabelMarginLossSchema,
  create(c) {
    const reduction = trainableReduction('MultiLabelMarginLoss', c.reduction);
    // with one target class torch's sum over (target j, non-target i) is MultiMarginLoss's with p 1, margin 1
    return new TaskLoss('MultiLabelMarginLoss', c.mode, (x, y) => torchMultiMarginLoss(x, y, { reduction }));
  },
});

export const marginRankingLossSchema = z.strictObject({ margin: z.number().default(0).describe("torch's margin"), reduction: reductionSchema, mode: modeSchema });

/** torch.nn.MarginRankingLoss(x1 = x[y], x2 = x[i] for each i ≠ y, target 1): max(0, margin - (x[y] - x[i])) over the N·(C-1) pairs. */
export function torchMarginRankingLoss(x: tf.Tensor2D, labels: tf.Tensor1D, o: { margin?: number; reduction?: Reduction } = {}): tf.Scalar {
  return tf.tidy(() => {
    const t = oneHotOf(x, labels);
    const xy = tf.sum(tf.mul(x, t), 1, true);
    const h = tf.mul(tf.relu(tf.add(tf.sub(x, xy), o.margin ?? 0)), tf.sub(1, t));
    const total: tf.Scalar = tf.sum(h);
    return (o.reduction ?? 'mean') === 'sum' ? total : tf.div<tf.Scalar>(total, x.shape[0] * (x.shape[1] - 1));
  });
}

export const marginRankingLoss = defineComponent({
  kind: 'loss',
  id: 'MarginRankingLoss',
  description: "torch's MarginRankingLoss ranking each example's true-class logit above each other class's (x1 = x[y], x2 = x[i], target 1), replacing the task loss",
  schema: marginRankingLossSchema,
  create(c) {
    const reduction = trainableReduction('MarginRankingLoss', c.reduction);
    return new TaskLoss('MarginRankingLoss', c.mode, (x, y) => torchMarginRankingLoss(x, y, { margin: c.margin, reduction }));
  },
});

export const crossEntropySoftTargetLossSchema = z.strictObject({
  softmax: z.boolean().default(true).describe("The original's softmax: the target goes through a softmax first (true, the original's default; the target here is the labels' one-hot); false: the one-hot itself (cross-entropy)"),
  mode: modeSchema,
});

/** The original's soft-target cross-entropy: mean over the examples of -Σ target · log_softmax(x). */
export function crossEntropySoftTarget(x: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(x)), 1))));
}

export const crossEntropySoftTargetLoss = defineComponent({
  kind: 'loss',
  id: 'CrossEntropySoftTargetLoss',
  description: "The original's soft-target cross-entropy, -mean Σ softmax(target)·log_softmax(x), with the labels' one-hot as the target (softmax: false: plain cross-entropy), replacing the task loss",
  schema: crossEntropySoftTargetLossSchema,
  create(c) {
    return new TaskLoss('CrossEntropySoftTargetLoss', c.mode, (x, y) => {
      const t = oneHotOf(x, y);
      return crossEntropySoftTarget(x, c.softmax ? tf.softmax(t) : t);
    });
  },
});
