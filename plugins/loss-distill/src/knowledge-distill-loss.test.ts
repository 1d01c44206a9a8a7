import type { Module as ModuleT, StateOptimizer } from '@modnas/core';
import { ArchSpace, Module, tf } from '@modnas/core';
import { startLosses, trainEpoch } from '@modnas/kit-estim';
import { Linear } from '@modnas/nn';
import { makeBuildContext, makeEstimContext, tinySplit } from '@modnas/testkit';
import { defaultTrainer } from '@modnas/trainer-default';
import { describe, expect, it } from 'vitest';
import { KnowledgeDistillLoss, knowledgeDistillLoss, knowledgeDistillLossSchema } from './knowledge-distill-loss.js';

/** Flatten, then one linear layer: 8x8x3 -> 4 classes. */
class Tiny extends Module {
  readonly fc: Linear;
  constructor() {
    super();
    this.fc = this.addModule('fc', new Linear(8 * 8 * 3, 4));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(tf.reshape(x, [x.shape[0], -1]));
  }
}

const kd = (opts: Record<string, unknown> = {}): KnowledgeDistillLoss => new KnowledgeDistillLoss(knowledgeDistillLossSchema.parse(opts));
const trainer = async (lr = 0.5): Promise<StateOptimizer> => (await defaultTrainer.create(defaultTrainer.schema.parse({ lr, batch_size: 16, momentum: 0, weight_decay: 0, lr_scheduler: 'none' }), makeBuildContext(), undefined));
const perturb = (m: ModuleT, seed: number): void => {
  for (const p of m.parameters()) p.assign(tf.randomNormal(p.shape, 0, 0.3, 'float32', seed++));
};
/** The model's logits on the whole split, in order. */
const logitsOn = (m: ModuleT, split: ReturnType<typeof tinySplit>): tf.Tensor2D => {
  const out: tf.Tensor[] = [];
  for (const b of split.batches(16)) {
    out.push(tf.tidy(() => m.call(b.x)));
    tf.dispose([b.x, b.y]);
  }
  const all = tf.concat(out, 0) as tf.Tensor2D;
  tf.dispose(out);
  return all;
};

describe('KnowledgeDistillLoss', () => {
  it("a training step's loss is loss_scale · ((1 - kd_ratio) · CE + kd_ratio · CE against the teacher's softmax), the teacher being the weights when the estimator started", async () => {
    const split = tinySplit(16, [8, 8, 3], 4, 3);
    const model = new Tiny();
    const ctx = makeEstimContext({ model, space: new ArchSpace(), trainer: await trainer(), train: split });
    const teacherLogits = logitsOn(model, split);
    const end = startLosses(ctx, [kd({ kd_ratio: 0.3, loss_scale: 2 })]);
    // the student moves away from the teacher after the start: the teacher must not follow
    perturb(model, 11);
    const studentLogits = logitsOn(model, split);
    const [b] = [...split.batches(16)];
    const want = tf.tidy(() => {
      const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(b.y, 4), studentLogits);
      const soft = tf.neg(tf.mean(tf.sum(tf.mul(tf.softmax(teacherLogits), tf.logSoftmax(studentLogits)), -1)));
      return tf.mul(2, tf.add(tf.mul(0.7, ce), tf.mul(0.3, soft))).dataSync()[0];
    });
    const plainCe = tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(b.y, 4), studentLogits).dataSync()[0]);
    const stats = await trainEpoch(ctx, { epoch: 0, epochs: 1 });
    end();
    expect(stats.steps).toBe(1);
    expect(stats.loss).toBeCloseTo(want, 4);
    expect(Math.abs(stats.loss - plainCe)).toBeGreaterThan(0.05);
    tf.dispose([teacherLogits, studentLogits, b.x, b.y]);
  });

  it("changes what the students learn: trained with the teacher, the student's outputs come closer to the teacher's than trained without", async () => {
    const split = tinySplit(64, [8, 8, 3], 4, 5);
    const run = async (withTeacher: boolean): Promise<{ kl: number; out: tf.Tensor2D; teacher: tf.Tensor2D }> => {
      tf.engine().startScope();
      const model = new Tiny();
      perturb(model, 100); // the same teacher in both runs
      const teacher = logitsOn(model, split);
      const ctx = makeEstimContext({ model, space: new ArchSpace(), trainer: await trainer(0.2), train: split });
      const end = startLosses(ctx, withTeacher ? [kd({ kd_ratio: 0.9 })] : []);
      perturb(model, 200); // the same student start in both runs
      for (let e = 0; e < 8; e++) await trainEpoch(ctx, { epoch: e, epochs: 8 });
      end();
      const out = logitsOn(model, split);
      const kl = tf.tidy(() => {
        const p = tf.softmax(teacher);
        return tf.mean(tf.sum(tf.mul(p, tf.sub(tf.log(p), tf.logSoftmax(out))), -1)).dataSync()[0];
      });
      tf.engine().endScope([out, teacher]);
      return { kl, out, teacher };
    };
    const withT = await run(true);
    const without = await run(false);
    expect(withT.kl).toBeLessThan(without.kl * 0.8);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(withT.out, without.out))).dataSync()[0])).toBeGreaterThan(0.1);
    tf.dispose([withT.out, withT.teacher, without.out, without.teacher]);
  });

  it('frees the teacher and its outputs when the estimator ends (no tensor left)', async () => {
    const model = new Tiny();
    const ctx = makeEstimContext({ model, space: new ArchSpace(), trainer: await trainer(), train: tinySplit(32) });
    const before = tf.memory().numTensors;
    const end = startLosses(ctx, [kd()]);
    await trainEpoch(ctx, { epoch: 0, epochs: 1 });
    end();
    // the trainer keeps no slots with momentum 0; the model's own tensors are as many as before
    expect(tf.memory().numTensors).toBe(before);
  });

  it("takes the original's spec (mode, crit_conf, kd_model_constructor) and refuses a crit_conf that is not a soft loss", async () => {
    const spec = { mode: 'train', kd_model_constructor: [{ type: 'DefaultModelConstructor' }, { type: 'DefaultTorchCheckpointLoader', args: { path: 'model_teacher_best.pt' } }], crit_conf: 'CrossEntropySoftTargetLoss' };
    expect(await knowledgeDistillLoss.create(knowledgeDistillLossSchema.parse(spec), makeBuildContext(), undefined)).toBeInstanceOf(KnowledgeDistillLoss);
    expect(() => kd({ crit_conf: 'MSELoss' })).toThrow(expect.objectContaining({ code: 'MODNAS_E_LOSS_KD_CRIT' }));
  });

  it('needs a trainer that takes loss terms, and says so', async () => {
    const model = new Tiny();
    const plain = { batchSize: 8 } as unknown as StateOptimizer;
    const ctx = makeEstimContext({ model, space: new ArchSpace(), trainer: plain });
    expect(() => startLosses(ctx, [kd()])).toThrow(expect.objectContaining({ code: 'MODNAS_E_LOSS_TRAINER' }));
  });
});
