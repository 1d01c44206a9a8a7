import { describe, expect, it } from 'vitest';
import { isModnasError } from '@modnas/core';
import { mapOriginalFormat } from './original.js';
import { TORCH_LR_SCHEDULERS } from './torch-optim.js';

// torch.optim.lr_scheduler's OneCycleLR, CyclicLR, MultiplicativeLR, SequentialLR and
// ChainedScheduler as the original's trainer takes them (lr_scheduler: { type, args }), translated
// to DefaultTrainer's keys. What the trainer computes from them is checked against PyTorch 1.13 in
// plugins/trainer-default/src/torch-reference.test.ts.

const SPACE = { model: { type: 'CIFAR_MobileNetV2_GPU' } };

function translate(lr_scheduler: unknown, optimizer: unknown = { type: 'SGD', args: { lr: 0.1 } }) {
  return mapOriginalFormat({ ...SPACE, trainer: { default: { type: 'DefaultTrainer', args: { optimizer, lr_scheduler } } } } as never, 'a.yaml');
}
const sched = (type: string, args: Record<string, unknown> = {}) => translate({ type, args }).config.trainer;

function refused(lr_scheduler: unknown): string {
  try {
    translate(lr_scheduler);
  } catch (e) {
    expect(isModnasError(e) && e.code).toBe('MODNAS_E_CONFIG_ORIGINAL');
    return (e as Error).message;
  }
  throw new Error('not refused');
}

describe('LR schedulers of the original format', () => {
  it('takes each of them by name alone, as the original registry does', () => {
    for (const name of ['OneCycleLR', 'CyclicLR', 'MultiplicativeLR', 'SequentialLR', 'ChainedScheduler', 'one_cycle_lr', 'cyclic-lr']) {
      expect(() => translate({ type: name }), name).not.toThrow();
    }
    expect(TORCH_LR_SCHEDULERS.map((c) => c.name)).toEqual(expect.arrayContaining(['OneCycleLR', 'CyclicLR', 'MultiplicativeLR', 'SequentialLR', 'ChainedScheduler']));
  });

  it('OneCycleLR: every argument renamed; epochs * steps_per_epoch is total_steps', () => {
    const args = { max_lr: 0.5, total_steps: 30, pct_start: 0.25, anneal_strategy: 'linear', cycle_momentum: true, base_momentum: 0.8, max_momentum: 0.9, div_factor: 10, final_div_factor: 100, three_phase: true, verbose: true };
    const m = translate({ type: 'OneCycleLR', args });
    const { verbose: _, ...rest } = args;
    expect(m.config.trainer).toEqual({ type: 'DefaultTrainer', optimizer: 'sgd', lr: 0.1, lr_scheduler: 'onecycle', ...rest });
    expect(m.ignored.join('\n')).toContain('trainer.default.args.lr_scheduler.args.verbose');
    expect(m.origins).toContainEqual(['trainer.max_lr', 'trainer.default.args.lr_scheduler.args.max_lr']);
    expect(sched('OneCycleLR', { max_lr: 0.2, epochs: 6, steps_per_epoch: 5 })).toMatchObject({ lr_scheduler: 'onecycle', max_lr: 0.2, total_steps: 30 });
    expect(sched('OneCycleLR', { max_lr: 0.2 })).not.toHaveProperty('total_steps');
    expect(refused({ type: 'OneCycleLR', args: { epochs: 6 } })).toContain('trainer.default.args.lr_scheduler.args: epochs and steps_per_epoch are given together');
  });

  it("CyclicLR: mode is cyclic_mode, and torch's gamma 1 unless the spec sets gamma", () => {
    expect(sched('CyclicLR', { base_lr: 0.01, max_lr: 0.1, step_size_up: 4, step_size_down: 2, mode: 'exp_range', gamma: 0.9, cycle_momentum: false })).toEqual({
      type: 'DefaultTrainer', optimizer: 'sgd', lr: 0.1, lr_scheduler: 'cyclic', base_lr: 0.01, max_lr: 0.1, step_size_up: 4, step_size_down: 2, cyclic_mode: 'exp_range', gamma: 0.9, cycle_momentum: false,
    });
    expect(sched('CyclicLR', { max_lr: 0.1 })).toMatchObject({ gamma: 1 });
    const m = translate({ type: 'CyclicLR', args: { scale_mode: 'iterations' } });
    expect(m.ignored.join('\n')).toContain('trainer.default.args.lr_scheduler.args.scale_mode (chooses what a custom scale_fn counts');
    expect(refused({ type: 'CyclicLR', args: { scale_fn: 'f' } })).toContain('trainer.default.args.lr_scheduler.args.scale_fn: CyclicLR takes no scale_fn here');
  });

  it('MultiplicativeLR: lr_lambda as a constant factor; a function (a string) is refused, saying why', () => {
    expect(sched('MultiplicativeLR', { lr_lambda: 0.95 })).toMatchObject({ lr_scheduler: 'multiplicative', lr_lambda: 0.95 });
    expect(refused({ type: 'MultiplicativeLR', args: { lr_lambda: 'lambda epoch: 0.95' } })).toContain('trainer.default.args.lr_scheduler.args.lr_lambda: "lambda epoch: 0.95" is not a number (a Python function cannot be read');
  });

  it('SequentialLR and ChainedScheduler: each member { type, args } translated into schedulers, with its own defaults', () => {
    const seq = translate({
      type: 'SequentialLR',
      args: { milestones: [5], schedulers: [{ type: 'LinearLR', args: { start_factor: 0.1, total_iters: 5 } }, { type: 'CyclicLR', args: { max_lr: 0.3, mode: 'triangular2' } }] },
    });
    expect(seq.config.trainer).toEqual({
      type: 'DefaultTrainer', optimizer: 'sgd', lr: 0.1, lr_scheduler: 'sequential', milestones: [5],
      schedulers: [{ lr_scheduler: 'linear', start_factor: 0.1, total_iters: 5 }, { gamma: 1, lr_scheduler: 'cyclic', max_lr: 0.3, cyclic_mode: 'triangular2' }],
    });
    expect(seq.origins).toContainEqual(['trainer.schedulers', 'trainer.default.args.lr_scheduler.args.schedulers']);
    expect(sched('ChainedScheduler', { schedulers: ['ExponentialLR', { type: 'ConstantLR', args: { factor: 0.5 } }] })).toMatchObject({ lr_scheduler: 'chained', schedulers: [{ lr_scheduler: 'exponential' }, { lr_scheduler: 'constant', factor: 0.5 }] });
    // errors inside a member name its own path
    const msg = refused({ type: 'ChainedScheduler', args: { schedulers: [{ type: 'StepLR', args: { T_max: 3 } }, { type: 'ReduceLROnPlateau' }, { type: 'SequentialLR' }] } });
    expect(msg).toContain('trainer.default.args.lr_scheduler.args.schedulers.0.args.T_max: StepLR takes no T_max here (it takes step_size, gamma)');
    expect(msg).toContain('trainer.default.args.lr_scheduler.args.schedulers.1.type: "ReduceLROnPlateau" is not available (ReduceLROnPlateau steps on a validation metric)');
    expect(msg).toContain('trainer.default.args.lr_scheduler.args.schedulers.2: "SequentialLR" cannot be nested in another chain');
    expect(refused({ type: 'SequentialLR', args: { schedulers: 'StepLR' } })).toContain('trainer.default.args.lr_scheduler.args.schedulers: expected a list of LR schedulers');
  });

  it('leaves out ReduceLROnPlateau and LambdaLR, saying why', () => {
    expect(refused({ type: 'ReduceLROnPlateau' })).toContain('(ReduceLROnPlateau steps on a validation metric)');
    expect(refused({ type: 'LambdaLR' })).toContain('(LambdaLR takes a Python function; MultiplicativeLR takes a constant factor per epoch)');
  });
});
