import type { tf as TF } from '@modnas/core';

type Tfjs = typeof TF;
type T = TF.Tensor;

/** A tape node as tfjs-core 4.x records it (engine.state.activeTape). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, T>;
  outputs: T[];
  saved?: T[];
  gradient?: (dys: Array<T | null>) => Record<string, () => T>;
}

/** The parts of tfjs-core's Engine that gradients() uses. */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<R>(start: () => void, end: () => void, f: () => R): R;
  startTape(): void;
  endTape(): void;
  tidy<R>(name: string | (() => R), f?: () => R): R;
  gradients(f: () => T, xs: T[], dy?: T, allowNoGradients?: boolean): { value: T; grads: T[] };
}

/**
 * The nodes of the tape on a path from one of xs to y, each with its inputs pruned to those that
 * depend on xs (the subgraph whose gradients backprop needs).
 */
export function nodesFromXsToY(tape: readonly TapeNode[], xs: readonly T[], y: T): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodeFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodeToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  return tape
    .filter((n) => nodeFromX.has(n.id) && nodeToY.has(n.id))
    .map((n) => ({ ...n, inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))) }));
}

const MARK = Symbol.for('@modnas/engine-native:eager-backprop');

/**
 * Replace tfjs' `engine.gradients` (behind tf.grad(s), tf.variableGrads, optimizers) with one that
 * frees memory as backprop walks the tape: a node's saved tensors as soon as its gradient ran, and
 * the gradient of each intermediate tensor as soon as the node that produced it consumed it.
 * tfjs 4.22 keeps both until the whole backward pass ends, so a step's peak held every
 * activation *and* every intermediate gradient at once. Results are identical (same kernels, same
 * order). Nested gradients (a gradient taken inside another's forward, as DARTS' second order
 * does) keep tfjs' own behaviour, since the outer tape may still need those tensors.
 */
export function installEagerBackprop(tf: Tfjs): void {
  const engine = tf.engine() as unknown as EngineInternals & { [K in typeof MARK]?: EngineInternals['gradients'] };
  if (engine[MARK]) return;
  const original = engine.gradients.bind(engine);
  engine[MARK] = original;
  engine.gradients = function gradients(f, xs, dy, allowNoGradients = false) {
    if (engine.state.gradientDepth > 0) return original(f, xs, dy, allowNoGradients);
    if (!(xs.length > 0)) throw new Error('gradients() received an empty list of xs.');
    if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
    const y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => engine.tidy('forward', f),
    );
    if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
    const tape = engine.state.activeTape ?? [];
    const nodes = nodesFromXsToY(tape, xs, y);
    if (!allowNoGradients && nodes.length === 0) {
      throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
    }
    const wanted = new Set<number>(xs.map((x) => x.id));
    try {
      return engine.tidy('backward', () => {
        const acc = new Map<number, T>();
        acc.set(y.id, dy ?? tf.ones(y.shape));
        for (let i = nodes.length - 1; i >= 0; i--) {
          const node = nodes[i];
          const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
          if (node.gradient == null) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
          const inputGrads = node.gradient(dys);
          const made: T[] = [];
          for (const name in node.inputs) {
            if (!(name in inputGrads)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGrads)}.`);
            let dx = engine.tidy(() => inputGrads[name]());
            // One tensor object per map entry, so freeing one entry never frees another's.
            if (dx === dy || dys.includes(dx) || made.includes(dx)) dx = tf.clone(dx);
            if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
            const x = node.inputs[name];
            if (!tf.util.arraysEqual(dx.shape, x.shape)) {
              throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
            }
            const cur = acc.get(x.id);
            if (cur == null) {
              acc.set(x.id, dx);
              made.push(dx);
            } else {
              const sum = tf.add(cur, dx);
              acc.set(x.id, sum);
              made.push(sum);
              cur.dispose();
              dx.dispose();
            }
          }
          // This node's outputs are consumed: nothing before it on the tape reads their gradients
          // (unless they were asked for; the caller's dy is the caller's).
          node.outputs.forEach((o, k) => {
            const g = dys[k];
            if (g == null || g === dy || wanted.has(o.id)) return;
            acc.delete(o.id);
            g.dispose();
          });
          for (const t of node.saved ?? []) t.dispose();
        }
        return { value: y, grads: xs.map((x) => acc.get(x.id)) as T[] };
      });
    } finally {
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
    }
  };
}

/** Put tfjs' own `engine.gradients` back (for comparisons in tests). */
export function uninstallEagerBackprop(tf: Tfjs): void {
  const engine = tf.engine() as unknown as EngineInternals & { [K in typeof MARK]?: EngineInternals['gradients'] };
  if (!engine[MARK]) return;
  delete (engine as Partial<EngineInternals>).gradients;
  delete engine[MARK];
}

