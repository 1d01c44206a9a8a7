import type { ArchSpace, GradientAccess, Module, SearchFeedback, StateOptimizer } from '@modnas/core';
import { defineComponent, tf, z } from '@modnas/core';
import { DARTS_ADAM_DEFAULTS, GradientSearchOptimizer, adamArgsFields, adamArgsOf, gradsOf } from '@modnas/kit-optim';

export const dartsOptimSchema = z.strictObject({
  ...adamArgsFields(DARTS_ADAM_DEFAULTS),
  unrolled: z
    .boolean()
    .default(true)
    .describe('true: second-order DARTS (α gradient through one unrolled weight step); false: first-order (∇α of the validation loss)'),
  w_momentum: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .default(null)
    .describe("Momentum of the unrolled weight step (times the trainer's momentum buffer); null: the trainer's momentum if it says, else 0.9"),
  w_weight_decay: z
    .number()
    .min(0)
    .nullable()
    .default(null)
    .describe("Weight decay of the unrolled weight step; null: the trainer's weight_decay if it says, else 3e-4"),
});
export type DARTSOptimConfig = z.output<typeof dartsOptimSchema>;

/** What DARTS may read from a trainer beyond StateOptimizer (DefaultTrainer has these). */
interface TrainerExtras {
  momentumBuffer?(w: tf.Variable): tf.Tensor | undefined;
  config?: { momentum?: unknown; weight_decay?: unknown; optimizer?: unknown };
}

/**
 * DARTS (Liu et al. 2019): α follows the gradient of the validation loss after one virtual SGD
 * step of the weights, w' = w − ξ(μ·buf + ∇w L_train(w, α) + λw) with ξ the trainer's current LR,
 *
 *   ∇α L_val(w', α) − ξ (∇α L_train(w⁺, α) − ∇α L_train(w⁻, α)) / 2ε,
 *   w± = w ± ε ∇w' L_val(w', α),  ε = 0.01 / ‖∇w' L_val(w', α)‖,
 *
 * the second term being a finite-difference Hessian-vector product. The weights (and batch-norm
 * running statistics) are put back exactly afterwards. With `unrolled: false` it is first-order
 * DARTS: ∇α L_val(w, α). α is updated by Adam (lr 3e-4, betas (0.5, 0.999), weight decay 1e-3).
 */
export class DARTSOptim extends GradientSearchOptimizer {
  constructor(
    space: ArchSpace,
    readonly config: DARTSOptimConfig,
  ) {
    super(space, adamArgsOf(config), 'DARTSOptim');
  }

  async step(feedback: SearchFeedback): Promise<void> {
    const g = this.gradAccess(feedback);
    this.update(await this.hypergradient(g));
  }

  /**
   * The α gradient DARTS steps with (aligned to `params`; the caller disposes it). One train and
   * one valid batch are drawn from `g`.
   */
  async hypergradient(g: GradientAccess): Promise<Array<tf.Tensor | undefined>> {
    const trn = g.trainBatch();
    const val = g.validBatch();
    const alphas = this.params.map((p) => p.variable);
    if (!this.config.unrolled) return gradsOf(() => g.loss(val), alphas);

    const weights = trainableWeights(g.model, alphas);
    const xi = g.trainer.currentLr();
    const { momentum, weightDecay } = this.weightStepArgs(g.trainer);
    const w0 = weights.map((w) => tf.clone(w));
    const buffers = g.model.namedBuffers().map(([, b]) => [b, tf.clone(b)] as const);
    try {
      // w' = w − ξ(μ·buf + ∇w L_train(w) + λw)
      const gw = gradsOf(() => g.loss(trn), weights);
      tf.tidy(() => {
        weights.forEach((w, i) => {
          let d: tf.Tensor = gw[i] ?? tf.zerosLike(w);
          if (weightDecay > 0) d = tf.add(d, tf.mul(w, weightDecay));
          const buf = momentum > 0 ? (g.trainer as TrainerExtras).momentumBuffer?.(w) : undefined;
          if (buf) d = tf.add(d, tf.mul(buf, momentum));
          w.assign(tf.sub(w, tf.mul(d, xi)));
        });
      });
      gw.forEach((t) => t?.dispose());

      // ∇α and ∇w' of L_val(w', α)
      const vg = gradsOf(() => g.loss(val), [...alphas, ...weights]);
      const dAlpha = vg.slice(0, alphas.length);
      const dW = vg.slice(alphas.length);
      // read without blocking the backend (a GPU's read is asynchronous)
      const sq = tf.tidy(() => {
        const parts = dW.filter((t): t is tf.Tensor => t !== undefined).map((t) => tf.sum(tf.square(t)));
        return parts.length ? tf.addN(parts) : undefined;
      });
      const norm = sq ? Math.sqrt((await sq.data())[0]) : 0;
      sq?.dispose();
      if (!(norm > 0) || !Number.isFinite(norm)) {
        dW.forEach((t) => t?.dispose());
        return dAlpha;
      }
      const eps = 0.01 / norm;
      const setWeights = (sign: number): void =>
        tf.tidy(() => weights.forEach((w, i) => w.assign(dW[i] ? tf.add(w0[i], tf.mul(dW[i], sign * eps)) : w0[i])));
      setWeights(1);
      const pos = gradsOf(() => g.loss(trn), alphas);
      setWeights(-1);
      const neg = gradsOf(() => g.loss(trn), alphas);
      dW.forEach((t) => t?.dispose());
      const out = alphas.map((_, i) => {
        const [a, p, n] = [dAlpha[i], pos[i], neg[i]];
        if (!a && !p && !n) return undefined;
        return tf.tidy(() => {
          const hess = p && n ? tf.div(tf.sub(p, n), 2 * eps) : p ? tf.div(p, 2 * eps) : n ? tf.div(tf.neg(n), 2 * eps) : undefined;
          const base = a ?? tf.zeros(this.params[i].shape);
          return hess ? tf.sub(base, tf.mul(hess, xi)) : tf.clone(base);
        });
      });
      [...dAlpha, ...pos, ...neg].forEach((t) => t?.dispose());
      return out;
    } finally {
      tf.tidy(() => weights.forEach((w, i) => w.assign(w0[i])));
      w0.forEach((t) => t.dispose());
      for (const [b, saved] of buffers) {
        b.assign(saved);
        saved.dispose();
      }
    }
  }

  /** Momentum and weight decay of the virtual step: the config's, else the trainer's, else the original's defaults. */
  weightStepArgs(trainer: StateOptimizer): { momentum: number; weightDecay: number } {
    const tc = (trainer as TrainerExtras).config;
    const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    const sgd = tc?.optimizer === undefined || tc.optimizer === 'sgd';
    return {
      momentum: this.config.w_momentum ?? (sgd ? num(tc?.momentum) : 0) ?? 0.9,
      weightDecay: this.config.w_weight_decay ?? num(tc?.weight_decay) ?? 3e-4,
    };
  }
}

/** The weights a trainer trains: trainable variables of the model that are not arch params. */
export function trainableWeights(model: Module, alphas: readonly tf.Variable[]): tf.Variable[] {
  const ex = new Set(alphas);
  return model.parameters().filter((v) => v.trainable && !ex.has(v));
}

export const dartsOptim = defineComponent({
  kind: 'optim',
  id: 'DARTSOptim',
  // no alias DARTS: the original registers DARTS as the cell network (@modnas/backbone-darts), and ids are one namespace here
  description: 'DARTS: Adam on α with the second-order (unrolled) or first-order gradient of the validation loss',
  schema: dartsOptimSchema,
  create(config, ctx) {
    return new DARTSOptim(ctx.space, config);
  },
});
