import type { ArchSpace, Batch, LossTerm, Module, StateOptimizer, StepResult } from '@modnas/core';
import type { LossTermHost, LossTermMode, LossTermOptions } from '@modnas/kit-estim';
import { ModnasError, defineComponent, tf, z } from '@modnas/core';
import { crossEntropy } from '@modnas/nn';

export const defaultTrainerSchema = z.strictObject({
  optimizer: z.enum(['sgd', 'adam']).default('sgd').describe('Weight optimizer: sgd (with momentum / nesterov) or adam'),
  lr: z.number().positive().default(0.025).describe('Base learning rate'),
  momentum: z.number().min(0).max(1).default(0.9).describe('SGD momentum (0 = plain SGD)'),
  nesterov: z.boolean().default(false).describe('Nesterov momentum (SGD)'),
  weight_decay: z.number().min(0).default(3e-4).describe('Weight decay factor, applied to every trainable weight'),
  decoupled_weight_decay: z
    .boolean()
    .default(false)
    .describe('false: L2, wd*w added to the gradient (PyTorch SGD/Adam); true: decoupled, w -= lr*wd*w (SGDW/AdamW)'),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]).describe('Adam coefficients of the running averages'),
  eps: z.number().positive().default(1e-8).describe('Adam denominator term'),
  lr_scheduler: z.enum(['cosine', 'step', 'none']).default('cosine').describe('LR schedule over the epochs of each estimator'),
  lr_min: z.number().min(0).default(0.001).describe('Cosine: LR at the end of the schedule (eta_min)'),
  t_max: z.number().int().min(0).default(0).describe('Cosine: period in epochs (T_max); 0 = the epochs of the running estimator'),
  step_size: z.number().int().positive().default(10).describe('Step: epochs between LR decays'),
  gamma: z.number().positive().default(0.1).describe('Step: LR factor per decay'),
  warmup_steps: z.number().int().min(0).default(0).describe('Linear LR warmup over this many steps after each reset (0 = none)'),
  label_smoothing: z.number().min(0).lt(1).default(0).describe('Label smoothing of the cross-entropy targets'),
  grad_clip: z.number().min(0).default(5).describe('Clip the global norm of the weight gradients to this value (0 = off)'),
  batch_size: z.number().int().positive().default(64).describe('Examples per training and validation batch'),
});
export type DefaultTrainerConfig = z.output<typeof defaultTrainerSchema>;

interface SlotState {
  /** SGD momentum buffer, or Adam's first moment. */
  m?: tf.Variable;
  /** Adam's second moment. */
  v?: tf.Variable;
  /** Updates applied to this weight (Adam's bias correction). */
  t: number;
}

interface SerializedSlot {
  name: string;
  shape: number[];
  t: number;
  m?: number[];
  v?: number[];
}

interface TermEntry {
  term: LossTerm;
  mode: LossTermMode;
  name: string;
}

const TERM_MODES: Record<'train' | 'eval' | 'arch', ReadonlySet<LossTermMode>> = {
  train: new Set(['all', 'train']),
  eval: new Set(['all', 'eval']),
  arch: new Set(['all', 'arch']),
};

/**
 * The default ω: cross-entropy (+ registered loss terms), SGD with momentum / Nesterov or Adam,
 * PyTorch's update rules, weight decay as L2 on the gradient (or decoupled), global-norm gradient
 * clipping, and cosine / step LR schedules per estimator with optional linear warmup.
 */
export class DefaultTrainer implements StateOptimizer, LossTermHost {
  readonly batchSize: number;
  private readonly slots = new Map<tf.Variable, SlotState>();
  private pending = new Map<string, SerializedSlot>();
  private readonly terms: TermEntry[] = [];
  private baseLr: number;
  private stepsSinceReset = 0;
  private epoch = 0;
  private totalEpochs = 1;
  private readonly excluded: () => ReadonlySet<tf.Variable>;

  constructor(
    readonly config: DefaultTrainerConfig,
    /** Arch params live here; their variables are never trained as weights. */
    space?: ArchSpace,
  ) {
    this.batchSize = config.batch_size;
    this.baseLr = config.lr;
    this.excluded = () => new Set(space ? space.tensors().map((t) => t.variable) : []);
  }

  // ------------------------------------------------------------ schedule

  setEpoch(epoch: number, totalEpochs: number): void {
    this.epoch = epoch;
    this.totalEpochs = Math.max(totalEpochs, 1);
    this.baseLr = this.scheduledLr(epoch, this.totalEpochs);
  }

  /** The LR of the schedule at a (possibly fractional) epoch, before warmup. */
  scheduledLr(epoch: number, totalEpochs: number): number {
    const c = this.config;
    if (c.lr_scheduler === 'cosine') {
      const T = c.t_max > 0 ? c.t_max : totalEpochs;
      return c.lr_min + ((c.lr - c.lr_min) * (1 + Math.cos((Math.PI * Math.min(epoch, T)) / T))) / 2;
    }
    if (c.lr_scheduler === 'step') return c.lr * c.gamma ** Math.floor(epoch / c.step_size);
    return c.lr;
  }

  /** The LR the next step will use (warmup included). */
  currentLr(): number {
    const w = this.config.warmup_steps;
    if (w > 0 && this.stepsSinceReset < w) return (this.baseLr * (this.stepsSinceReset + 1)) / w;
    return this.baseLr;
  }

  // ------------------------------------------------------------ losses

  addLossTerm(term: LossTerm, opts: LossTermOptions = {}): () => void {
    const entry: TermEntry = { term, mode: opts.mode ?? 'all', name: opts.name ?? `term_${this.terms.length}` };
    this.terms.push(entry);
    return () => {
      const i = this.terms.indexOf(entry);
      if (i >= 0) this.terms.splice(i, 1);
    };
  }

  /** Task loss plus the terms registered for `phase`; inside a tidy or a gradient function. */
  private totalLoss(model: Module, batch: Batch, logits: tf.Tensor, phase: 'train' | 'eval' | 'arch'): tf.Scalar {
    let loss = crossEntropy(logits, batch.y, this.config.label_smoothing);
    for (const t of this.terms) if (TERM_MODES[phase].has(t.mode)) loss = tf.add(loss, t.term({ model, logits, batch }));
    return loss;
  }

  loss(model: Module, batch: Batch): tf.Scalar {
    return tf.tidy(() => this.totalLoss(model, batch, model.call(batch.x), 'arch'));
  }

  evalStep(model: Module, batch: Batch): StepResult {
    return tf.tidy(() => {
      const logits = model.call(batch.x);
      const loss = this.totalLoss(model, batch, logits, 'eval');
      const correct = tf.sum(tf.equal(tf.argMax(logits, -1), tf.cast(batch.y, 'int32')).toInt());
      const [l, c] = [loss.dataSync()[0], correct.dataSync()[0]];
      return { loss: l, correct: c, count: batch.y.shape[0] };
    });
  }

  // ------------------------------------------------------------ update

  /** The weights trained: trainable variables of the model that are not arch params. */
  trainableWeights(model: Module): tf.Variable[] {
    const ex = this.excluded();
    return model.parameters().filter((v) => v.trainable && !ex.has(v));
  }

  trainStep(model: Module, batch: Batch): StepResult {
    const weights = this.trainableWeights(model);
    if (weights.length === 0) {
      throw new ModnasError('MODNAS_E_TRAINER_NO_WEIGHTS', 'DefaultTrainer: the model has no trainable weights', {
        fix: 'check that the constructors filled every Slot with a module that has weights',
      });
    }
    const lr = this.currentLr();
    const out = tf.tidy(() => {
      let logits: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        logits = tf.keep(model.call(batch.x));
        return this.totalLoss(model, batch, logits, 'train');
      }, weights);
      // tf.keep shields the logits from every tidy, so they are freed by hand.
      const correct = tf.sum(tf.equal(tf.argMax(logits!, -1), tf.cast(batch.y, 'int32')).toInt());
      logits!.dispose();
      // Weights that took no part in the forward (unused candidates) get no gradient and are left
      // alone, decay and momentum included (as PyTorch skips params whose grad is None).
      const used = weights.filter((w) => grads[w.name] !== undefined);
      let gs = used.map((w) => grads[w.name]);
      if (this.config.grad_clip > 0) gs = clipByGlobalNorm(gs, this.config.grad_clip);
      used.forEach((w, i) => this.update(w, gs[i], lr));
      return { loss: value.dataSync()[0], correct: correct.dataSync()[0] };
    });
    this.stepsSinceReset++;
    return { ...out, count: batch.y.shape[0] };
  }

  /** One update of one weight w with gradient g (inside a tidy). PyTorch's SGD and Adam rules. */
  private update(w: tf.Variable, g: tf.Tensor, lr: number): void {
    const c = this.config;
    const s = this.slotOf(w);
    s.t++;
    let d = g;
    if (c.weight_decay > 0) {
      if (c.decoupled_weight_decay) w.assign(tf.mul(w, 1 - lr * c.weight_decay));
      else d = tf.add(d, tf.mul(w, c.weight_decay));
    }
    if (c.optimizer === 'sgd') {
      if (c.momentum > 0) {
        // buf = d on the first step, else momentum*buf + d (dampening 0)
        const buf = s.m ? tf.add(tf.mul(s.m, c.momentum), d) : d;
        if (s.m) s.m.assign(buf);
        else s.m = tf.variable(buf, false);
        d = c.nesterov ? tf.add(d, tf.mul(buf, c.momentum)) : buf;
      }
      w.assign(tf.sub(w, tf.mul(d, lr)));
      return;
    }
    const [b1, b2] = c.betas;
    const m = tf.add(tf.mul(s.m ?? tf.zerosLike(w), b1), tf.mul(d, 1 - b1));
    const v = tf.add(tf.mul(s.v ?? tf.zerosLike(w), b2), tf.mul(tf.square(d), 1 - b2));
    if (s.m) s.m.assign(m);
    else s.m = tf.variable(m, false);
    if (s.v) s.v.assign(v);
    else s.v = tf.variable(v, false);
    const mHat = tf.div(m, 1 - b1 ** s.t);
    const denom = tf.add(tf.sqrt(tf.div(v, 1 - b2 ** s.t)), c.eps);
    w.assign(tf.sub(w, tf.mul(tf.div(mHat, denom), lr)));
  }

  private slotOf(w: tf.Variable): SlotState {
    let s = this.slots.get(w);
    if (!s) {
      s = { t: 0 };
      const saved = this.pending.get(w.name);
      if (saved && saved.shape.join('x') === w.shape.join('x')) {
        s.t = saved.t;
        if (saved.m) s.m = tf.variable(tf.tensor(saved.m, w.shape), false);
        if (saved.v) s.v = tf.variable(tf.tensor(saved.v, w.shape), false);
        this.pending.delete(w.name);
      }
      this.slots.set(w, s);
    }
    return s;
  }

  /** SGD's momentum buffer of a weight (DARTS' second-order step reads it), if any. */
  momentumBuffer(w: tf.Variable): tf.Tensor | undefined {
    return this.config.optimizer === 'sgd' ? this.slots.get(w)?.m : undefined;
  }

  // ------------------------------------------------------------ state

  /** Drop optimizer slots (momentum, Adam moments) and restart the warmup. */
  reset(): void {
    for (const s of this.slots.values()) {
      s.m?.dispose();
      s.v?.dispose();
    }
    this.slots.clear();
    this.pending.clear();
    this.stepsSinceReset = 0;
  }

  state(): unknown {
    const slots: SerializedSlot[] = [];
    for (const [w, s] of this.slots) {
      if (w.isDisposed) continue;
      slots.push({ name: w.name, shape: [...w.shape], t: s.t, m: s.m ? Array.from(s.m.dataSync()) : undefined, v: s.v ? Array.from(s.v.dataSync()) : undefined });
    }
    return { epoch: this.epoch, totalEpochs: this.totalEpochs, stepsSinceReset: this.stepsSinceReset, slots };
  }

  /** Restore a state(); slots are matched to weights by variable name at their next update. */
  restore(state: unknown): void {
    const st = state as { epoch?: number; totalEpochs?: number; stepsSinceReset?: number; slots?: SerializedSlot[] } | undefined;
    this.reset();
    if (!st) return;
    this.setEpoch(st.epoch ?? 0, st.totalEpochs ?? 1);
    this.stepsSinceReset = st.stepsSinceReset ?? 0;
    this.pending = new Map((st.slots ?? []).map((s) => [s.name, s]));
  }

  dispose(): void {
    this.reset();
    this.terms.length = 0;
  }
}

/** Scale gradients so that their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_). */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): tf.Tensor[] {
  if (grads.length === 0) return grads;
  const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
  const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
  return grads.map((g) => tf.mul(g, coef));
}

export const defaultTrainer = defineComponent({
  kind: 'trainer',
  id: 'DefaultTrainer',
  aliases: ['ImageClsTrainer'],
  description: 'Cross-entropy training with SGD (momentum, Nesterov) or Adam, weight decay, cosine/step LR, warmup, label smoothing and gradient clipping',
  schema: defaultTrainerSchema,
  create(config, ctx) {
    return new DefaultTrainer(config, ctx.space);
  },
});
