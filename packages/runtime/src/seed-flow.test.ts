// The VEGA flow: pipeline files step by step, a search config trained from its found
// architecture, error paths and -o in a seed-format file's own keys.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useDefaultFormats } from './formats.js';
import { isModnasError, definePlugin, Registry } from '@modnas/core';
import { prepareExperiment } from './experiment.js';
import { mergeDocs, readYamlFile, toTrainingConfig } from '@modnas/config';
import { seedPipelineSteps } from '@modnas/config-vega';
import type { JsonObject } from '@modnas/config';
import { stub } from '../../../test/fixtures.js';

beforeAll(() => useDefaultFormats());

const epochs = z.strictObject({ epochs: z.number().int().min(0).default(1) });

let registry: Registry;
beforeEach(() => {
  registry = new Registry();
  registry.register(
    definePlugin({
      meta: { name: '@test/all', version: '1.0.0' },
      components: [
        stub('backbone', 'CIFAR_MobileNetV2_GPU', z.strictObject({ n_classes: z.number().default(10) })),
        stub('mixed-op', 'WeightedSum', z.strictObject({ primitives: z.array(z.string()).default([]) }), { aliases: ['SoftmaxSumMixedOp'] }),
        stub('construct', 'DefaultMixedOpConstructor', z.looseObject({}), { archDescConstructor: 'DefaultSlotArchDescConstructor' }),
        stub('construct', 'MobileNetV2SearchConstructor', z.looseObject({}), { archDescConstructor: 'MobileNetV2ArchDescConstructor' }),
        stub('construct', 'MobileNetV2PredefinedConstructor'),
        stub('construct', 'MobileNetV2ElasticConstructor', z.strictObject({}), { archDescConstructor: 'MobileNetV2ArchDescConstructor' }),
        stub('construct', 'DefaultSlotArchDescConstructor', z.strictObject({ arch_desc: z.unknown().default(null) })),
        stub('construct', 'MobileNetV2ArchDescConstructor', z.strictObject({ arch_desc: z.unknown().default(null) })),
        stub('optim', 'DARTSOptim'),
        stub('estim', 'SuperNetEstimator', epochs, { aliases: ['SuperNetEstim'] }),
        stub('estim', 'ProgressiveShrinkingEstimator', epochs),
        stub('estim', 'DefaultEstimator', epochs, { aliases: ['DefaultEstim'] }),
        stub('trainer', 'DefaultTrainer', z.strictObject({ lr: z.number().positive().default(0.1), optimizer: z.string().default('sgd'), lr_scheduler: z.string().default('cosine'), lr_min: z.number().default(0), momentum: z.number().default(0.9), weight_decay: z.number().default(0), batch_size: z.number().int().positive().default(64) })),
        stub('dataset', 'MNIST'),
        stub('dataset', 'CIFAR10', z.strictObject({ path: z.string().default('') })),
        stub('exporter', 'DefaultSlotTraversalExporter', z.strictObject({}), { archDescConstructor: 'DefaultSlotArchDescConstructor' }),
      ],
    }),
  );
});

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'modnas-seed-flow-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    if (isModnasError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

// VEGA's darts.yml layout (nas, then fully_train referring to nas.trainer), trimmed.
const PIPELINE = `
general: { backend: pytorch }
pipeline: [nas, fully_train]
nas:
  pipe_step: { type: SearchPipeStep }
  dataset: { type: Cifar10, common: { data_path: /data/c10, batch_size: 64, train_portion: 0.5 } }
  search_algorithm: { type: ModNasAlgorithm, optim: { type: DARTSOptim } }
  search_space:
    type: SearchSpace
    modules: [custom]
    custom:
      type: ModNasArchSpace
      model: { type: CIFAR_MobileNetV2_GPU, args: { n_classes: 10 } }
      search: { mixed_op: { type: SoftmaxSumMixedOp, candidates: [MB3E3, MB3E6] } }
  trainer:
    type: Trainer
    callbacks: ModNasTrainerCallback
    modnas: { estim: { search: { type: SuperNetEstim, epochs: 1 } } }
    epochs: 1
    optimizer: { type: SGD, params: { lr: 0.025, momentum: 0.9 } }
    lr_scheduler: { type: CosineAnnealingLR, params: { T_max: 50.0, eta_min: 0.001 } }
fully_train:
  pipe_step: { type: TrainPipeStep, models_folder: '{local_base_path}/output/nas/' }
  trainer:
    ref: nas.trainer
    type: Trainer
    epochs: 4
    lr_scheduler: { type: CosineAnnealingLR, params: { T_max: 600.0 } }
  dataset: { type: Cifar10, common: { data_path: /data/c10, batch_size: 32, train_portion: 1 } }
`;

// VEGA's mbv2.yml: one TrainPipeStep whose network is under model.model_desc.
const MBV2 = `
pipeline: [fully_train]
fully_train:
  pipe_step: { type: TrainPipeStep }
  model:
    model_desc:
      modules: [custom]
      custom:
        type: ModNasArchSpace
        fully_train: True
        model: { type: CIFAR_MobileNetV2_GPU, args: { n_classes: 10 } }
        proc: augment
        augment: { construct: { predefined: MobileNetV2PredefinedConstructor } }
  trainer: { type: Trainer, epochs: 2, optimizer: { type: SGD, params: { lr: 0.025 } } }
`;

describe('VEGA pipeline files', () => {
  it('splits into steps: the train step refers to the search trainer without its estimators, and inherits the search space', () => {
    const steps = seedPipelineSteps(loadYaml(PIPELINE), 'p.yml');
    expect(steps.map((s) => [s.name, s.kind, s.from])).toEqual([
      ['nas', 'search', undefined],
      ['fully_train', 'train', 'nas'],
    ]);
    const ft = steps[1].doc;
    expect(ft.search_space).toEqual(steps[0].doc.search_space);
    expect(ft.trainer).toMatchObject({ optimizer: { type: 'SGD', params: { lr: 0.025 } }, epochs: 4, lr_scheduler: { params: { T_max: 600, eta_min: 0.001 } } });
    expect((ft.trainer as Record<string, unknown>).modnas).toBeUndefined();
  });

  it('a train step trains one DefaultEstimator for its trainer.epochs, with its own dataset', async () => {
    const file = tmpFile('p.yml', PIPELINE);
    const [, ft] = seedPipelineSteps(loadYaml(PIPELINE), file);
    const { raw } = loadConfigDoc(ft.doc, file, 'train', 'fully_train');
    expect(raw.estim).toEqual({ train: { type: 'DefaultEstimator', epochs: 4 } });
    expect(raw.trainer).toMatchObject({ type: 'DefaultTrainer', lr: 0.025, batch_size: 32 });
    expect(raw.data_provider).toEqual({ train_portion: 1 });
    expect(raw.optim).toBeUndefined();
  });

  it("model.model_desc of a TrainPipeStep builds the network with its augment constructors (VEGA's mbv2.yml ran into 'model: unknown section')", async () => {
    const p = await prepareExperiment([tmpFile('mbv2.yml', MBV2)], [], { registry, discover: false });
    const ids = Object.fromEntries([...p.plan.components].map(([k, v]) => [k, v.def.id]));
    expect(ids).toMatchObject({ model: 'CIFAR_MobileNetV2_GPU', 'construct.predefined': 'MobileNetV2PredefinedConstructor', 'estim.train': 'DefaultEstimator' });
    expect(p.plan.config.estim.train).toEqual({ type: 'DefaultEstimator', epochs: 2 });
    expect(p.ignored.join('\n')).toContain('fully_train.model.model_desc.custom.proc');
  });
});

describe('seed-format files speak their own keys', () => {
  const SEARCH = `
search_space:
  type: SearchSpace
  modules: [custom]
  custom:
    type: ModNasArchSpace
    model: { type: CIFAR_MobileNetV2_GPU }
    construct: { mixed_op: { type: WeightedSum, primitives: [MB3E3] } }
search_algorithm: { type: ModNasAlgorithm, optim: { type: DARTSOptim } }
trainer:
  type: Trainer
  modnas: { estim: { search: { type: SuperNetEstimator, epochs: 1 } } }
  optimizer: { type: SGD, params: { lr: 0.025 } }
`;

  it('error paths name the key as the file writes it, not the translated native path', async () => {
    const f = tmpFile('s.yml', SEARCH.replace('epochs: 1', 'epochs: -1').replace('lr: 0.025', 'lr: -2'));
    const e = await rejection(prepareExperiment([f], [], { registry, discover: false }));
    expect(e.message).toContain('trainer.modnas.estim.search.epochs: Too small');
    expect(e.message).toContain('trainer.optimizer.params.lr: Too small');
    expect(e.message).not.toMatch(/^\s+- estim\.search/m);
    // a pipeline step's keys carry the step name
    const p = tmpFile('p.yml', PIPELINE.replace('SuperNetEstim, epochs: 1', 'SuperNetEstim, epochs: -1'));
    const e2 = await rejection(prepareExperiment([p], [], { registry, discover: false }));
    expect(e2.message).toContain('nas.trainer.modnas.estim.search.epochs: Too small');
  });

  it('-o takes the file\'s own key paths as well as native ones', async () => {
    const f = tmpFile('s.yml', SEARCH);
    const own = await prepareExperiment([f], ['trainer.modnas.estim.search.epochs=3', 'trainer.optimizer.params.lr=0.5', 'search_space.custom.model.args.n_classes=4'], { registry, discover: false });
    expect(own.plan.config.estim.search).toMatchObject({ epochs: 3 });
    expect(own.plan.components.get('trainer')?.config).toMatchObject({ lr: 0.5 });
    expect(own.plan.components.get('model')?.config).toEqual({ n_classes: 4 });
    const nat = await prepareExperiment([f], ['estim.search.epochs=3', 'trainer.lr=0.5'], { registry, discover: false });
    expect(nat.plan.config.estim.search).toMatchObject({ epochs: 3 });
    expect(nat.plan.components.get('trainer')?.config).toMatchObject({ lr: 0.5 });
    // a bad value given with the file's key is reported with that key
    const e = await rejection(prepareExperiment([f], ['trainer.modnas.estim.search.epochs=-1'], { registry, discover: false }));
    expect(e.message).toContain('trainer.modnas.estim.search.epochs: Too small');
  });

  it('-o in a pipeline: <step>.<key> sets one step, <key> every step that has the section', () => {
    const raw = loadYaml(PIPELINE);
    const steps = seedPipelineSteps(raw, 'p.yml', ['nas.dataset.common.batch_size=8', 'trainer.epochs=7', 'trainer.modnas.estim.search.epochs=2']);
    const [nas, ft] = steps.map((s) => s.doc as Record<string, Record<string, Record<string, unknown>>>);
    expect(nas.dataset.common.batch_size).toBe(8);
    expect(ft.dataset.common.batch_size).toBe(32);
    expect([nas.trainer.epochs, ft.trainer.epochs]).toEqual([7, 7]);
    expect(nas.trainer.modnas).toEqual({ estim: { search: { type: 'SuperNetEstim', epochs: 2 } } });
    // the train step's estimators are not the search's
    expect(ft.trainer.modnas).toBeUndefined();
  });
});

describe('training a search config from its found architecture (modnas train <search config> --arch)', () => {
  it('picks the desc constructor that goes with the search space constructor and runs a plain estimator in place of the search ones', async () => {
    const raw = {
      name: 'quick',
      model: { type: 'CIFAR_MobileNetV2_GPU' },
      construct: { search: { type: 'MobileNetV2SearchConstructor', primitives: ['MB3E3'] } },
      optim: { type: 'DARTSOptim' },
      data_provider: { train_portion: 0.5 },
      estim: { warmup: { type: 'DefaultEstimator', epochs: 2 }, search: { type: 'SuperNetEstim', epochs: 3 } },
      export: { default: { type: 'DefaultSlotTraversalExporter' } },
    };
    const { config, notes } = await toTrainingConfig(raw, { archDesc: ['MB3E3'] }, registry);
    // the constructor wins over the exporter (both declare one)
    expect(config.desc_construct).toEqual({ arch_desc: { type: 'MobileNetV2ArchDescConstructor' } });
    expect(config.estim).toEqual({ train: { type: 'DefaultEstimator', epochs: 3 } });
    expect(config.optim).toBeUndefined();
    expect(config.data_provider).toEqual({ train_portion: 1 });
    expect(config.name).toBe('quick-train');
    expect(notes.join('\n')).toContain('in place of the search\'s estimators warmup (DefaultEstimator), search (SuperNetEstimator)');
  });

  it('maps the mixed-op shorthand to DefaultSlotArchDescConstructor, elastic constructors to MobileNetV2ArchDescConstructor, and keeps a named desc_construct', async () => {
    const base = { model: { type: 'CIFAR_MobileNetV2_GPU' }, estim: { s: { type: 'SuperNetEstimator' } } };
    const slot = await toTrainingConfig({ ...base, construct: { mixed_op: { type: 'SoftmaxSumMixedOp', candidates: ['MB3E3'] } } }, { archDesc: [] }, registry);
    expect(slot.config.desc_construct).toEqual({ arch_desc: { type: 'DefaultSlotArchDescConstructor' } });
    const elastic = await toTrainingConfig({ ...base, construct: { predefined: 'MobileNetV2PredefinedConstructor', elastic: 'MobileNetV2ElasticConstructor' }, estim: { ps: { type: 'ProgressiveShrinkingEstimator' } } }, { archDesc: [] }, registry);
    expect(elastic.config.desc_construct).toEqual({ arch_desc: { type: 'MobileNetV2ArchDescConstructor' } });
    const named = await toTrainingConfig({ ...base, construct: { elastic: 'MobileNetV2ElasticConstructor' }, desc_construct: { x: { type: 'DefaultSlotArchDescConstructor' } } }, { archDesc: [] }, registry);
    expect(named.config.desc_construct).toEqual({ x: { type: 'DefaultSlotArchDescConstructor' } });
  });

  it('leaves a config that only trains as it is, and overrides apply after (so -o estim.train.epochs=N works)', async () => {
    const train = { name: 't', model: { type: 'CIFAR_MobileNetV2_GPU' }, desc_construct: { arch_desc: { type: 'MobileNetV2ArchDescConstructor' } }, estim: { train: { type: 'DefaultEstim', epochs: 2 } } };
    const { config, notes } = await toTrainingConfig(train, { archDesc: ['MB3E3'] }, registry);
    expect(config).toEqual({ ...train, arch_desc: ['MB3E3'] });
    expect(notes).toEqual([]);
    const f = tmpFile('s.yaml', JSON.stringify({ model: { type: 'CIFAR_MobileNetV2_GPU' }, construct: [{ type: 'DefaultMixedOpConstructor' }], optim: { type: 'DARTSOptim' }, estim: { search: { type: 'SuperNetEstimator' } } }));
    const arch = tmpFile('arch.yaml', '- MB3E3\n');
    const p = await prepareExperiment([f], ['estim.train.epochs=5'], { registry, discover: false, train: { archDesc: arch } });
    expect(p.plan.config.estim).toEqual({ train: { type: 'DefaultEstimator', epochs: 5 } });
    expect(p.plan.components.get('desc_construct.arch_desc')?.def.id).toBe('DefaultSlotArchDescConstructor');
    expect(p.plan.config.arch_desc).toEqual(['MB3E3']);
  });
});

const loadYaml = (text: string) => readYamlFile(tmpFile('x.yml', text));

const loadConfigDoc = (doc: JsonObject, where: string, kind: 'search' | 'train', prefix: string) => mergeDocs([{ doc, where, kind, prefix }]);
