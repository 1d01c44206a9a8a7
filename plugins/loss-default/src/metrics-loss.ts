import type { Batch, EstimContext, Loss, LossSession, Module } from '@modnas/core';
import { ModnasError, defineComponent, tf, z } from '@modnas/core';
import { inputShapeOf } from '@modnas/kit-estim';
import { crossEntropy } from '@modnas/nn';
import { checkShapes, intLabels, modeSchema } from './common.js';

export const multMetricsLossSchema = z.strictObject({
  metrics: z.string().nullable().default(null).describe("The metric whose value scales the loss: a key of the estimator's metrics (e.g. params, flops, latency)"),
  target_val: z.number().nullable().default(null).describe('The metric\'s target value, followed by a moving average of the metric (null: its first value)'),
  target_decay: z.number().min(0).max(1).default(0.1).describe('Step of the moving target toward each new value: target += target_decay · (value - target)'),
  alpha: z.number().default(1).describe('Factor of the whole loss'),
  beta: z.number().default(0.6).describe('Power of the ratio of the metric to its target'),
  mode: modeSchema,
});
export type MultMetricsLossConfig = z.output<typeof multMetricsLossSchema>;

/** The factor of each form: the metric against its target, to the power beta. */
const FACTORS = {
  MultMetricsLoss: (mt: number, target: number, beta: number): number => (mt / target) ** beta,
  MultLogMetricsLoss: (mt: number, target: number, beta: number): number => (Math.log(mt) / Math.log(target)) ** beta,
};
type Form = keyof typeof FACTORS;

/**
 * The original's MultMetricsLoss / MultLogMetricsLoss: the task loss (the cross-entropy, with the
 * trainer's label smoothing) times alpha · (m / target)^beta, or alpha · (log m / log target)^beta,
 * where m is a metric of the network as it is at the step (its size, FLOPs, ...) and target a moving
 * average of it. The metric is a number here, so the factor scales the loss and its gradient.
 */
export class MultMetricsLoss implements Loss {
  /** The moving target (null before the first value). */
  target: number | null;

  constructor(
    readonly form: Form,
    readonly config: MultMetricsLossConfig,
  ) {
    this.target = config.target_val;
  }

  /** The metric of the network now, and the factor with the target moved toward it. */
  factor(ctx: EstimContext, model: Module): number {
    const key = this.config.metrics!;
    const inputShape = inputShapeOf(ctx);
    const values: Record<string, number> = {};
    if (inputShape) {
      for (const fn of ctx.metrics) {
        const r = fn(model, { inputShape });
        if (r instanceof Promise) {
          void r.catch(() => undefined);
          throw new ModnasError('MODNAS_E_LOSS_METRICS_ASYNC', `${this.form}: a metrics function of ${ctx.name} answers asynchronously, and a loss needs its value inside the step`, {
            fix: `name a metric computed at once (params, flops), or drop the asynchronous one (latency measured on a device) from estim.${ctx.name}.metrics`,
            where: `estim.${ctx.name}.metrics`,
          });
        }
        Object.assign(values, r);
      }
    }
    const mt = values[key];
    if (typeof mt !== 'number' || !Number.isFinite(mt)) {
      throw new ModnasError('MODNAS_E_LOSS_METRICS_KEY', `${this.form}: the estimator ${ctx.name} has no metric ${JSON.stringify(key)} (it has: ${Object.keys(values).join(', ') || 'none'})`, {
        fix: `add a metrics component giving ${key} to estim.${ctx.name}.metrics, or name one it gives`,
        where: 'metrics',
      });
    }
    let target = this.target ?? mt;
    target += this.config.target_decay * (mt - target);
    this.target = target;
    const f = FACTORS[this.form](mt, target, this.config.beta);
    if (!Number.isFinite(f)) {
      throw new ModnasError('MODNAS_E_LOSS_METRICS_VALUE', `${this.form}: ${key} = ${mt} against the target ${target} gives the factor ${f}`, {
        fix: this.form === 'MultLogMetricsLoss' ? 'the log form needs a metric and target above 0 and a target other than 1: use MultMetricsLoss or set target_val' : 'set target_val to a positive value of the metric',
        where: 'target_val',
      });
    }
    return f;
  }

  start(ctx: EstimContext): LossSession {
    const c = this.config;
    if (c.metrics === null) {
      throw new ModnasError('MODNAS_E_LOSS_METRICS_KEY', `${this.form}: no metric named`, {
        fix: `name one of the estimator's metrics, e.g. { type: ${this.form}, metrics: params }`,
        where: `estim.${ctx.name}.criterion`,
      });
    }
    const ls = labelSmoothingOf(ctx);
    let prepared: { x: tf.Tensor; f: number } | undefined;
    return {
      mode: c.mode,
      taskWeight: 0,
      prepare: (batch: Batch): void => {
        prepared = { x: batch.x, f: this.factor(ctx, ctx.model) };
      },
      term: ({ model, logits, batch }) => {
        // a pass with no prepared batch (validation, arch steps): the metric now
        const f = prepared?.x === batch.x ? prepared.f : this.factor(ctx, model);
        prepared = undefined;
        return tf.tidy(() => tf.mul(crossEntropy(checkShapes(this.form, logits, batch.y), intLabels(batch.y), ls), c.alpha * f));
      },
      end(): void {
        prepared = undefined;
      },
    };
  }
}

/** The trainer's label smoothing, where it has one (DefaultTrainer's config). */
function labelSmoothingOf(ctx: EstimContext): number {
  const cfg = (ctx.trainer as { config?: { label_smoothing?: unknown } }).config;
  return typeof cfg?.label_smoothing === 'number' ? cfg.label_smoothing : 0;
}

export const multMetricsLoss = defineComponent({
  kind: 'loss',
  id: 'MultMetricsLoss',
  description: 'The task loss times alpha·(m / target)^beta, m a metric of the network at each step (its size, FLOPs) and target a moving average of it',
  schema: multMetricsLossSchema,
  create(config) {
    return new MultMetricsLoss('MultMetricsLoss', config);
  },
});

export const multLogMetricsLoss = defineComponent({
  kind: 'loss',
  id: 'MultLogMetricsLoss',
  description: 'The task loss times alpha·(log m / log target)^beta, m a metric of the network at each step and target a moving average of it',
  schema: multMetricsLossSchema,
  create(config) {
    return new MultMetricsLoss('MultLogMetricsLoss', config);
  },
});
