import { defineComponent, tf, z } from '@modnas/core';
import type { Reduction } from './common.js';
import { TaskLoss, modeSchema, reduce, reductionSchema, trainableReduction } from './common.js';

// torch's triplet losses take (anchor, positive, negative) embeddings, which a classifier does not
// give. Here the embeddings are the batch's logits and the triplets come from its labels: each
// example is an anchor, its positive the next example of the same label and its negative the next
// example of another label (next in batch order, wrapping round); an example with no other of its
// label, or none of another, anchors nothing.

/** The (anchor, positive, negative) indices of a batch's labels, by the rule above. */
export function batchTriplets(labels: ArrayLike<number>): { a: number[]; p: number[]; n: number[] } {
  const out = { a: [] as number[], p: [] as number[], n: [] as number[] };
  const len = labels.length;
  for (let i = 0; i < len; i++) {
    let p = -1;
    let n = -1;
    for (let k = 1; k < len && (p < 0 || n < 0); k++) {
      const j = (i + k) % len;
      if (labels[j] === labels[i]) p = p < 0 ? j : p;
      else n = n < 0 ? j : n;
    }
    if (p >= 0 && n >= 0) {
      out.a.push(i);
      out.p.push(p);
      out.n.push(n);
    }
  }
  return out;
}

/** torch's pairwise_distance: ‖u - v + eps‖_p per row. */
export function pairwiseDistance(u: tf.Tensor2D, v: tf.Tensor2D, p = 2, eps = 1e-6): tf.Tensor1D {
  return tf.tidy(() => {
    const d = tf.abs(tf.add(tf.sub(u, v), eps));
    if (p === 1) return tf.sum<tf.Tensor1D>(d, 1);
    if (p === 2) return tf.sqrt(tf.sum<tf.Tensor1D>(tf.square(d), 1));
    return tf.pow<tf.Tensor1D>(tf.sum(tf.pow(d, p), 1), 1 / p);
  });
}

/** 1 - cosine similarity per row (torch's cosine_similarity, its eps 1e-8 on each norm). */
export function cosineDistance(u: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(u, v), 1);
    const nu = tf.maximum(tf.norm(u, 2, 1), 1e-8);
    const nv = tf.maximum(tf.norm(v, 2, 1), 1e-8);
    return tf.sub(1, tf.div(dot, tf.mul(nu, nv)));
  });
}

type Distance = (u: tf.Tensor2D, v: tf.Tensor2D) => tf.Tensor1D;

/** torch's triplet margin loss on given triplets: max(d(a, p) - d(a, n) + margin, 0), swap: d(a, n) -> min(d(a, n), d(p, n)). */
export function torchTripletMarginLoss(x: tf.Tensor2D, labels: tf.Tensor1D, dist: Distance, o: { margin: number; swap: boolean; reduction: Reduction }): tf.Scalar {
  return tf.tidy(() => {
    const { a, p, n } = batchTriplets(labels.dataSync());
    // no triplet in the batch: a zero that keeps the graph (no gradient to the weights)
    if (a.length === 0) return tf.mul(tf.sum(x), 0);
    const [xa, xp, xn] = [a, p, n].map((idx) => tf.gather<tf.Tensor2D>(x, tf.tensor1d(idx, 'int32')));
    const dap = dist(xa, xp);
    let dan = dist(xa, xn);
    if (o.swap) dan = tf.minimum(dan, dist(xp, xn));
    return reduce(tf.relu(tf.add(tf.sub(dap, dan), o.margin)), o.reduction);
  });
}

const tripletNote = "the batch's logits as embeddings, triplets chosen by label (positive: the next example of the same label; negative: the next of another)";

export const tripletMarginLossSchema = z.strictObject({
  margin: z.number().default(1).describe("torch's margin"),
  p: z.number().positive().default(2).describe("torch's p: the norm of the pairwise distance"),
  eps: z.number().min(0).default(1e-6).describe("torch's eps: added to the difference before its norm"),
  swap: z.boolean().default(false).describe("torch's swap: the negative's distance is the smaller of its distances to the anchor and to the positive"),
  reduction: reductionSchema,
  mode: modeSchema,
});

export const tripletMarginLoss = defineComponent({
  kind: 'loss',
  id: 'TripletMarginLoss',
  description: `torch's TripletMarginLoss on ${tripletNote}, replacing the task loss`,
  schema: tripletMarginLossSchema,
  create(c) {
    const reduction = trainableReduction('TripletMarginLoss', c.reduction);
    return new TaskLoss('TripletMarginLoss', c.mode, (x, y) => torchTripletMarginLoss(x, y, (u, v) => pairwiseDistance(u, v, c.p, c.eps), { margin: c.margin, swap: c.swap, reduction }));
  },
});

export const tripletMarginWithDistanceLossSchema = z.strictObject({
  distance_function: z
    .enum(['pairwise_distance', 'cosine_distance'])
    .nullable()
    .default(null)
    .describe("torch's distance_function, by name (a config cannot hold a function): pairwise_distance (torch's default when null: Euclidean, eps 1e-6) or cosine_distance (1 - cosine similarity)"),
  margin: z.number().default(1).describe("torch's margin"),
  swap: z.boolean().default(false).describe("torch's swap: the negative's distance is the smaller of its distances to the anchor and to the positive"),
  reduction: reductionSchema,
  mode: modeSchema,
});

export const tripletMarginWithDistanceLoss = defineComponent({
  kind: 'loss',
  id: 'TripletMarginWithDistanceLoss',
  description: `torch's TripletMarginWithDistanceLoss (pairwise or cosine distance) on ${tripletNote}, replacing the task loss`,
  schema: tripletMarginWithDistanceLossSchema,
  create(c) {
    const reduction = trainableReduction('TripletMarginWithDistanceLoss', c.reduction);
    const dist: Distance = c.distance_function === 'cosine_distance' ? cosineDistance : (u, v) => pairwiseDistance(u, v);
    return new TaskLoss('TripletMarginWithDistanceLoss', c.mode, (x, y) => torchTripletMarginLoss(x, y, dist, { margin: c.margin, swap: c.swap, reduction }));
  },
});

/** Every unordered pair (i < j) of a batch, with torch's target: 1 for the same label, -1 for different ones. */
export function batchPairs(labels: ArrayLike<number>): { i: number[]; j: number[]; y: number[] } {
  const out = { i: [] as number[], j: [] as number[], y: [] as number[] };
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      out.i.push(i);
      out.j.push(j);
      out.y.push(labels[i] === labels[j] ? 1 : -1);
    }
  }
  return out;
}

/** torch.nn.CosineEmbeddingLoss over the batch's pairs: 1 - cos where y = 1, max(0, cos - margin) where y = -1. */
export function torchCosineEmbeddingLoss(x: tf.Tensor2D, labels: tf.Tensor1D, o: { margin: number; reduction: Reduction }): tf.Scalar {
  return tf.tidy(() => {
    const { i, j, y } = batchPairs(labels.dataSync());
    if (i.length === 0) return tf.mul(tf.sum(x), 0);
    const u = tf.gather<tf.Tensor2D>(x, tf.tensor1d(i, 'int32'));
    const v = tf.gather<tf.Tensor2D>(x, tf.tensor1d(j, 'int32'));
    // torch's cosine here: u·v / sqrt((‖u‖² + 1e-12)(‖v‖² + 1e-12))
    const cos = tf.div(tf.sum(tf.mul(u, v), 1), tf.sqrt(tf.mul(tf.add(tf.sum(tf.square(u), 1), 1e-12), tf.add(tf.sum(tf.square(v), 1), 1e-12))));
    const same = tf.tensor1d(y.map((t) => (t === 1 ? 1 : 0)));
    const l = tf.add(tf.mul(same, tf.sub(1, cos)), tf.mul(tf.sub(1, same), tf.relu(tf.sub(cos, o.margin))));
    return reduce(l, o.reduction);
  });
}

export const cosineEmbeddingLossSchema = z.strictObject({
  margin: z.number().min(-1).max(1).default(0).describe("torch's margin: pairs of different labels are pushed below this cosine"),
  reduction: reductionSchema,
  mode: modeSchema,
});

export const cosineEmbeddingLoss = defineComponent({
  kind: 'loss',
  id: 'CosineEmbeddingLoss',
  description: "torch's CosineEmbeddingLoss on every pair of the batch's logits as embeddings, target 1 for the same label and -1 for different ones, replacing the task loss",
  schema: cosineEmbeddingLossSchema,
  create(c) {
    const reduction = trainableReduction('CosineEmbeddingLoss', c.reduction);
    return new TaskLoss('CosineEmbeddingLoss', c.mode, (x, y) => torchCosineEmbeddingLoss(x, y, { margin: c.margin, reduction }));
  },
});
