import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { DIVERGED_LOSS, divergedTrial, isBetterTrial, isDivergedLoss, reportCandidate, trainEpoch } from '@modnas/kit-estim';
import { EventBus, silentLogger, Module, ArchSpace, definePlugin, Registry, Rng, tf } from '@modnas/core';
import { prepareExperiment } from './experiment.js';
import type { EstimContext, StateEstimator, StateOptimizer, TrialResult } from '@modnas/core';
import { MemoryExperimentStore } from '@modnas/services';
import { LogProgress } from './log.js';
import { runRepeated } from './repeat.js';
import { runExperiment } from './runner.js';
import { container as rootContainer } from 'tsyringe';
import { tinyDataset } from './test-fixtures.js';

class Scale extends Module {
  readonly w = this.addParam('w', tf.scalar(1));
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(tf.mean(x, [1, 2]), this.w);
  }
}

/** Runs made so far by the test trainer (reset per test): `diverge: first` diverges in run 1 only. */
let trainersMade = 0;

/** A trainer whose loss is `loss` from step `from` on (1-based), at learning rate `lr`. */
function lossTrainer(c: { loss: number; from: number; lr: number; diverge: 'all' | 'first' }): StateOptimizer {
  const run = ++trainersMade;
  let step = 0;
  const bad = (): boolean => c.diverge === 'all' || run === 1;
  return {
    batchSize: 4,
    setEpoch() {},
    currentLr: () => c.lr,
    trainStep: (_m, b) => ({ loss: bad() && ++step >= c.from ? c.loss : 1, correct: 0, count: b.y.shape[0] }),
    evalStep: (_m, b) => ({ loss: 1, correct: b.y.shape[0], count: b.y.shape[0] }),
    loss: () => tf.scalar(0),
    reset() {},
    state: () => ({}),
    restore() {},
    dispose() {},
  };
}

function registry(): Registry {
  const r = new Registry();
  const none = z.strictObject({});
  r.register(
    definePlugin({
      meta: { name: '@test/divergence', version: '1.0.0' },
      components: [
        tinyDataset(16, 2),
        { kind: 'backbone', id: 'OneWeight', description: 'x', schema: none, create: () => new Scale() },
        {
          kind: 'trainer',
          id: 'LossTrainer',
          description: 'x',
          schema: z.strictObject({ loss: z.number().default(Number.NaN), from: z.number().int().default(2), lr: z.number().default(1e6), diverge: z.enum(['all', 'first']).default('all') }),
          create: (c) => lossTrainer(c),
        },
        {
          kind: 'estim',
          id: 'TrainEpochs',
          description: 'trains with trainEpoch, scores 0.5',
          schema: z.strictObject({ epochs: z.number().int().default(2) }),
          create: (c): StateEstimator => ({
            async run(ctx) {
              for (let e = 0; e < c.epochs; e++) await trainEpoch(ctx, { epoch: e, epochs: c.epochs });
              return { metrics: { acc: 0.5 } };
            },
          }),
        },
      ],
    }),
  );
  return r;
}

function config(dir: string, trainer: Record<string, unknown> = {}) {
  return { name: 'div', output_dir: dir, data: { type: 'Tiny' }, data_provider: { train_portion: 0.5 }, model: { type: 'OneWeight' }, trainer: { type: 'LossTrainer', ...trainer }, estim: { train: { type: 'TrainEpochs' } }, export: {} };
}

describe('divergence', () => {
  it('counts NaN, infinite and blown-up losses as diverged, and ordinary ones not', () => {
    expect([Number.NaN, Infinity, -Infinity, 5e21].map(isDivergedLoss)).toEqual([true, true, true, true]);
    expect([0, 2.3, 80, DIVERGED_LOSS].map(isDivergedLoss)).toEqual([false, false, false, false]);
  });

  it('a NaN training loss stops the run at that step with MODNAS_E_TRAIN_DIVERGED naming the learning rate and the fix; log and summary say so', async () => {
    trainersMade = 0;
    const dir = mkdtempSync(join(tmpdir(), 'modnas-div-'));
    const r = registry();
    const { plan } = await prepareExperiment(config(dir), [], { registry: r, discover: false });
    const before = tf.memory().numTensors;
    const err = await runExperiment(plan, { registry: r }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; fix: string },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(err?.code).toBe('MODNAS_E_TRAIN_DIVERGED');
    expect(err?.message).toMatch(/estim train diverged: the training loss became NaN at step 2\/2 of train epoch 1\/2 \(learning rate 1000000\)/);
    expect(err?.message).toMatch(/learning rate too high[\s\S]*data with NaN/);
    expect(err?.fix).toMatch(/lower trainer\.lr \(now 1000000/);
    const log = readFileSync(join(dir, 'div', 'logs', 'run.log'), 'utf8');
    expect(log).toMatch(/ERROR +train epoch 1\/2: step 2\/2: loss NaN \(lr 1000000\): training diverged/);
    const summary = JSON.parse(readFileSync(join(dir, 'div', 'outputs', 'summary.json'), 'utf8')) as { estims: Record<string, { status?: string }> };
    expect(summary.estims.train.status).toBe('diverged');
  });

  it('a finite loss that blew up counts too; an ordinary loss runs to the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-div-'));
    const r = registry();
    const blown = await prepareExperiment(config(dir, { loss: 5e21, from: 1 }), [], { registry: r, discover: false });
    await expect(runExperiment(blown.plan, { registry: r, persist: false })).rejects.toMatchObject({ code: 'MODNAS_E_TRAIN_DIVERGED' });
    const fine = await prepareExperiment(config(dir, { loss: 3, from: 1 }), [], { registry: r, discover: false });
    const s = await runExperiment(fine.plan, { registry: r, persist: false });
    expect(s.estims.train.metrics.acc).toBe(0.5);
    expect(s.estims.train.status).toBeUndefined();
  });

  it('a diverged trial has no score, is stored with status diverged, and is never the best', async () => {
    const ok: TrialResult = { arch: { op: 'a' }, score: 0.1, metrics: { acc: 0.1 } };
    const bad = divergedTrial({ op: 'b' });
    expect(bad.status).toBe('diverged');
    expect(Number.isNaN(bad.score)).toBe(true);
    expect(isBetterTrial(bad, undefined)).toBe(false);
    expect(isBetterTrial(bad, ok)).toBe(false);
    expect(isBetterTrial(ok, undefined)).toBe(true);
    expect(isBetterTrial({ ...ok, score: Number.NaN }, undefined)).toBe(false);

    const store = new MemoryExperimentStore();
    const ctx = {
      name: 'search',
      store,
      events: new EventBus(),
      logger: silentLogger,
      progress: new LogProgress(silentLogger),
      space: new ArchSpace(),
      rng: new Rng(0),
      container: rootContainer.createChildContainer(),
    } as unknown as EstimContext;
    await reportCandidate(ctx, bad, 0);
    await reportCandidate(ctx, ok, 1);
    expect(store.read('candidates').map((c) => [c.status, c.score])).toEqual([
      ['diverged', null],
      ['done', 0.1],
    ]);
  });

  it('repeated runs: a diverged run is recorded (no value, left out of the statistics); all runs diverged is an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-div-'));
    const r = registry();
    trainersMade = 0;
    const some = await prepareExperiment(config(dir, { diverge: 'first' }), [], { registry: r, discover: false });
    const s = await runRepeated(some.plan, { runs: 3, registry: r, out: false, mode: 'light', metric: 'acc' });
    expect(s.runs.map((x) => x.status ?? 'done')).toEqual(['diverged', 'done', 'done']);
    expect(Number.isNaN(s.runs[0].value)).toBe(true);
    expect(s.mean).toBe(0.5);
    trainersMade = 0;
    const all = await prepareExperiment(config(dir), [], { registry: r, discover: false });
    await expect(runRepeated(all.plan, { runs: 2, registry: r, out: false, mode: 'light' })).rejects.toThrow(/every one of the 2 runs diverged/);
  });
});
