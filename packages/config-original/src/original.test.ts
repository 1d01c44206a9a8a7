import { describe, expect, it } from 'vitest';
import { isModnasError } from '@modnas/core';
import { isOriginalFormat, mapOriginalFormat, originalFormat } from './original.js';

const CANDS = ['MB3E3', 'MB3E6', 'MB5E3', 'MB5E6', 'MB7E3', 'MB7E6'];
/** The original README's search-space snippet, as written there. */
const README_SPACE = { model: { type: 'CIFAR_MobileNetV2_GPU' }, mixed_op: { type: 'BinaryGateMixedOp', candidates: CANDS } };

function refused(doc: Record<string, unknown>): string {
  try {
    mapOriginalFormat(doc as never, 'test.yaml');
  } catch (e) {
    expect(isModnasError(e) && e.code).toBe('MODNAS_E_CONFIG_ORIGINAL');
    return (e as Error).message;
  }
  throw new Error('not refused');
}

describe('the original ModularNAS config format', () => {
  it("is detected by the original's own keys, never for a native config", () => {
    expect(isOriginalFormat(README_SPACE)).toBe(true);
    expect(isOriginalFormat({ routine: 'search', search: {} })).toBe(true);
    expect(isOriginalFormat({ trainer: { default: { type: 'DefaultTrainer' } } })).toBe(true);
    expect(isOriginalFormat({ estim: [{ type: 'DefaultEstim' }] })).toBe(true);
    expect(isOriginalFormat({ data_provider: { type: 'DefaultDataProvider', args: {} } })).toBe(true);
    // native: one trainer with its type, a construct chain, data_provider's own keys
    expect(isOriginalFormat({ model: { type: 'MobileNetV2' }, construct: { search: { type: 'MobileNetV2SearchConstructor' } }, trainer: { type: 'DefaultTrainer', lr: 0.1 }, data_provider: { train_portion: 0.5 }, estim: { s: { type: 'SuperNetEstimator' } } })).toBe(false);
  });

  it("puts the top-level mixed_op first in the construct chain, as the original's DefaultMixedOpConstructor, and merges construct entries after it", () => {
    const m = mapOriginalFormat({ ...README_SPACE, mixed_op: { ...README_SPACE.mixed_op, args: { n_samples: 2 } }, construct: { extra: { type: 'DefaultOpConstructor', args: { op: 'IDT' } } } }, 'a.yaml');
    expect(m.config.model).toEqual({ type: 'CIFAR_MobileNetV2_GPU' });
    expect(m.config.construct).toEqual({
      mixed_op: { type: 'DefaultMixedOpConstructor', mixed_op: { type: 'BinaryGateMixedOp', args: { n_samples: 2 } }, primitives: CANDS },
      extra: { type: 'DefaultOpConstructor', args: { op: 'IDT' } },
    });
    expect(Object.keys(m.config.construct as object)).toEqual(['mixed_op', 'extra']);
    // errors inside name the file's own key
    expect(m.origins).toContainEqual(['construct.mixed_op.primitives', 'mixed_op.candidates']);
    // a construct entry named mixed_op merges into the one from the top-level mixed_op
    const merged = mapOriginalFormat({ ...README_SPACE, construct: { mixed_op: { type: 'DefaultMixedOpConstructor', args: { candidates: ['MB3E3'] } } } }, 'a.yaml');
    expect(merged.config.construct).toEqual({ mixed_op: { type: 'DefaultMixedOpConstructor', mixed_op: { type: 'BinaryGateMixedOp' }, primitives: CANDS, args: { candidates: ['MB3E3'] } } });
  });

  it('applies the routine section over the config, leaves the other routines out, and says so', () => {
    const doc = { ...README_SPACE, routine: 'augment', search: { estim: { search: { type: 'SuperNetEstim', epochs: 100 } } }, augment: { estim: { train: { type: 'DefaultEstim', epochs: 600 } }, mixed_op: { type: 'IndexMixedOp' } } };
    const m = mapOriginalFormat(doc, 'a.yaml');
    expect(m.config.estim).toEqual({ train: { type: 'DefaultEstim', epochs: 600 } });
    expect((m.config.construct as Record<string, { mixed_op: unknown }>).mixed_op.mixed_op).toEqual({ type: 'IndexMixedOp' });
    expect(m.ignored.join('\n')).toContain('routine augment: its section applied');
    expect(m.ignored.join('\n')).toContain('search (the section of routine search');
    // no routine: both sections are left out
    const { routine: _r, ...noRoutine } = doc;
    expect(mapOriginalFormat(noRoutine, 'a.yaml').config.estim).toBeUndefined();
    expect(refused({ routine: 'pipeline' })).toContain('routine: pipeline is not available yet');
    expect(refused({ routine: 'sideways' })).toContain('routine: expected one of default, search, augment');
  });

  it('builds the network from a top-level arch_desc with its desc constructor, as the original adds it', () => {
    const m = mapOriginalFormat({ ...README_SPACE, arch_desc: '/x/arch_search_best.yaml' }, 'a.yaml');
    expect(m.config.arch_desc).toBe('/x/arch_search_best.yaml');
    expect(m.config.desc_construct).toEqual({ arch_desc: { type: 'DefaultSlotArchDescConstructor' } });
    expect(m.config.construct).toBeUndefined();
    expect(m.ignored.join('\n')).toContain('construct (mixed_op): the network is built from arch_desc');
    // the file's own arch_desc constructor is used instead
    const own = mapOriginalFormat({ model: { type: 'M' }, arch_desc: ['a'], construct: { arch_desc: { type: 'DefaultRecursiveArchDescConstructor', args: { fn: 'x' } } } }, 'a.yaml');
    expect(own.config.desc_construct).toEqual({ arch_desc: { type: 'DefaultRecursiveArchDescConstructor', fn: 'x' } });
  });

  it('maps named trainers, estimator lists and the data keys onto the native ones', () => {
    const m = mapOriginalFormat(
      {
        ...README_SPACE,
        estim: [
          { name: 'warmup', type: 'DefaultEstim', epochs: 2, trainer: 'main' },
          { type: 'SuperNetEstim', epochs: 3, trainer: 'main' },
        ],
        trainer: {
          main: { type: 'DefaultTrainer', args: { optimizer: { type: 'SGD', args: { lr: 0.05, momentum: 0.8, nesterov: true } }, lr_scheduler: { type: 'CosineAnnealingLR', args: { eta_min: 0.001 } }, criterion: { type: 'CrossEntropyLabelSmoothingLoss', args: { eta: 0.2 } }, w_grad_clip: 5 } },
          spare: { type: 'DefaultTrainer' },
        },
        data: { type: 'ImageClsData', args: { dataset: 'mnist', root: './data' } },
        data_loader: { type: 'ImageClsDataLoader', args: { trn_batch_size: 16, val_batch_size: 64, train_size: 512, valid_size: 128, workers: 2 } },
        expman: { root_dir: 'runs' },
        ops: { ops_order: 'bn_act_weight' },
        device: { device: 'cuda' },
      },
      'a.yaml',
    );
    expect(m.config.estim).toEqual({ warmup: { type: 'DefaultEstim', epochs: 2 }, 1: { type: 'SuperNetEstim', epochs: 3 } });
    expect(m.config.trainer).toEqual({ type: 'DefaultTrainer', optimizer: 'sgd', lr: 0.05, momentum: 0.8, nesterov: true, lr_scheduler: 'cosine', lr_min: 0.001, label_smoothing: 0.2, grad_clip: 5, batch_size: 16 });
    expect(m.config.data).toEqual({ type: 'MNIST' });
    expect(m.config.data_provider).toEqual({ train_size: 512, valid_size: 128 });
    expect(m.config.output_dir).toBe('runs');
    const said = m.ignored.join('\n');
    for (const k of ['ops (', 'device (', 'trainer.spare', 'data.args.root', 'data_loader.args.workers', 'data_loader.args.val_batch_size']) expect(said).toContain(k);
    expect(m.origins).toContainEqual(['trainer.lr', 'trainer.main.args.optimizer.args.lr']);
  });

  it('refuses what it cannot do, every problem with the key of the file', () => {
    const msg = refused({
      ...README_SPACE,
      chkpt: 'model.pt',
      trainer: { a: { type: 'DefaultTrainer', args: { optimizer: { type: 'LBFGS' } } } },
      estim: { s: { type: 'SuperNetEstim', chkpt: 'x.pt' } },
      frobnicate: 1,
    });
    expect(msg).toContain('chkpt: a PyTorch checkpoint cannot be loaded here');
    expect(msg).toContain('trainer.a.args.optimizer: "LBFGS" is not available (LBFGS re-evaluates the loss through a closure several times per step); the optimizers here: SGD, Adam, AdamW, RMSprop');
    expect(msg).toContain('estim.s.chkpt');
    expect(msg).toContain('frobnicate: unknown key');
    expect(refused({ ...README_SPACE, trainer: { a: { type: 'DefaultTrainer' }, b: { type: 'DefaultTrainer' } } })).toContain('one trainer serves every estimator here');
  });

  it("carries writer.enabled over (the original's default is off, ours on: only an explicit value counts) and says what else it leaves out", () => {
    const off = mapOriginalFormat({ ...README_SPACE, writer: { enabled: false, flush_secs: 30 } }, 'a.yaml');
    expect(off.config.writer).toEqual({ enabled: false });
    expect(off.origins).toContainEqual(['writer.enabled', 'writer.enabled']);
    expect(off.ignored.join('\n')).toContain('writer.flush_secs (a SummaryWriter option');
    expect(mapOriginalFormat({ ...README_SPACE, writer: { enabled: true } }, 'a.yaml').config.writer).toEqual({ enabled: true });
    // absent (or empty): the native default, enabled
    expect(mapOriginalFormat({ ...README_SPACE }, 'a.yaml').config).not.toHaveProperty('writer');
    expect(mapOriginalFormat({ ...README_SPACE, writer: {} }, 'a.yaml').config).not.toHaveProperty('writer');
    // both formats have it: a native config (every outputs/config.yaml) is not taken for the original's
    expect(isOriginalFormat({ name: 'x', writer: { enabled: true }, checkpoint: { epochs: 1 } })).toBe(false);
    expect(refused({ ...README_SPACE, writer: 'yes' })).toContain('writer: expected { enabled: true | false }, got "yes"');
  });

  it("maps every torch.optim optimizer and LR scheduler it has by name, as the original's registry matches names, with the args renamed", () => {
    const trainer = (optimizer: unknown, lr_scheduler?: unknown, rest: Record<string, unknown> = {}) =>
      mapOriginalFormat({ ...README_SPACE, trainer: { default: { type: 'DefaultTrainer', args: { optimizer, ...(lr_scheduler ? { lr_scheduler } : {}), ...rest } } } } as never, 'a.yaml');
    const opt = (type: string, args: Record<string, unknown> = {}) => trainer({ type, args }).config.trainer;
    expect(opt('RMSprop', { lr: 0.01, alpha: 0.9, eps: 1e-6, momentum: 0.5, centered: true, weight_decay: 0 })).toEqual({ type: 'DefaultTrainer', optimizer: 'rmsprop', lr: 0.01, alpha: 0.9, eps: 1e-6, momentum: 0.5, centered: true, weight_decay: 0 });
    expect(opt('adagrad', { lr_decay: 0.1, initial_accumulator_value: 0.2 })).toMatchObject({ optimizer: 'adagrad', lr_decay: 0.1, initial_accumulator_value: 0.2 });
    expect(opt('AdaDelta', { rho: 0.8, lr: 0.5 })).toMatchObject({ optimizer: 'adadelta', rho: 0.8, lr: 0.5 });
    expect(opt('Adamax', { betas: [0.9, 0.99] })).toMatchObject({ optimizer: 'adamax', betas: [0.9, 0.99] });
    expect(opt('N_Adam', { momentum_decay: 0.01 })).toMatchObject({ optimizer: 'nadam', momentum_decay: 0.01 });
    expect(opt('radam')).toMatchObject({ optimizer: 'radam' });
    expect(opt('Adam', { amsgrad: true })).toMatchObject({ optimizer: 'adam', amsgrad: true });
    expect(opt('Rprop', { etas: [0.4, 1.1], step_sizes: [1e-5, 1] })).toMatchObject({ optimizer: 'rprop', etas: [0.4, 1.1], step_sizes: [1e-5, 1] });
    const asgd = trainer({ type: 'ASGD', args: { lambd: 0.001, alpha: 0.5, t0: 100, foreach: true } });
    expect(asgd.config.trainer).toEqual({ type: 'DefaultTrainer', optimizer: 'asgd', lambd: 0.001, asgd_alpha: 0.5 });
    expect(asgd.ignored.join('\n')).toContain('trainer.default.args.optimizer.args.t0 (starts ASGD');
    expect(asgd.origins).toContainEqual(['trainer.asgd_alpha', 'trainer.default.args.optimizer.args.alpha']);
    // PyTorch's defaults where ours would change the method, unless the spec sets the key
    expect(opt('AdamW')).toMatchObject({ optimizer: 'adamw', weight_decay: 0.01 });
    expect(opt('adam_w', { weight_decay: 0.05 })).toMatchObject({ optimizer: 'adamw', weight_decay: 0.05 });
    expect(trainer({ type: 'AdamW' }, undefined, { weight_decay: 0 }).config.trainer).toMatchObject({ weight_decay: 0 });
    expect(opt('RMSprop')).toMatchObject({ momentum: 0 });
    expect(opt('Adadelta')).toMatchObject({ lr: 1 });
    expect(opt('Rprop')).toMatchObject({ weight_decay: 0 });
    expect(opt('Adam')).not.toHaveProperty('weight_decay');

    const sched = (type: string, args: Record<string, unknown> = {}) => trainer({ type: 'SGD', args: { lr: 0.1 } }, { type, args }).config.trainer;
    expect(sched('MultiStepLR', { milestones: [30, 60], gamma: 0.2 })).toMatchObject({ lr_scheduler: 'multistep', milestones: [30, 60], gamma: 0.2 });
    expect(sched('exponential_lr', { gamma: 0.97 })).toMatchObject({ lr_scheduler: 'exponential', gamma: 0.97 });
    expect(sched('CosineAnnealingWarmRestarts', { T_0: 10, T_mult: 2, eta_min: 1e-4 })).toMatchObject({ lr_scheduler: 'cosine_restarts', t_0: 10, t_mult: 2, lr_min: 1e-4 });
    expect(sched('LinearLR', { start_factor: 0.1, end_factor: 1, total_iters: 5 })).toMatchObject({ lr_scheduler: 'linear', start_factor: 0.1, end_factor: 1, total_iters: 5 });
    expect(sched('ConstantLR', { factor: 0.5, total_iters: 3 })).toMatchObject({ lr_scheduler: 'constant', factor: 0.5, total_iters: 3 });
    expect(sched('PolynomialLR', { total_iters: 40, power: 2 })).toMatchObject({ lr_scheduler: 'poly', total_iters: 40, power: 2 });
    expect(sched('CosineAnnealingLR', { T_max: 50, eta_min: 0 })).toMatchObject({ lr_scheduler: 'cosine', t_max: 50, lr_min: 0 });
    expect(sched('step-lr', { step_size: 5 })).toMatchObject({ lr_scheduler: 'step', step_size: 5 });

    const msg = refused({ ...README_SPACE, trainer: { t: { type: 'DefaultTrainer', args: { optimizer: { type: 'RMSprop', args: { nesterov: true } }, lr_scheduler: { type: 'ReduceLROnPlateau' } } } } });
    expect(msg).toContain('trainer.t.args.optimizer.args.nesterov: RMSprop takes no nesterov here (it takes lr, alpha, eps, weight_decay, momentum, centered)');
    expect(msg).toContain('trainer.t.args.lr_scheduler: "ReduceLROnPlateau" is not available (ReduceLROnPlateau steps on a validation metric); the LR schedulers here: CosineAnnealingLR, StepLR, MultiStepLR');
    expect(refused({ ...README_SPACE, trainer: { t: { type: 'DefaultTrainer', args: { optimizer: { type: 'Frob' } } } } })).toContain('"Frob" is not available; the optimizers here: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop');
  });

  it("takes -o on the original's own keys before translating", () => {
    expect(originalFormat.isOverride('mixed_op.candidates=[MB3E3]', README_SPACE)).toBe(true);
    expect(originalFormat.isOverride('routine=search', README_SPACE)).toBe(true);
    expect(originalFormat.isOverride('arch_desc=/a.yaml', README_SPACE)).toBe(true);
    expect(originalFormat.isOverride('estim.search.epochs=2', README_SPACE)).toBe(false);
    expect(originalFormat.isOverride('trainer.default.args.lr=0.1', { trainer: { default: { type: 'DefaultTrainer' } } })).toBe(true);
  });
});
