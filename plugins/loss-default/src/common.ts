import type { Loss, LossSession } from '@modnas/core';
import { ModnasError, tf, z } from '@modnas/core';

/** The passes a loss joins (a LossSession's mode). */
export const modeSchema = z
  .enum(['all', 'train', 'eval', 'arch'])
  .default('all')
  .describe("The passes the loss joins: 'all' (weight steps, validation and arch steps, as the original's trainer criterion), 'train', 'eval' or 'arch'");

/** torch's `reduction`; 'none' is accepted by the schema so that create() can say why it is refused. */
export const reductionSchema = z.enum(['mean', 'sum', 'none']).default('mean').describe("torch's reduction of the per-element losses: 'mean' (default) or 'sum' ('none' leaves a tensor, not a loss to train with)");
export type Reduction = 'mean' | 'sum';

/** A per-class weight vector (torch's `weight`: one number per class). */
export const classWeightSchema = z.array(z.number().min(0)).nullable().default(null).describe("torch's weight: one factor per class (null: all 1)");

/** The reduction a loss can train with: 'none' is refused with a coded error. */
export function trainableReduction(id: string, r: 'mean' | 'sum' | 'none'): Reduction {
  if (r === 'none') {
    throw new ModnasError('MODNAS_E_LOSS_REDUCTION', `${id}: reduction 'none' gives one loss per element, and a training step needs one number`, {
      fix: "use reduction: mean (torch's default) or reduction: sum",
      where: 'reduction',
    });
  }
  return r;
}

export function reduce(el: tf.Tensor, r: Reduction): tf.Scalar {
  return r === 'sum' ? tf.sum(el) : tf.mean(el);
}

/** The labels as int32 (a batch's y may be float). */
export function intLabels(labels: tf.Tensor): tf.Tensor1D {
  return (labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32')) as tf.Tensor1D;
}

/** The one-hot target of the logits' shape: what a loss defined on a target of the input's shape compares against. */
export function oneHotOf(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor2D {
  return tf.oneHot(intLabels(labels), logits.shape[1]).toFloat() as tf.Tensor2D;
}

/** A class-weight vector as a tensor, checked against the number of classes. */
export function classWeights(id: string, key: string, w: readonly number[], classes: number): tf.Tensor1D {
  if (w.length !== classes) {
    throw new ModnasError('MODNAS_E_LOSS_WEIGHT', `${id}: ${key} has ${w.length} factors and the network gives ${classes} classes`, {
      fix: `give ${key} one number per class (${classes}), or leave it out`,
      where: key,
    });
  }
  return tf.tensor1d(w as number[]);
}

/** The logits as [N, C] with labels [N]; anything else is a coded error. */
export function checkShapes(id: string, logits: tf.Tensor, labels: tf.Tensor): tf.Tensor2D {
  if (logits.rank !== 2 || labels.rank !== 1 || logits.shape[0] !== labels.shape[0]) {
    throw new ModnasError('MODNAS_E_LOSS_SHAPE', `${id}: expected the network's logits [N, C] and N integer labels, got logits [${logits.shape.join(', ')}] and labels [${labels.shape.join(', ')}]`, {
      fix: 'use this loss with a classifier whose output is one row of class scores per example',
    });
  }
  return logits as tf.Tensor2D;
}

/** A loss of (logits, labels) that replaces the trainer's task loss (taskWeight 0), as the original's criterion does. */
export class TaskLoss implements Loss {
  constructor(
    readonly id: string,
    readonly mode: 'all' | 'train' | 'eval' | 'arch',
    /** The loss of a batch: logits [N, C] and integer labels [N]. */
    readonly value: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar,
  ) {}

  start(): LossSession {
    return {
      mode: this.mode,
      taskWeight: 0,
      term: ({ logits, batch }) => tf.tidy(() => this.value(checkShapes(this.id, logits, batch.y), batch.y)),
      end(): void {},
    };
  }
}

/** softplus(x) = log(1 + e^x), stable for large |x|. */
export function softplus(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
}

/** log σ(x) = -softplus(-x). */
export function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.neg(softplus(tf.neg(x)));
}
