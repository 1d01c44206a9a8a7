// HPTuneEstim end to end through the runtime: a tuning experiment (no network of its own) whose
// every candidate runs a tiny training experiment (Synthetic 4x4 images, a linear classifier, one
// epoch of DefaultTrainer) in <experiment>/trials/<name>_<index>.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@modnas/config';
import type { TrialRunner, TrialSpec, tf as TF } from '@modnas/core';
import { ArchSpace, Module, ModnasError, Registry, Tokens, definePlugin, isModnasError, tf, z } from '@modnas/core';
import { TinySgdTrainer, makeBuildContext, makeEstimContext, tinyRandomOptim } from '@modnas/testkit';
import { Linear } from '@modnas/nn';
import { prepareExperiment, runExperiment } from '@modnas/runtime';
import synthetic from '@modnas/dataset-synthetic';
import trainerDefault from '@modnas/trainer-default';
import estimDefault from '@modnas/estim-default';
import optimGrid from '@modnas/optim-grid';
import exportParams from '@modnas/export-params';
import { hpTuneEstim } from './hp-tune-estim.js';
import plugin from './index.js';

class TinyLinear extends Module {
  readonly fc: Linear;
  constructor(inFeatures: number, classes: number) {
    super();
    this.fc = this.addModule('fc', new Linear(inFeatures, classes));
  }
  forward(x: TF.Tensor): TF.Tensor {
    return tf.tidy(() => this.fc.forward(tf.reshape(x, [x.shape[0], -1])));
  }
}

function registry(): Registry {
  const r = new Registry();
  for (const p of [synthetic, trainerDefault, estimDefault, optimGrid, exportParams, plugin]) r.register(p);
  r.register(
    definePlugin({
      meta: { name: '@test/hptune', version: '1.0.0' },
      components: [
        {
          kind: 'backbone',
          id: 'TinyLinear',
          description: 'a linear classifier on the flattened image',
          schema: z.strictObject({}),
          create: (_c, _ctx, input) => new TinyLinear(input!.inputShape!.reduce((a: number, b: number) => a * b, 1), input!.numClasses),
        },
      ],
    }),
  );
  return r;
}

const TRIAL = {
  name: 'trial',
  seed: 0,
  data: { type: 'Synthetic', size: 32, test_size: 16, image_size: 4, channels: 1, num_classes: 2, noise: 1 },
  data_provider: { train_portion: 1 },
  model: { type: 'TinyLinear' },
  trainer: { type: 'DefaultTrainer', lr: 0.1, batch_size: 8 },
  estim: { train: { type: 'DefaultEstimator', epochs: 1 } },
  export: {},
};

const CPU = { backend: 'cpu', source: 'builtin', skipped: [] } as const;

async function tune(dir: string, estim: Record<string, unknown>, params: Record<string, unknown>, optim = true) {
  const r = registry();
  const cfg = {
    name: 'tune',
    output_dir: 'exp',
    seed: 0,
    construct: { hparams: { type: 'DefaultHParamSpaceConstructor', params } },
    ...(optim ? { optim: { type: 'GridSearchOptim' } } : {}),
    estim: { hptune: { type: 'HPTuneEstim', ...estim } },
    export: { default: { type: 'DefaultParamsExporter' } },
  };
  const { plan } = await prepareExperiment(cfg as JsonObject, [], { registry: r, discover: false, cwd: dir });
  return runExperiment(plan, { registry: r, cwd: dir, backend: { ...CPU, skipped: [] } });
}

const readJson = (f: string): Record<string, unknown> => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
const readLines = (f: string): Array<Record<string, unknown>> =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('HPTuneEstim', () => {
  it('runs a trial experiment per candidate inside the experiment folder, scores each by its best score and reports the best', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-hptune-'));
    writeFileSync(join(dir, 'trial.yaml'), JSON.stringify(TRIAL));
    const s = await tune(dir, { trial_config: 'trial.yaml', trial_args: { name: 'lr' } }, { 'trainer.lr': [0.001, 0.05, 0.5], 'trainer.momentum': [[0, 0.9]] });
    const exp = join(dir, 'exp', 'tune');
    expect(s.outputDir).toBe(exp);
    const est = s.estims.hptune;
    // the grid has 3 points (the numeric param is drawn per trial): 3 trials, then the optimizer is done
    expect(est.metrics.trials).toBe(3);
    const cands = readLines(join(exp, 'logs', 'candidates.jsonl')).filter((c) => c.estim === 'hptune');
    expect(cands).toHaveLength(3);
    const lrs: number[] = [];
    const trainLoss: number[] = [];
    cands.forEach((c, i) => {
      const arch = c.arch as Record<string, number>;
      const trialDir = join(exp, 'trials', `lr_${i + 1}`);
      // the trial ran in its own folder under the experiment's, on the experiment's engine
      const ts = readJson(join(trialDir, 'outputs', 'summary.json')) as { outputDir: string; backend: { backend: string }; estims: { train: { metrics: Record<string, number> } } };
      expect(ts.outputDir).toBe(trialDir);
      expect(ts.backend.backend).toBe('cpu');
      // with the candidate's hyperparameters applied to the trial config
      const tc = readFileSync(join(trialDir, 'outputs', 'config.yaml'), 'utf8');
      expect(tc).toMatch(new RegExp(`\\blr: ${arch['trainer.lr']}\\n`));
      expect(tc).toMatch(new RegExp(`\\bmomentum: ${arch['trainer.momentum']}\\n`));
      expect(arch['trainer.momentum']).toBeGreaterThanOrEqual(0);
      expect(arch['trainer.momentum']).toBeLessThanOrEqual(0.9);
      // the candidate's score is the trial's best score (a training estimator's: its valid acc)
      expect(c.score).toBe(ts.estims.train.metrics.acc);
      expect(c.metrics).toEqual(ts.estims.train.metrics);
      lrs.push(arch['trainer.lr']);
      trainLoss.push(ts.estims.train.metrics.train_loss);
    });
    expect([...lrs].sort((a, b) => a - b)).toEqual([0.001, 0.05, 0.5]);
    // the learning rate reached the trainers: the trials trained differently
    expect(new Set(trainLoss).size).toBe(3);
    // the best is the first candidate with the highest score
    const scores = cands.map((c) => c.score as number);
    expect(new Set(scores).size).toBeGreaterThan(1);
    const top = scores.indexOf(Math.max(...scores));
    expect(est.best?.score).toBe(scores[top]);
    expect(est.best?.arch).toEqual(cands[top].arch);
    expect(est.metrics.best_score).toBe(scores[top]);
    // and written out, as the space's values (DefaultParamsExporter)
    expect(est.outputs).toEqual([join(exp, 'outputs', 'arch_hptune_best.yaml')]);
    const exported = readFileSync(est.outputs[0], 'utf8');
    for (const [k, v] of Object.entries(cands[top].arch as Record<string, number>)) expect(exported).toContain(`${k}: ${v}\n`);
    expect(readFileSync(join(exp, 'logs', 'run.log'), 'utf8')).toContain('hptune: trial lr_1 trainer.lr=');
  }, 60_000);

  it('takes the trial config inline; without a categorical param it draws the numeric ones itself for epochs rounds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-hptune-'));
    const s = await tune(dir, { trial_config: { ...TRIAL, estim: { train: { type: 'DefaultEstimator', epochs: 0 } } }, epochs: 2 }, { 'trainer.weight_decay': [[0, 0.01]] }, false);
    const exp = join(dir, 'exp', 'tune');
    expect(s.estims.hptune.metrics.trials).toBe(2);
    const wd = readLines(join(exp, 'logs', 'candidates.jsonl')).map((c) => (c.arch as Record<string, number>)['trainer.weight_decay']);
    expect(wd).toHaveLength(2);
    expect(wd[0]).not.toBe(wd[1]);
    for (const w of wd) expect(w >= 0 && w <= 0.01).toBe(true);
    expect(existsSync(join(exp, 'trials', 'trial_1', 'outputs', 'summary.json'))).toBe(true);
    expect(existsSync(join(exp, 'trials', 'trial_2', 'outputs', 'summary.json'))).toBe(true);
  }, 30_000);

  it('refuses a trial config outside the experiment config folder (a relative path out, an absolute path, a link out) with a coded error', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'modnas-hptune-outside-'));
    writeFileSync(join(outside, 'trial.yaml'), JSON.stringify(TRIAL));
    const dir = join(outside, 'cfg');
    mkdirSync(dir);
    symlinkSync(join(outside, 'trial.yaml'), join(dir, 'link.yaml'));
    for (const path of ['../trial.yaml', join(outside, 'trial.yaml'), 'link.yaml']) {
      const err = await tune(dir, { trial_config: path }, { 'trainer.lr': [0.1] }).catch((e: unknown) => e);
      expect(isModnasError(err) && err.code, path).toBe('MODNAS_E_TRIAL_CONFIG');
      expect(existsSync(join(dir, 'exp', 'tune', 'trials', 'trial_1', 'outputs', 'config.yaml'))).toBe(false);
    }
  }, 30_000);
});

describe('routine hptune of the original format', () => {
  it('runs a config in the original format: hp_space becomes the space, HPTuneEstim tunes it (its trial config beside it, not in the working folder)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-hptune-'));
    const cfgDir = join(dir, 'cfg');
    mkdirSync(cfgDir);
    writeFileSync(join(cfgDir, 'trial.yaml'), JSON.stringify(TRIAL));
    const original = {
      name: 'orig',
      routine: 'hptune',
      expman: { root_dir: 'exp' },
      hp_space: { 'trainer.lr': [0.01, 0.5] },
      optim: { type: 'GridSearchOptim' },
      estim: { tune: { type: 'HPTuneEstim', epochs: -1, args: { trial_config: 'trial.yaml' } } },
    };
    writeFileSync(join(cfgDir, 'tune.yaml'), JSON.stringify(original));
    const r = registry();
    // as `modnas run cfg/tune.yaml` does: the prepared experiment names its config folder
    const { plan, configDir } = await prepareExperiment([join(cfgDir, 'tune.yaml')], [], { registry: r, discover: false, cwd: dir });
    expect(configDir).toBe(cfgDir);
    const s = await runExperiment(plan, { registry: r, cwd: dir, configDir, backend: { ...CPU, skipped: [] } });
    expect(s.estims.tune.metrics.trials).toBe(2);
    const lrs = [1, 2].map((i) => (readJson(join(dir, 'exp', 'orig', 'trials', `trial_${i}`, 'outputs', 'summary.json')) as { estims: { train: { metrics: { lr: number } } } }).estims.train.metrics.lr);
    // the lr the trainer trained with (its schedule starts there; float noise aside, the one set)
    lrs.sort((a, b) => a - b);
    expect(lrs[0]).toBeCloseTo(0.01, 12);
    expect(lrs[1]).toBeCloseTo(0.5, 12);
    // the best hyperparameters written out (the translation's default exporter)
    expect(readFileSync(join(dir, 'exp', 'orig', 'outputs', 'arch_tune_best.yaml'), 'utf8')).toContain(`trainer.lr: ${String(s.estims.tune.best?.arch['trainer.lr'])}`);
  }, 30_000);
});

describe('HPTuneEstim with a stand-in trial runner', () => {
  async function runWith(run: TrialRunner['run'], config: Record<string, unknown>, choices: number[] = [1, 2, 3, 4, 5, 6]) {
    const space = new ArchSpace();
    space.categorical({ name: 'x', choices });
    const ctx = makeEstimContext({ model: new TinyLinear(1, 2), space, trainer: new TinySgdTrainer(), optim: tinyRandomOptim(space) });
    const names: string[] = [];
    const runner: TrialRunner = { run: (spec) => (names.push(spec.name), run(spec)) };
    ctx.container.registerInstance(Tokens.TrialRunner, runner);
    const estim = await hpTuneEstim.create(hpTuneEstim.schema.parse({ trial_config: 'trial.yaml', ...config }), makeBuildContext({ space }), undefined);
    try {
      return { r: await estim.run(ctx), names, ctx };
    } finally {
      ctx.model.dispose();
      space.dispose();
    }
  }
  const score = (spec: TrialSpec) => Promise.resolve({ outputDir: '', bestScore: 10 - Number(spec.overrides?.x), metrics: { acc: Number(spec.overrides?.x) / 10 } });

  it('stops after early_stopping rounds without a better score; batch_size candidates per round', async () => {
    // every trial scores 1: round 0 sets the best, no later round beats it
    const { r, names } = await runWith(() => Promise.resolve({ outputDir: '', bestScore: 1, metrics: {} }), { epochs: 20, batch_size: 2, early_stopping: 2 });
    // round 0 sets the best; rounds 1 and 2 do not improve: stop after round 2 -> 3 rounds of 2
    expect(names).toEqual(['trial_1', 'trial_2', 'trial_3', 'trial_4', 'trial_5', 'trial_6']);
    expect(r.metrics.trials).toBe(6);
  });

  it('metric: scores a trial by a metric of its last estimator instead of its best score', async () => {
    const { r } = await runWith(score, { epochs: 6, metric: 'acc' });
    const best = r.best!;
    expect(best.score).toBe(Number(best.arch.x) / 10);
    const { r: r2 } = await runWith(score, { epochs: 6 });
    expect(r2.best!.score).toBe(10 - Number(r2.best!.arch.x));
  });

  it('a failing trial is recorded as failed and the search goes on; all failing is a coded error; a config error stops it at once', async () => {
    let n = 0;
    const flaky: TrialRunner['run'] = (spec) => (++n === 2 ? Promise.reject(new Error('boom')) : score(spec));
    const { r, ctx } = await runWith(flaky, { epochs: 3 });
    const statuses = ctx.store.read('candidates').map((c) => c.status);
    expect(statuses).toEqual(['done', 'failed', 'done']);
    expect(r.metrics.trials).toBe(3);
    const all = await runWith(() => Promise.reject(new Error('boom')), { epochs: 2 }).catch((e: unknown) => e);
    expect(isModnasError(all) && all.code).toBe('MODNAS_E_HPTUNE_ALL_FAILED');
    let calls = 0;
    const refused = await runWith(() => (calls++, Promise.reject(new ModnasError('MODNAS_E_TRIAL_CONFIG', 'outside'))), { epochs: 3 }).catch((e: unknown) => e);
    expect(isModnasError(refused) && refused.code).toBe('MODNAS_E_TRIAL_CONFIG');
    expect(calls).toBe(1);
  });
});
