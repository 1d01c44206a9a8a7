/**
 * A supernet seen one architecture at a time: run a network with each mixed op fixed to one
 * candidate (what an export traces and what a latency table measures), and learn the input shape
 * each mixed op sees. Both patch instances and always undo.
 */
import type { Module } from '@modnas/core';
import { tf } from '@modnas/core';
import type { MixedOp } from './mixed-op.js';

/**
 * Make every op in `choice` run only the candidate given for it (its forward becomes that
 * candidate's call); returns the undo. `chosen(ops)` fixes each op to its `chosenIndex()`.
 */
export function fixCandidates(choice: ReadonlyMap<MixedOp, number>): () => void {
  for (const [op, i] of choice) {
    const c = op.candidates()[i];
    Object.defineProperty(op, 'forward', { value: (x: tf.Tensor) => c.call(x), configurable: true, writable: true });
  }
  return () => {
    for (const op of choice.keys()) delete (op as Partial<Module>).forward;
  };
}

/** Each op fixed to the candidate an export keeps. */
export function chosen(ops: readonly MixedOp[]): Map<MixedOp, number> {
  return new Map(ops.map((op) => [op, op.chosenIndex()]));
}

/**
 * The input shape (batch 1) each of `ops` sees in one forward pass of `model` on zeros of
 * `inputShape` (eval mode; the model's mode is restored). `inside(op, run)` wraps each op's own
 * call, e.g. to count what happens inside it apart.
 */
export function opInputShapes(model: Module, inputShape: readonly number[], ops: readonly MixedOp[], inside: (op: MixedOp, run: () => void) => void = (_, run) => run()): Map<MixedOp, number[]> {
  const shapes = new Map<MixedOp, number[]>();
  const wasTraining = model.training;
  model.eval();
  for (const op of ops) {
    const own = op.call.bind(op);
    (op as { call: Module['call'] }).call = (x: tf.Tensor) => {
      shapes.set(op, x.shape);
      let y: tf.Tensor | undefined;
      inside(op, () => {
        y = own(x);
      });
      return y!;
    };
  }
  try {
    tf.tidy(() => {
      model.call(tf.zeros([1, ...inputShape]));
    });
  } finally {
    for (const op of ops) delete (op as Partial<Pick<Module, 'call'>>).call;
    model.train(wasTraining);
  }
  return shapes;
}
