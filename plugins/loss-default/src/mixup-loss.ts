import type { EstimContext, Loss, LossHost, LossSession, LossTerm, Rng } from '@modnas/core';
import { ModnasError, defineComponent, looseName, tf, z } from '@modnas/core';
import { crossEntropy } from '@modnas/nn';
import { intLabels } from './common.js';

/** The inner criteria MixUpLoss computes itself (the trainer's task loss is a cross-entropy). */
const CROSS_ENTROPY = ['CrossEntropyLoss', 'CE'];
const LABEL_SMOOTHING = ['CrossEntropyLabelSmoothingLoss', 'LS'];

export const mixUpLossSchema = z.strictObject({
  crit_conf: z
    .union([z.string(), z.looseObject({ type: z.string() })])
    .default('CrossEntropyLoss')
    .describe("The loss of the mixed batch against each of its two label sets: CrossEntropyLoss, CrossEntropyLabelSmoothingLoss ({ type, args: { eta } }), or a loss component that replaces the task loss (e.g. { type: MSELoss })"),
  alpha: z.number().min(0).default(0.3).describe('Both parameters of the Beta(alpha, alpha) the mixing weight λ is drawn from, once per step (0: λ = 1, no mixing)'),
  use_flip: z.boolean().default(true).describe('Mix each example with the batch reversed (true, the original\'s default); false: with a random permutation of the batch'),
  mode: z.enum(['train', 'all']).default('train').describe("The passes the loss joins: 'train' (weight steps; validation keeps the task loss) or 'all'"),
});
export type MixUpLossConfig = z.output<typeof mixUpLossSchema>;

/** A sample of Gamma(shape, 1) (Marsaglia & Tsang 2000; shape < 1 by Gamma(shape + 1)·U^(1/shape)). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A sample of Beta(a, b), as X / (X + Y) of two Gamma samples. */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  return x / (x + y);
}

/** The loss of logits against labels that MixUp mixes: a cross-entropy, or another loss's term. */
export type MixCriterion = { kind: 'ce'; labelSmoothing: number } | { kind: 'loss'; loss: Loss; name: string };

/**
 * MixUp (Zhang et al. 2018), as the original's MixUpLoss: each training step draws λ ~ Beta(α, α),
 * mixes the batch with itself reversed (or shuffled), x̃ = λ·x + (1 - λ)·x_alt, runs the network on
 * x̃ and takes λ·crit(f(x̃), y) + (1 - λ)·crit(f(x̃), y_alt) in place of the task loss.
 */
export class MixUpLoss implements Loss {
  /** The λ of the last mixed batch (undefined before the first). */
  lastLambda: number | undefined;

  constructor(
    readonly config: MixUpLossConfig,
    readonly criterion: MixCriterion = { kind: 'ce', labelSmoothing: 0 },
  ) {}

  start(ctx: EstimContext, host: LossHost = {}): LossSession {
    const c = this.config;
    const rng = ctx.rng.fork(0x6d78);
    let inner: LossSession | undefined;
    if (this.criterion.kind === 'loss') {
      inner = this.criterion.loss.start(ctx, host);
      if ((inner.taskWeight ?? 1) !== 0) {
        inner.end();
        throw new ModnasError('MODNAS_E_LOSS_MIXUP_CRIT', `MixUpLoss: crit_conf ${this.criterion.name} adds to the task loss rather than being a loss of its own`, {
          fix: 'use crit_conf: CrossEntropyLoss, CrossEntropyLabelSmoothingLoss, or a loss such as MSELoss',
          where: 'crit_conf',
        });
      }
    }
    const ce = this.criterion.kind === 'ce' ? this.criterion.labelSmoothing : 0;
    const crit = (model: Parameters<LossTerm>[0]['model'], logits: tf.Tensor, x: tf.Tensor4D, y: tf.Tensor1D): tf.Scalar =>
      inner ? inner.term({ model, logits, batch: { x, y } }) : crossEntropy(logits, intLabels(y), ce);
    return {
      mode: c.mode,
      taskWeight: 0,
      term: ({ model, batch }) => {
        const lam = c.alpha > 0 ? sampleBeta(rng, c.alpha, c.alpha) : 1;
        this.lastLambda = lam;
        const n = batch.x.shape[0];
        const order = Array.from({ length: n }, (_, i) => (c.use_flip ? n - 1 - i : i));
        if (!c.use_flip) rng.shuffle(order);
        return tf.tidy(() => {
          const idx = tf.tensor1d(order, 'int32');
          const mixed = tf.add<tf.Tensor4D>(tf.mul(batch.x, lam), tf.mul(tf.gather(batch.x, idx), 1 - lam));
          // an estimator that trains k subnets on one batch repeats its labels k times (one copy per subnet's outputs)
          const reps = Math.max(1, Math.round(batch.y.shape[0] / n));
          const yOrder = Array.from({ length: reps * n }, (_, j) => Math.floor(j / n) * n + order[j % n]);
          const yAlt = tf.gather<tf.Tensor1D>(batch.y, tf.tensor1d(yOrder, 'int32'));
          const logits = model.call(mixed);
          if (lam === 1) return crit(model, logits, mixed, batch.y);
          return tf.add(tf.mul(crit(model, logits, mixed, batch.y), lam), tf.mul(crit(model, logits, mixed, yAlt), 1 - lam));
        });
      },
      end(): void {
        inner?.end();
      },
    };
  }
}

/** Whether a crit_conf names a cross-entropy MixUpLoss computes itself, or a loss component. */
function innerKind(spec: MixUpLossConfig['crit_conf']): 'ce' | 'loss' {
  const type = looseName(typeof spec === 'string' ? spec : spec.type);
  return [...CROSS_ENTROPY, ...LABEL_SMOOTHING].some((n) => looseName(n) === type) ? 'ce' : 'loss';
}

export const mixUpLoss = defineComponent({
  kind: 'loss',
  id: 'MixUpLoss',
  description: 'MixUp: each step trains on the batch mixed with itself reversed, x̃ = λx + (1-λ)x_alt with λ ~ Beta(alpha, alpha), and the loss λ·crit(y) + (1-λ)·crit(y_alt), in place of the task loss',
  schema: mixUpLossSchema,
  refs(config) {
    // a crit_conf other than the cross-entropies is a loss component, validated with the experiment
    return innerKind(config.crit_conf) === 'loss' ? [{ kind: 'loss', spec: config.crit_conf, path: 'crit_conf' }] : [];
  },
  async create(config, ctx) {
    const spec = config.crit_conf;
    const type = typeof spec === 'string' ? spec : spec.type;
    const is = (names: string[]): boolean => names.some((n) => looseName(n) === looseName(type));
    if (is(CROSS_ENTROPY)) return new MixUpLoss(config, { kind: 'ce', labelSmoothing: 0 });
    if (is(LABEL_SMOOTHING)) {
      const o = typeof spec === 'string' ? {} : ((spec.args as Record<string, unknown> | undefined) ?? spec);
      const eta = o.eta ?? 0.1;
      if (typeof eta !== 'number' || !(eta >= 0 && eta < 1)) {
        throw new ModnasError('MODNAS_E_LOSS_MIXUP_CRIT', `MixUpLoss: crit_conf's eta ${JSON.stringify(eta)} is not a label smoothing in [0, 1)`, { fix: 'give eta a number in [0, 1), e.g. 0.1', where: 'crit_conf.args.eta' });
      }
      return new MixUpLoss(config, { kind: 'ce', labelSmoothing: eta });
    }
    const loss = await ctx.build('loss', spec, undefined, `${ctx.where}.crit_conf`);
    return new MixUpLoss(config, { kind: 'loss', loss, name: type });
  },
});
