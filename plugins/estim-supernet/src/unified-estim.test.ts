import type { Assignment, Batch, Module, SearchOptimizer, StepResult, TrialResult } from '@modnas/core';
import { ArchSpace, tf } from '@modnas/core';
import { evaluate } from '@modnas/kit-estim';
import { makeEstimContext, tinySearchNet, tinySplit } from '@modnas/testkit';
import { DefaultTrainer, defaultTrainerSchema } from '@modnas/trainer-default';
import { describe, expect, it } from 'vitest';
import { UnifiedEstim, unifiedEstim, unifiedEstimSchema } from './unified-estim.js';

/** An optimizer that proposes op = 1, 2, 1, 2, ... and keeps what step() got. */
function alternating(): SearchOptimizer & { fed: TrialResult[][] } {
  let i = 0;
  const fed: TrialResult[][] = [];
  return {
    fed,
    hasNext: () => true,
    next: (n) => Array.from({ length: n }, () => ({ op: (i++ % 2) + 1 })),
    step: ({ results }) => void fed.push(results.map((r) => ({ ...r }))),
    state: () => i,
    restore: (s) => void (i = s as number),
  };
}

/** 32 train images (4 steps of 8 per pass), 16 valid (2 batches); the trainer's steps are recorded with the arch they trained. */
function setup(config: Record<string, unknown>) {
  const space = new ArchSpace();
  space.categorical({ name: 'op', choices: [1, 2] });
  const model = tinySearchNet(space);
  const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ batch_size: 8, lr: 0.05 }), space);
  const trained: Assignment[] = [];
  let resets = 0;
  const step = trainer.trainStep.bind(trainer);
  trainer.trainStep = (m: Module, b: Batch): Promise<StepResult> => {
    trained.push(space.assignment());
    return step(m, b);
  };
  const reset = trainer.reset.bind(trainer);
  trainer.reset = () => {
    resets++;
    reset();
  };
  const optim = alternating();
  const ctx = makeEstimContext({ model, space, trainer, optim, train: tinySplit(32), valid: tinySplit(16, undefined, undefined, 1) });
  const estim = new UnifiedEstim(unifiedEstimSchema.parse(config));
  return {
    space,
    model,
    trainer,
    optim,
    ctx,
    estim,
    trained,
    resets: () => resets,
    dispose: () => {
      model.dispose();
      trainer.dispose();
      space.dispose();
    },
  };
}

describe('UnifiedEstim', () => {
  it('trains the shared weights between candidates, each with its arch applied, and reports each candidate’s metrics on the weights it left', async () => {
    // train_steps -1: round(4 train batches / 2 valid batches) = 2 steps per candidate; 2 passes = 4 candidates
    const s = setup({ epochs: 2, arch_update_batch: 2 });
    const W = (s.model as unknown as { W: tf.Variable }).W;
    const weights: number[][] = [Array.from(W.dataSync())];
    const measured: Array<{ loss: number; acc: number }> = [];
    s.ctx.events.on('candidate:end', async () => {
      weights.push(Array.from(W.dataSync()));
      measured.push(await evaluate(s.model, s.trainer, s.ctx.data.valid));
    });
    const before = tf.memory().numTensors;
    const r = await s.estim.run(s.ctx);
    expect(r.metrics.candidates).toBe(4);
    expect(r.metrics.weight_steps).toBe(8);
    // the steps of candidate k were taken with candidate k applied: op 1, 1, 2, 2, 1, 1, 2, 2
    expect(s.trained.map((a) => a.op)).toEqual([1, 1, 2, 2, 1, 1, 2, 2]);
    // the weights moved between every two candidates (shared, not restored)
    for (let k = 1; k < weights.length; k++) expect(weights[k], `candidate ${k}`).not.toEqual(weights[k - 1]);
    const recs = s.ctx.store.read('candidates') as Array<{ arch: Assignment; metrics: Record<string, number>; score: number }>;
    expect(recs.map((c) => c.arch.op)).toEqual([1, 2, 1, 2]);
    recs.forEach((c, k) => {
      // the metrics are those of the weights the candidate's own steps left, with it applied
      expect(c.metrics.loss).toBeCloseTo(measured[k].loss, 6);
      expect(c.score).toBe(c.metrics.acc);
    });
    // the optimizer got each round's two results, in order
    expect(s.optim.fed.map((round) => round.map((t) => t.arch.op))).toEqual([
      [1, 2],
      [1, 2],
    ]);
    // one epoch record per pass; the best is one of the candidates
    expect(s.ctx.store.read('metrics')).toHaveLength(2);
    expect(recs.map((c) => c.score)).toContain(r.best?.score);
    expect(s.resets()).toBe(1);
    // nothing leaks but the trainer's momentum buffer of W, made at its first step
    expect(tf.memory().numTensors).toBe(before + 1);
    s.dispose();
  });

  it('the training loss of the shared weights falls over the search (6 passes of 4 steps)', async () => {
    const s = setup({ epochs: 6, train_steps: 4 });
    const at0 = (await evaluate(s.model, s.trainer, s.ctx.data.train)).loss;
    await s.estim.run(s.ctx);
    expect((await evaluate(s.model, s.trainer, s.ctx.data.train)).loss).toBeLessThan(at0 - 0.05);
    s.dispose();
  });

  it('train_steps 3 on a pass of 4: a pass ending cuts the candidate short; eval_steps 2 leaves candidates unscored; reset_training resets per candidate', async () => {
    const s = setup({ epochs: 2, train_steps: 3, eval_steps: 2, reset_training: true });
    const r = await s.estim.run(s.ctx);
    // steps per candidate: 3, 1 (pass ends), 3, 1 (pass ends) -> 4 candidates, 8 steps
    expect(r.metrics.weight_steps).toBe(8);
    expect(r.metrics.candidates).toBe(4);
    // after 3 steps the pass position (3) is odd: candidates 1 and 3 are trained, not validated
    expect(r.metrics.unscored).toBe(2);
    expect(s.ctx.store.read('candidates')).toHaveLength(2);
    expect(s.resets()).toBe(1 + 4);
    s.dispose();
  });

  it('train_steps 0 trains a whole pass (times train_epochs) per candidate', async () => {
    const s = setup({ epochs: 4, train_steps: 0, train_epochs: 2 });
    const r = await s.estim.run(s.ctx);
    expect(r.metrics.weight_steps).toBe(16);
    expect(r.metrics.candidates).toBe(2);
    expect(s.trained.map((a) => a.op)).toEqual([...new Array(8).fill(1), ...new Array(8).fill(2)]);
    s.dispose();
  });

  it('the component parses the original’s args and fails on unknown ones', () => {
    expect(unifiedEstim.schema.parse({ train_epochs: 1, train_steps: -1, reset_training: false, eval_steps: 1, arch_update_epoch_start: 0, arch_update_epoch_intv: 1, arch_update_batch: 1 })).toMatchObject({ epochs: 1 });
    expect(() => unifiedEstim.schema.parse({ subnet_epochs: 1 })).toThrow();
  });
});
