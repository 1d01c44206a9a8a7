// Routine hptune of the original format (its wrapper.py apply_hptune_config): the hptune section
// applied over the config, and hp_space declared by DefaultHParamSpaceConstructor when the config
// has no constructors of its own.
import { describe, expect, it } from 'vitest';
import { mapOriginalFormat } from './original.js';

/** An hptune config as the original writes one (its contrib/tune defaults: RandomSearchOptim, HPTuneEstim with epochs -1). */
const HPTUNE = {
  routine: 'hptune',
  hp_space: { 'trainer.lr': [0.01, 0.1], 'trainer.momentum': [[0, 0.9]] },
  optim: { type: 'RandomSearchOptim' },
  estim: { tune: { type: 'HPTuneEstim', epochs: -1, args: { trial_config: 'train.yaml', trial_args: { name: 'lr' } } } },
};

describe('routine hptune (original format)', () => {
  it('declares hp_space with DefaultHParamSpaceConstructor and keeps the HPTuneEstim spec', () => {
    const m = mapOriginalFormat(HPTUNE, 'tune.yaml');
    expect(m.config.construct).toEqual({ hparams: { type: 'DefaultHParamSpaceConstructor', args: { params: HPTUNE.hp_space } } });
    expect(m.config.estim).toEqual(HPTUNE.estim);
    expect(m.config.optim).toEqual({ type: 'RandomSearchOptim' });
    expect(m.config.model).toBeUndefined();
    // the best hyperparameters are written out (the original returns them as best_arch_desc)
    expect(m.config.export).toEqual({ default: { type: 'DefaultParamsExporter' } });
    expect(mapOriginalFormat({ ...HPTUNE, export: { mine: { type: 'X' } } }, 'tune.yaml').config.export).toEqual({ mine: { type: 'X' } });
    expect(m.ignored.join('\n')).toContain('routine hptune: hp_space declared by construct.hparams');
  });

  it('applies the hptune section over the config first (hp_space and estim may come from it)', () => {
    const { hp_space: _h, estim: _e, ...rest } = HPTUNE;
    const m = mapOriginalFormat({ ...rest, hptune: { hp_space: { 'trainer.batch_size': [8, 16] }, estim: { tune: { type: 'HPTuneEstim', args: { trial_config: 't.yaml' } } } } }, 'tune.yaml');
    expect(m.config.construct).toEqual({ hparams: { type: 'DefaultHParamSpaceConstructor', args: { params: { 'trainer.batch_size': [8, 16] } } } });
    expect((m.config.estim as Record<string, unknown>).tune).toEqual({ type: 'HPTuneEstim', args: { trial_config: 't.yaml' } });
  });

  it('leaves constructors the config names in place (hp_space unused, said), and an empty hp_space is an empty space', () => {
    const own = { hparams: { type: 'DefaultHParamSpaceConstructor', args: { params: { x: [1, 2] } } } };
    const m = mapOriginalFormat({ ...HPTUNE, construct: own }, 'tune.yaml');
    expect(m.config.construct).toEqual(own);
    expect(m.ignored.join('\n')).toContain('hp_space (routine hptune: the config has constructors of its own');
    const { hp_space: _h, ...noSpace } = HPTUNE;
    expect(mapOriginalFormat(noSpace, 'tune.yaml').config.construct).toEqual({ hparams: { type: 'DefaultHParamSpaceConstructor', args: { params: {} } } });
  });

  it('under another routine, hp_space and the hptune section are left out, and said', () => {
    const m = mapOriginalFormat({ ...HPTUNE, routine: 'search', model: { type: 'CIFAR_MobileNetV2_GPU' }, hptune: { estim: {} } }, 'a.yaml');
    expect(m.config.construct).toBeUndefined();
    const said = m.ignored.join('\n');
    expect(said).toContain('hp_space (the hyperparameters of routine hptune');
    expect(said).toContain('hptune (the section of routine hptune');
  });
});
