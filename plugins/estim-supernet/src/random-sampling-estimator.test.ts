import type { Assignment, Batch, CategoricalParam, EstimCheckpoints, Module as ModuleType, StateOptimizer, StepResult } from '@modnas/core';
import { ArchSpace, Module, Tokens, tf } from '@modnas/core';
import { Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import { makeEstimContext, tinySplit } from '@modnas/testkit';
import { DefaultTrainer, defaultTrainerSchema } from '@modnas/trainer-default';
import { describe, expect, it } from 'vitest';
import { RandomSamplingEstimator, randomSamplingEstimator, randomSamplingEstimatorSchema } from './random-sampling-estimator.js';

/** A trainer that only records the path each weight step trains (the sampling tests need thousands of steps). */
class PathRecorder implements StateOptimizer {
  readonly batchSize = 1;
  readonly paths: Assignment[] = [];
  constructor(readonly space: ArchSpace) {}
  setEpoch(): void {}
  currentLr(): number {
    return 0.1;
  }
  trainStep(_m: ModuleType, b: Batch): StepResult {
    this.paths.push(this.space.assignment());
    return { loss: 1, correct: 0, count: b.y.shape[0] };
  }
  evalStep(_m: ModuleType, b: Batch): StepResult {
    return { loss: 1, correct: 0, count: b.y.shape[0] };
  }
  loss(): tf.Scalar {
    return tf.scalar(1);
  }
  reset(): void {}
  state(): unknown {
    return {};
  }
  restore(): void {}
  dispose(): void {}
}

class NoNet extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

/** Three params of 2, 3 and 5 choices (30 paths); `steps` weight steps per epoch of one 1x1 image each. */
function sampling(opts: { steps: number; seed?: number; experimentSeed?: number }) {
  const space = new ArchSpace();
  space.categorical({ name: 'a', choices: ['x', 'y'] });
  space.categorical({ name: 'b', choices: [1, 2, 3] });
  space.categorical({ name: 'c', choices: ['p', 'q', 'r', 's', 't'] });
  const trainer = new PathRecorder(space);
  const ctx = makeEstimContext({ model: new NoNet(), space, trainer, train: tinySplit(opts.steps, [1, 1, 1]), valid: tinySplit(2, [1, 1, 1]), seed: opts.experimentSeed ?? 0 });
  const estim = new RandomSamplingEstimator(randomSamplingEstimatorSchema.parse({ seed: opts.seed ?? 1, epochs: 1 }));
  return { space, trainer, ctx, estim };
}

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[], n: number): number {
  const e = n / counts.length;
  return counts.reduce((s, o) => s + (o - e) ** 2 / e, 0);
}

describe('RandomSamplingEstimator: the sampled paths', () => {
  it('are uniform over each param and over the whole space (chi-square, p > 0.001), one per weight step', async () => {
    const n = 3000;
    const s = sampling({ steps: n });
    const r = await s.estim.run(s.ctx);
    const paths = s.trainer.paths;
    expect(paths).toHaveLength(n);
    // critical values of chi-square at p = 0.001 for k - 1 degrees of freedom
    const critical: Record<number, number> = { 1: 10.83, 2: 13.82, 4: 18.47, 29: 58.3 };
    for (const p of s.space.discrete()) {
      const counts = Array.from({ length: p.cardinality }, (_, k) => paths.filter((a) => a[p.name] === p.valueAt(k)).length);
      expect(Math.min(...counts), `${p.name}: ${counts}`).toBeGreaterThan(0);
      expect(chiSquare(counts, n), `${p.name}: ${counts}`).toBeLessThan(critical[p.cardinality - 1]);
    }
    // jointly: the params are drawn independently, every one of the 30 paths about n/30 times
    const joint = new Map<string, number>();
    for (const a of paths) joint.set(JSON.stringify(a), (joint.get(JSON.stringify(a)) ?? 0) + 1);
    expect(joint.size).toBe(30);
    expect(chiSquare([...joint.values()], n)).toBeLessThan(critical[29]);
    // the epoch record counts the distinct paths trained
    expect(r.metrics.paths).toBe(30);
    expect(s.ctx.store.read('metrics')[0]).toMatchObject({ estim: 'search', epoch: 0, paths: 30 });
  });

  it('are the same for the same seeds, and differ with the estimator seed or the experiment seed', async () => {
    const draw = async (seed: number, experimentSeed: number): Promise<string> => {
      const s = sampling({ steps: 40, seed, experimentSeed });
      await s.estim.run(s.ctx);
      return JSON.stringify(s.trainer.paths);
    };
    const a = await draw(1, 0);
    expect(await draw(1, 0)).toBe(a);
    expect(await draw(2, 0)).not.toBe(a);
    expect(await draw(1, 5)).not.toBe(a);
  });

  it('continue where the checkpoint left them on resume: the sampler state is in the epoch position', async () => {
    const saves: Array<{ position: Record<string, unknown>; rng: number; steps: number }> = [];
    const full = sampling({ steps: 10 });
    const est = new RandomSamplingEstimator(randomSamplingEstimatorSchema.parse({ epochs: 3 }));
    const recording: EstimCheckpoints = {
      resumed: () => undefined,
      save: (kind, position) => {
        expect(kind).toBe('epoch');
        saves.push({ position: JSON.parse(JSON.stringify(position)) as Record<string, unknown>, rng: full.ctx.rng.getState(), steps: full.trainer.paths.length });
      },
    };
    full.ctx.container.registerInstance(Tokens.Checkpoints, recording);
    await est.run(full.ctx);
    expect(full.trainer.paths).toHaveLength(30);
    expect(saves.map((x) => x.position.epoch)).toEqual([1, 2]);
    expect(saves[0].position).toHaveProperty('sampler');

    // a fresh build, resumed from the checkpoint after epoch 1 (the runner restores the estimator's stream)
    const at = saves[0];
    const resumed = sampling({ steps: 10 });
    let given = false;
    const resuming: EstimCheckpoints = {
      resumed: <T>() => (given ? undefined : ((given = true), at.position as T)),
      save: () => undefined,
    };
    resumed.ctx.container.registerInstance(Tokens.Checkpoints, resuming);
    resumed.ctx.rng.setState(at.rng);
    await est.run(resumed.ctx);
    expect(resumed.trainer.paths).toEqual(full.trainer.paths.slice(at.steps));
    expect(resumed.ctx.store.read('metrics').map((m) => m.epoch)).toEqual([1, 2]);
  });
});

/** conv stem -> one of three 3x3 conv candidates (chosen by the categorical param `op`) -> pool -> linear. */
class ChoiceNet extends Module {
  readonly stem: Conv2d;
  readonly candidates: Conv2d[];
  readonly head: Linear;
  readonly op: CategoricalParam;
  constructor(space: ArchSpace) {
    super();
    this.op = space.categorical({ name: 'op', choices: ['c0', 'c1', 'c2'] });
    this.stem = this.addModule('stem', new Conv2d(3, 4, { kernelSize: 1 }));
    this.candidates = [0, 1, 2].map((i) => this.addModule(`c${i}`, new Conv2d(4, 4, { kernelSize: 3 })));
    this.head = this.addModule('head', new Linear(4, 4));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const op = this.candidates[this.op.index];
    return this.head.call(new GlobalAvgPool().call(tf.relu(op.call(tf.relu(this.stem.call(x))))));
  }
}

describe('RandomSamplingEstimator: training', () => {
  it("changes only the sampled candidate's weights in a step (momentum and weight decay leave the others alone)", async () => {
    const space = new ArchSpace();
    const model = new ChoiceNet(space);
    const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ batch_size: 4, lr: 0.1, momentum: 0.9, weight_decay: 1e-3 }), space);
    const ctx = makeEstimContext({ model, space, trainer, train: tinySplit(48), valid: tinySplit(8, undefined, undefined, 1) });
    const base = tf.memory().numTensors;
    const weights = (): number[][] => model.candidates.map((c) => c.parameters().flatMap((w) => Array.from(w.dataSync())));
    const trained: number[] = [];
    const orig = trainer.trainStep.bind(trainer);
    trainer.trainStep = (m, b) => {
      const before = weights();
      const out = orig(m, b);
      const after = weights();
      const k = model.op.index;
      trained.push(k);
      before.forEach((w, i) => {
        if (i === k) expect(after[i], `step ${trained.length}: the sampled candidate c${i} was trained`).not.toEqual(w);
        else expect(after[i], `step ${trained.length}: candidate c${i} (not sampled) kept its weights`).toEqual(w);
      });
      return out;
    };
    const r = await new RandomSamplingEstimator(randomSamplingEstimatorSchema.parse({ epochs: 2, seed: 3 })).run(ctx);
    expect(trained).toHaveLength(24);
    // every candidate was sampled (and so trained), more than once
    for (const k of [0, 1, 2]) expect(trained.filter((t) => t === k).length, `c${k} in ${trained}`).toBeGreaterThan(1);
    expect(r.metrics.paths).toBe(3);
    expect(typeof r.metrics.acc).toBe('number');
    expect(r.best).toBeUndefined();
    trainer.reset();
    expect(tf.memory().numTensors).toBe(base);
    trainer.dispose();
    model.dispose();
    space.dispose();
  });

  it('has defaults and descriptions for every key, and takes the original name and args', () => {
    expect(randomSamplingEstimator.aliases).toContain('RandomSamplingEstim');
    expect(randomSamplingEstimatorSchema.parse({})).toEqual({ epochs: 1, seed: 1, valid_intv: 1, save_best: true, reset_trainer: true, criterion: null });
    for (const [k, v] of Object.entries(randomSamplingEstimatorSchema.shape)) expect(v.description, k).toBeTruthy();
    expect(() => randomSamplingEstimatorSchema.parse({ sample_subnet: true })).toThrow();
  });
});
