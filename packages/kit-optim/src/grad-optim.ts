/**
 * Shared plumbing of the gradient-based search optimizers (DARTS, ProxylessNAS-G, direct
 * gradient): Adam over the α tensors of the space, the argmax architecture as `next()`, and the
 * optimizer state as plain arrays. Each optimizer only says how it gets ∂L/∂α.
 */
import { z } from 'zod';
import { ModnasError, tf } from '@modnas/core';
import type { GradientAccess, SearchFeedback, SearchOptimizer, ArchSpace, Assignment, TensorParam } from '@modnas/core';

/** Adam hyper-parameters, as PyTorch's Adam (weight decay is an L2 term added to the gradient). */
export interface AdamArgs {
  lr: number;
  betas: readonly [number, number];
  weight_decay: number;
  eps: number;
}

/** The defaults of the original's gradient optimizers (DARTS: lr 3e-4, betas (0.5, 0.999), wd 1e-3). */
export const DARTS_ADAM_DEFAULTS: AdamArgs = { lr: 3e-4, betas: [0.5, 0.999], weight_decay: 1e-3, eps: 1e-8 };

/**
 * The zod fields of the Adam args, with the given defaults, to spread into a component schema:
 * `z.strictObject({ ...adamArgsFields(DARTS_ADAM_DEFAULTS), unrolled: ... })`.
 */
export function adamArgsFields(d: AdamArgs = DARTS_ADAM_DEFAULTS) {
  return {
    lr: z.number().positive().default(d.lr).describe('Learning rate of Adam on the architecture params α'),
    betas: z
      .tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])
      .default([d.betas[0], d.betas[1]])
      .describe('Adam coefficients of the running averages of the gradient and its square'),
    weight_decay: z.number().min(0).default(d.weight_decay).describe('L2 penalty on α, added to the gradient (as PyTorch Adam)'),
    eps: z.number().positive().default(d.eps).describe('Added to the denominator of Adam for numerical stability'),
  };
}

/** The Adam args out of a component's validated config (whose schema spread adamArgsFields). */
export function adamArgsOf(c: AdamArgs): AdamArgs {
  return { lr: c.lr, betas: c.betas, weight_decay: c.weight_decay, eps: c.eps };
}

/** Adam's state as plain arrays: per param its step count and first and second moments. */
export interface AdamState {
  names: string[];
  shapes: number[][];
  steps: number[];
  m: number[][];
  v: number[][];
}

/**
 * Adam over a fixed list of tensor params. Each param keeps its own step count, and a param whose
 * gradient is missing in a step is left alone (as PyTorch skips params whose grad is None).
 * Updates go through `TensorParam.assign`, so the params' change listeners hear about them.
 */
export class ArchAdam {
  readonly params: readonly TensorParam[];
  private readonly args: AdamArgs;
  // Moments as (non-trainable) variables: a checkpoint reads every variable without blocking the
  // backend before it encodes the state, so state() then reads no GPU memory.
  private m: tf.Variable[];
  private v: tf.Variable[];
  private steps: number[];

  constructor(params: readonly TensorParam[], args: AdamArgs) {
    this.params = [...params];
    this.args = { ...args, betas: [args.betas[0], args.betas[1]] };
    this.m = this.params.map((p) => tf.tidy(() => tf.variable(tf.zeros(p.shape), false)));
    this.v = this.params.map((p) => tf.tidy(() => tf.variable(tf.zeros(p.shape), false)));
    this.steps = this.params.map(() => 0);
  }

  get lr(): number {
    return this.args.lr;
  }

  /** One update with gradients aligned to `params` (undefined: no gradient for that param this step). */
  step(grads: ReadonlyArray<tf.Tensor | undefined>): void {
    if (grads.length !== this.params.length) {
      throw new ModnasError('MODNAS_E_OPTIM_GRADS', `Adam got ${grads.length} gradients for ${this.params.length} arch params`);
    }
    const { lr, betas, weight_decay: wd, eps } = this.args;
    const [b1, b2] = betas;
    this.params.forEach((p, i) => {
      const g0 = grads[i];
      if (!g0) return;
      const t = ++this.steps[i];
      const [m, v, next] = tf.tidy(() => {
        const w = p.variable;
        const g = wd > 0 ? tf.add(g0, tf.mul(w, wd)) : g0;
        const m1 = tf.add(tf.mul(this.m[i], b1), tf.mul(g, 1 - b1));
        const v1 = tf.add(tf.mul(this.v[i], b2), tf.mul(tf.square(g), 1 - b2));
        const mHat = tf.div(m1, 1 - b1 ** t);
        const denom = tf.add(tf.sqrt(tf.div(v1, 1 - b2 ** t)), eps);
        return [m1, v1, tf.sub(w, tf.mul(tf.div(mHat, denom), lr))];
      });
      this.m[i].assign(m);
      this.v[i].assign(v);
      tf.dispose([m, v]);
      p.assign(next);
      next.dispose();
    });
  }

  state(): AdamState {
    return {
      names: this.params.map((p) => p.name),
      shapes: this.params.map((p) => [...p.shape]),
      steps: [...this.steps],
      m: this.m.map((t) => Array.from(t.dataSync())),
      v: this.v.map((t) => Array.from(t.dataSync())),
    };
  }

  restore(state: unknown): void {
    const s = state as Partial<AdamState> | undefined;
    const fail = (what: string): never => {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', `cannot restore the Adam state of the arch params: ${what}`, {
        fix: 'restore a state saved by the same optimizer on the same search space',
      });
    };
    if (!s || !Array.isArray(s.names) || !Array.isArray(s.steps) || !Array.isArray(s.m) || !Array.isArray(s.v)) return fail('it is not an Adam state');
    if (s.names.length !== this.params.length) return fail(`it has ${s.names.length} params, this space has ${this.params.length}`);
    this.params.forEach((p, i) => {
      if (s.names![i] !== p.name) fail(`param ${i} is "${s.names![i]}" in the state but "${p.name}" here`);
      const size = p.shape.reduce((a, b) => a * b, 1);
      if (s.m![i].length !== size || s.v![i].length !== size) fail(`param "${p.name}" has ${size} values, the state ${s.m![i].length}`);
    });
    this.params.forEach((p, i) => {
      tf.tidy(() => {
        this.m[i].assign(tf.tensor(s.m![i], p.shape));
        this.v[i].assign(tf.tensor(s.v![i], p.shape));
      });
      this.steps[i] = s.steps![i];
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
    this.m = [];
    this.v = [];
  }
}

/** The saved state of a gradient search optimizer. */
export interface GradientOptimizerState {
  type: string;
  adam: AdamState;
  /** Whatever else the optimizer keeps (e.g. a step counter). */
  extra?: unknown;
}

/**
 * Base of the gradient-based search optimizers: Adam over every tensor param of the space (taken
 * when the optimizer is built), `next()` = the current best architecture, `state()/restore()`.
 * Subclasses implement `step` and call `archGrads` and `update`.
 */
export abstract class GradientSearchOptimizer implements SearchOptimizer {
  readonly adam: ArchAdam;

  constructor(
    readonly space: ArchSpace,
    args: AdamArgs,
    /** The optimizer's id, for messages and the saved state. */
    readonly type: string,
  ) {
    this.adam = new ArchAdam(space.tensors(), args);
  }

  /** The α tensors this optimizer trains. */
  get params(): readonly TensorParam[] {
    return this.adam.params;
  }

  hasNext(): boolean {
    return true;
  }

  /**
   * The current best architecture (once, whatever n ≥ 1): the index of the largest α entry of each
   * tensor param (its argmax candidate) and the current value of each discrete param.
   */
  next(n = 1): Assignment[] {
    return n > 0 ? [this.best()] : [];
  }

  best(): Assignment {
    return argmaxAssignment(this.space);
  }

  abstract step(feedback: SearchFeedback): void | Promise<void>;

  /** The gradient access of the feedback, or an error saying which estimator provides it. */
  protected gradAccess(feedback: SearchFeedback): GradientAccess {
    if (!feedback?.grad) {
      throw new ModnasError('MODNAS_E_OPTIM_NO_GRAD', `${this.type} is a gradient-based optimizer, but the estimator gave it no gradient access`, {
        fix: 'use it with an estimator that trains a supernet (estim: { search: { type: SuperNetEstimator } })',
      });
    }
    return feedback.grad;
  }

  /**
   * ∂f/∂α for every param (undefined where α does not reach the loss). The caller disposes the
   * tensors (e.g. by passing them to `update`, which does).
   */
  protected archGrads(f: () => tf.Scalar): Array<tf.Tensor | undefined> {
    return gradsOf(f, this.params.map((p) => p.variable));
  }

  /** Adam step with these gradients, then dispose them. */
  protected update(grads: ReadonlyArray<tf.Tensor | undefined>): void {
    try {
      this.adam.step(grads);
    } finally {
      for (const g of grads) g?.dispose();
    }
  }

  /** Extra state of a subclass, saved beside Adam's. */
  protected extraState(): unknown {
    return undefined;
  }

  protected restoreExtra(_extra: unknown): void {}

  state(): GradientOptimizerState {
    const extra = this.extraState();
    return { type: this.type, adam: this.adam.state(), ...(extra === undefined ? {} : { extra }) };
  }

  restore(state: unknown): void {
    const s = state as Partial<GradientOptimizerState> | undefined;
    if (!s || typeof s !== 'object' || !s.adam) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', `${this.type}: the state to restore is not a gradient optimizer state`, {
        fix: 'restore a state saved by state() of the same optimizer',
      });
    }
    if (s.type !== undefined && s.type !== this.type) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', `${this.type}: the state was saved by ${s.type}`, { fix: `use a ${s.type} optimizer, or start afresh` });
    }
    this.adam.restore(s.adam);
    this.restoreExtra(s.extra);
  }

  dispose(): void {
    this.adam.dispose();
  }
}

/**
 * Gradients of f with respect to `vars`, aligned to them (undefined where a variable does not
 * reach f). tf.variableGrads insists on a scalar and returns grads by variable name.
 */
export function gradsOf(f: () => tf.Scalar, vars: readonly tf.Variable[]): Array<tf.Tensor | undefined> {
  if (vars.length === 0) {
    tf.tidy(() => {
      f();
    });
    return [];
  }
  const { value, grads } = tf.variableGrads(f, [...vars]);
  value.dispose();
  return vars.map((v) => grads[v.name]);
}

/** The current best architecture of a space: argmax index per tensor param, current value per discrete param. */
export function argmaxAssignment(space: ArchSpace): Assignment {
  const out: Assignment = {};
  for (const p of space.all()) {
    if (p.type === 'tensor') out[p.name] = (p as TensorParam).argmax();
    else out[p.name] = (p as unknown as { value: string | number }).value;
  }
  return out;
}
