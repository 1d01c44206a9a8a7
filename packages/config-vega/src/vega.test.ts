import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, registerConfigFormat, validateExperiment, withDefaults } from '@modnas/config';
import { Registry, definePlugin } from '@modnas/core';
import { isSeedFormat, mapSeedFormat, vegaFormat } from './vega.js';
import { stub } from '../../../test/fixtures.js';

// Just the ids the seed's snippets name, so that their translation can be validated.
const registry = new Registry();
registry.register(
  definePlugin({
    meta: { name: '@test/seed', version: '1.0.0' },
    components: [
      stub('backbone', 'CIFAR_MobileNetV2_GPU'),
      stub('mixed-op', 'BinGate'),
      stub('primitive', 'MB3E3'),
      stub('primitive', 'MB3E6'),
      stub('construct', 'DefaultMixedOpConstructor', z.strictObject({ mixed_op: z.object({ type: z.string() }).catchall(z.unknown()), primitives: z.array(z.string()).default([]) }), {
        refs: (c: { mixed_op: { type: string }; primitives: string[] }) => [
          { kind: 'mixed-op', spec: c.mixed_op, path: 'mixed_op' },
          ...c.primitives.map((p, i) => ({ kind: 'primitive' as const, spec: p, path: `primitives.${i}` })),
        ],
      }),
      stub('optim', 'BinaryGateOptim', z.strictObject({ lr: z.number().positive().default(1e-3) })),
      stub('estim', 'SuperNetEstimator', z.strictObject({ epochs: z.number().int().positive().default(1) })),
      stub('estim', 'DefaultEstimator', z.strictObject({ epochs: z.number().int().positive().default(1) })),
      stub('trainer', 'DefaultTrainer', z.strictObject({ lr: z.number().default(0.1), optimizer: z.string().default('sgd'), lr_scheduler: z.string().default('cosine'), momentum: z.number().default(0.9) })),
      stub('exporter', 'DefaultSlotTraversalExporter'),
      stub('dataset', 'MNIST'),
    ],
  }),
);

beforeAll(() => registerConfigFormat(vegaFormat));

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'modnas-vega-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

// The seed's snippets, exactly as its README writes them.
const SEED_SEARCH_SPACE = `search_space:
  type: SearchSpace
  modules: ['custom']
  custom:
    type: ModNasArchSpace
    model:
      type: CIFAR_MobileNetV2_GPU
    construct:
      mixed_op:
        type: BinGate
        primitives:
          - MB3E3
          - MB3E6
`;
const SEED_ALGORITHM = `search_algorithm:
  type: ModNasAlgorithm
  optim:
    type: BinaryGateOptim
    # args:
`;
const SEED_TRAINER_CHAIN = `trainer:
  type: Trainer
  callbacks: ModNasTrainerCallback
  modnas:
    estim:
      warmup:
        type: DefaultEstimator
        epochs: 20
      search:
        type: SuperNetEstimator
        epochs: 100
`;

describe('seed format', () => {
  it('detects the VEGA-style layout', () => {
    expect(isSeedFormat({ search_space: {} })).toBe(true);
    expect(isSeedFormat({ trainer: { type: 'Trainer', modnas: {} } })).toBe(true);
    expect(isSeedFormat({ model: { type: 'X' }, trainer: { type: 'DefaultTrainer' } })).toBe(false);
  });

  it('maps the seed snippets, merged, onto the native form and validates them', async () => {
    const files = [tmpFile('ss.yaml', SEED_SEARCH_SPACE), tmpFile('algo.yaml', SEED_ALGORITHM), tmpFile('tr.yaml', SEED_TRAINER_CHAIN)];
    const { raw, defaulted } = loadConfig(files);
    expect(raw.model).toEqual({ type: 'CIFAR_MobileNetV2_GPU' });
    expect(raw.optim).toEqual({ type: 'BinaryGateOptim' });
    expect(Object.keys(raw.estim as object)).toEqual(['warmup', 'search']);
    expect(defaulted).toEqual([]);
    const plan = await validateExperiment(withDefaults({ ...raw, optim: { type: 'BinaryGateOptim', args: null } }), { registry });
    // the shorthand "construct: mixed_op: type: BinGate" means DefaultMixedOpConstructor with BinGate
    const c = plan.components.get('construct.mixed_op');
    expect(c?.def.id).toBe('DefaultMixedOpConstructor');
    expect(c?.config).toEqual({ mixed_op: { type: 'BinGate' }, primitives: ['MB3E3', 'MB3E6'] });
    expect(plan.components.get('construct.mixed_op.primitives.1')?.def.id).toBe('MB3E6');
    expect(plan.components.get('estim.warmup')?.config).toEqual({ epochs: 20 });
  });

  it('fills what a lone seed snippet leaves out, and says so', () => {
    const { raw, defaulted } = loadConfig([tmpFile('algo.yaml', SEED_ALGORITHM)]);
    expect(raw.model).toEqual({ type: 'CIFAR_MobileNetV2' });
    expect(raw.estim).toEqual({ search: { type: 'SuperNetEstimator', epochs: 1 } });
    expect(defaulted.join('\n')).toContain('search_space.custom.model = CIFAR_MobileNetV2');
    const { raw: ws } = loadConfig([tmpFile('ws.yaml', SEED_SEARCH_SPACE.replace('BinGate', 'WeightedSum'))]);
    expect(ws.optim).toEqual({ type: 'DARTSOptim' });
  });

  it('maps VEGA trainer optimizer and scheduler settings to trainer options', () => {
    const { config } = mapSeedFormat(
      { trainer: { type: 'Trainer', epochs: 5, lazy_built: true, valid_interval: 0, optimizer: { type: 'SGD', params: { lr: 0.05, momentum: 0.9 } }, lr_scheduler: { type: 'CosineAnnealingLR', params: { T_max: 5 } }, modnas: { estim: {} } } },
      'x.yaml',
    );
    // beside type, so a native -o trainer.lr=... sets the same key
    expect(config.trainer).toEqual({ type: 'DefaultTrainer', optimizer: 'sgd', lr: 0.05, momentum: 0.9, lr_scheduler: 'cosine' });
  });

  it("maps every torch optimizer and LR scheduler by the original format's table, with PyTorch's defaults where ours would change the method", () => {
    const trainer = (optimizer: unknown, lr_scheduler?: unknown) =>
      mapSeedFormat({ trainer: { type: 'Trainer', optimizer, ...(lr_scheduler ? { lr_scheduler } : {}), modnas: { estim: {} } } } as never, 'x.yaml');
    const m = trainer({ type: 'AdamW', params: { lr: 0.001, betas: [0.9, 0.98] } }, { type: 'MultiStepLR', params: { milestones: [75, 150], gamma: 0.5 } });
    expect(m.config.trainer).toEqual({ type: 'DefaultTrainer', optimizer: 'adamw', lr: 0.001, betas: [0.9, 0.98], weight_decay: 0.01, lr_scheduler: 'multistep', milestones: [75, 150], gamma: 0.5 });
    expect(m.origins).toContainEqual(['trainer.milestones', 'trainer.lr_scheduler.params.milestones']);
    expect(trainer({ type: 'RMSprop', params: { lr: 0.01 } }, { type: 'CosineAnnealingWarmRestarts', params: { T_0: 10, eta_min: 0 } }).config.trainer).toEqual({
      type: 'DefaultTrainer', optimizer: 'rmsprop', lr: 0.01, momentum: 0, lr_scheduler: 'cosine_restarts', t_0: 10, lr_min: 0,
    });
    // a cosine's T_max is the epochs of each estimator here, as the seed format has always been read: said, not taken
    const cos = trainer({ type: 'SGD', params: { lr: 0.1 } }, { type: 'CosineAnnealingLR', params: { T_max: 50, eta_min: 0.001 } });
    expect(cos.config.trainer).toEqual({ type: 'DefaultTrainer', optimizer: 'sgd', lr: 0.1, lr_scheduler: 'cosine', lr_min: 0.001 });
    expect(cos.ignored.join('\n')).toContain('trainer.lr_scheduler.params.T_max');
    try {
      trainer({ type: 'LBFGS' }, { type: 'StepLR', params: { step: 3 } });
      throw new Error('not rejected');
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('trainer.optimizer.type: "LBFGS" is not available (LBFGS re-evaluates the loss');
      expect(msg).toContain('trainer.lr_scheduler.params.step: StepLR takes no step here (it takes step_size, gamma)');
    }
  });

  it('reports every unknown seed key at once with its path', () => {
    try {
      mapSeedFormat({ search_space: { type: 'SearchSpace', modules: ['custom'], custom: { type: 'Nope', modle: {} } }, search_algorithm: { optimm: {} } }, 'x.yaml');
      throw new Error('not rejected');
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('3 problem(s)');
      expect(msg).toContain('search_space.custom.type: expected ModNasArchSpace, got "Nope"');
      expect(msg).toContain('search_space.custom.modle: unknown key');
      expect(msg).toContain('search_algorithm.optimm: unknown key');
    }
  });
});
