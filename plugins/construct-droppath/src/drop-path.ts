import type { BuildContext, Slot } from '@modnas/core';
import { Module, Tokens, nextTensorSeed, resolveToken, tf, z } from '@modnas/core';
import { archDescOf } from '@modnas/kit-mixed-op';
import { Identity } from '@modnas/nn';

/**
 * Drop path (FractalNet, DARTS' final training): in training, each example's output of the path is
 * zeroed with probability `dropProb` and the kept ones scaled by 1 / (1 − dropProb); in eval mode,
 * the identity.
 */
export class DropPath extends Module {
  constructor(public dropProb = 0) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.dropProb <= 0) return x;
    const keep = 1 - this.dropProb;
    // one draw per example, broadcast over its other axes
    const mask = tf.cast(tf.less(tf.randomUniform([x.shape[0], ...x.shape.slice(1).map(() => 1)], 0, 1, 'float32', nextTensorSeed()), keep), 'float32');
    return tf.mul(x, tf.div(mask, keep));
  }

  override describe(): string {
    return `prob=${this.dropProb}`;
  }
}

/** An op followed by a DropPath; it describes itself as the op does, so exporters see the op. */
export class DropPathOp extends Module {
  readonly op: Module;
  readonly drop: DropPath;

  constructor(op: Module, dropProb: number) {
    super();
    this.op = this.addModule('op', op);
    this.drop = this.addModule('drop', new DropPath(dropProb));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.drop.call(this.op.call(x));
  }

  toArchDesc(): unknown {
    return archDescOf(this.op);
  }
}

/** Set the probability of every DropPath in a module. */
export function setDropProb(module: Module, prob: number): void {
  for (const [, m] of module.modules()) if (m instanceof DropPath) m.dropProb = prob;
}

/** The probability at an epoch (0-based), as the original: max_prob · epoch / epochs, set before the epoch trains. */
export const scheduledDropProb = (maxProb: number, epoch: number, epochs: number): number => (maxProb * epoch) / Math.max(epochs, 1);

/** The original's drop_prob: a number p stands for [0, p] (start, and the end of the linear ramp). */
export const dropProbSchema = z
  .union([z.number().min(0).lt(1), z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])])
  .default(0.1)
  .describe('The drop probability: p (the schedule rises linearly from 0 to p over the epochs of each estimator) or [start, p] (start until the first epoch begins)');

export function dropProbRange(p: number | readonly [number, number]): [number, number] {
  return typeof p === 'number' ? [0, p] : [p[0], p[1]];
}

/**
 * Follow the run's epochs: before each epoch of any estimator ('epoch:begin'), set the probability of
 * every DropPath under `root` from the schedule. Without an event bus (a bare build), nothing is
 * scheduled.
 */
export function scheduleDropPath(ctx: Pick<BuildContext, 'container'>, root: () => Module, maxProb: number): (() => void) | undefined {
  const events = resolveToken(ctx.container, Tokens.EventBus);
  return events?.on('epoch:begin', ({ epoch, epochs }) => setDropProb(root(), scheduledDropProb(maxProb, epoch, epochs)));
}

/** A Slot's op gets a DropPath unless it is empty, the identity, or has one already. */
export function wrapSlot(slot: Slot, prob: number): boolean {
  const impl = slot.impl;
  if (!impl || impl instanceof Identity || impl instanceof DropPathOp) return false;
  slot.fill(new DropPathOp(impl, prob));
  return true;
}
