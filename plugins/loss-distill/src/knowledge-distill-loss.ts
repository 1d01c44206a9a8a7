import type { Batch, EstimContext, Loss, LossHost, LossSession, Module } from '@modnas/core';
import { ModnasError, defineComponent, looseName, tf, z } from '@modnas/core';
import { restoreState, snapshotState } from '@modnas/kit-estim';

/** The soft losses the student's outputs are compared with the teacher's by (the original's crit_conf). */
const SOFT_LOSSES = ['CrossEntropySoftTargetLoss'] as const;

export const knowledgeDistillLossSchema = z.strictObject({
  kd_ratio: z.number().min(0).max(1).default(0.5).describe('Weight of the distillation loss: loss = loss_scale · ((1 - kd_ratio) · task loss + kd_ratio · soft loss)'),
  loss_scale: z.number().positive().default(1).describe('Scale of the whole loss'),
  temperature: z
    .number()
    .positive()
    .default(1)
    .describe("Softmax temperature of the teacher's and the student's outputs in the soft loss, which is then scaled by T² (1: the original's, no temperature)"),
  crit_conf: z
    .union([z.string(), z.looseObject({ type: z.string() })])
    .default('CrossEntropySoftTargetLoss')
    .describe("The soft loss between the student's outputs and the teacher's: CrossEntropySoftTargetLoss (cross-entropy against the teacher's softmax)"),
  mode: z.enum(['train', 'all']).default('train').describe("The passes the loss joins: 'train' (weight steps) or 'all' (validation and arch steps too)"),
  kd_model_constructor: z
    .unknown()
    .optional()
    .describe("The original's teacher: a network and a PyTorch checkpoint of it. Here the teacher is the estimator's own network, at full size, with the weights it has when the estimator starts (what the estimators before it trained, e.g. a `teacher` estimator); when given, the log says so"),
  kd_model: z.unknown().optional().describe('As kd_model_constructor (the original passes a built teacher here)'),
});
export type KnowledgeDistillLossConfig = z.output<typeof knowledgeDistillLossSchema>;

/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015), as Once-for-All trains its subnets from the
 * full network: when the estimator starts, the network's weights are kept as the teacher's; before
 * each training step the teacher (the network at full size, in inference mode, with those weights)
 * gives its softmax on the batch, and the step's loss becomes
 * loss_scale · ((1 - kd_ratio) · CE(student, labels) + kd_ratio · T² · CE(softmax(student / T), softmax(teacher / T))).
 */
export class KnowledgeDistillLoss implements Loss {
  constructor(readonly config: KnowledgeDistillLossConfig) {
    const crit = typeof config.crit_conf === 'string' ? config.crit_conf : config.crit_conf.type;
    if (!SOFT_LOSSES.some((s) => looseName(s) === looseName(crit))) {
      throw new ModnasError('MODNAS_E_LOSS_KD_CRIT', `KnowledgeDistillLoss: crit_conf ${JSON.stringify(crit)} is not a soft loss here`, {
        fix: `use crit_conf: ${SOFT_LOSSES.join(' or ')}`,
        where: 'crit_conf',
      });
    }
  }

  start(ctx: EstimContext, host: LossHost = {}): LossSession {
    const c = this.config;
    const model = ctx.model;
    if (c.kd_model_constructor !== undefined || c.kd_model !== undefined) {
      ctx.logger.info(`${ctx.name}: KnowledgeDistillLoss: the teacher is this network with the weights it has now (kd_model_constructor names a PyTorch network and checkpoint; its weights are these)`);
    }
    const teacher = snapshotState(model);
    let soft: { x: tf.Tensor; probs: tf.Tensor } | undefined;
    const freeSoft = (): void => {
      soft?.probs.dispose();
      soft = undefined;
    };
    const t = c.temperature;
    return {
      mode: c.mode,
      taskWeight: c.loss_scale * (1 - c.kd_ratio),
      prepare(batch: Batch): void {
        freeSoft();
        soft = { x: batch.x, probs: teacherProbs(model, teacher, batch.x, t, host) };
      },
      term: ({ logits, batch }) => {
        if (!soft || soft.x !== batch.x) {
          // a pass with no prepared batch (validation with mode 'all'): the teacher's outputs now
          freeSoft();
          soft = { x: batch.x, probs: tf.keep(teacherProbs(model, teacher, batch.x, t, host)) };
        }
        const n = soft.probs.shape[0];
        // an estimator that trains k subnets on one batch concatenates their outputs (and repeats the labels)
        const reps = logits.shape[0] / n;
        const p = reps === 1 ? soft.probs : tf.tile(soft.probs, [reps, 1]);
        const logq = tf.logSoftmax(t === 1 ? logits : tf.div(logits, t));
        const ce = tf.neg(tf.mean(tf.sum(tf.mul(p, logq), -1)));
        return tf.mul<tf.Scalar>(ce, c.loss_scale * c.kd_ratio * t * t);
      },
      end(): void {
        freeSoft();
        for (const v of teacher.values()) v.dispose();
        teacher.clear();
      },
    };
  }
}

/** softmax(teacher(x) / T): the network at full size, in inference mode, with the teacher's weights (its own put back after). */
function teacherProbs(model: Module, teacher: Map<string, tf.Tensor>, x: tf.Tensor, t: number, host: LossHost): tf.Tensor {
  const student = snapshotState(model);
  const wasTraining = model.training;
  const restore = host.fullNetwork?.();
  try {
    model.loadStateDict(teacher, { strict: false });
    model.eval();
    return tf.tidy(() => {
      const logits = model.call(x);
      return tf.softmax(t === 1 ? logits : tf.div(logits, t));
    });
  } finally {
    model.train(wasTraining);
    restoreState(model, student);
    restore?.();
  }
}

export const knowledgeDistillLoss = defineComponent({
  kind: 'loss',
  id: 'KnowledgeDistillLoss',
  description: "Knowledge distillation: the students (a supernet's subnets) learn from the network's own outputs at full size as they were when the estimator started (Once-for-All's teacher)",
  schema: knowledgeDistillLossSchema,
  create(config) {
    return new KnowledgeDistillLoss(config);
  },
});
