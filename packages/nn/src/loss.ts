import type { Module } from '@modnas/core';
import { tf } from '@modnas/core';
import { countMacs } from './profile.js';

/** Mean cross-entropy of logits [N, C] against int labels [N], with optional label smoothing. */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const c = logits.shape[logits.shape.length - 1];
    let target = tf.oneHot(labels, c).toFloat();
    if (labelSmoothing > 0) target = tf.add(tf.mul(target, 1 - labelSmoothing), labelSmoothing / c);
    const logp = tf.logSoftmax(logits as tf.Tensor2D);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logp), -1))) as tf.Scalar;
  });
}

/** Number of correct top-1 predictions. */
export function countCorrect(logits: tf.Tensor, labels: tf.Tensor1D): number {
  return tf.tidy(() => tf.sum(tf.equal(tf.argMax(logits, -1), labels).toInt()).dataSync()[0]);
}

/** Multiply-accumulates of one forward pass of one example, counted from the layers that run. */
export function countFlops(model: Module, inputShape: [number, number, number]): number {
  const wasTraining = model.training;
  model.eval();
  try {
    return countMacs(() => {
      tf.tidy(() => {
        model.call(tf.zeros([1, ...inputShape]));
      });
    });
  } finally {
    model.train(wasTraining);
  }
}
