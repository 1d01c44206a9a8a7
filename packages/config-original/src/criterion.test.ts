import { describe, expect, it } from 'vitest';
import { isModnasError } from '@modnas/core';
import { LOSS_CRITERIA, mapCriterion } from './criterion.js';
import { mapOriginalFormat } from './original.js';

const trainer = (criterion: unknown): Record<string, unknown> => ({ default: { type: 'DefaultTrainer', args: { criterion } } });
const estims = { search: { type: 'SuperNetEstim', epochs: 1 }, ps: { type: 'ProgressiveShrinkingEstim', criterion: [{ type: 'KnowledgeDistillLoss', mode: 'train' }] } };

describe("the original trainer's criterion", () => {
  it('CrossEntropyLoss is the task loss, CrossEntropyLabelSmoothingLoss the trainer\'s label smoothing: no loss component', () => {
    const ce = mapOriginalFormat({ estim: estims, trainer: trainer('CrossEntropyLoss') } as never, 'a.yaml');
    expect((ce.config.estim as Record<string, Record<string, unknown>>).search.criterion).toBeUndefined();
    const ls = mapOriginalFormat({ estim: estims, trainer: trainer({ type: 'CrossEntropyLabelSmoothingLoss', args: { eta: 0.2 } }) } as never, 'a.yaml');
    expect((ls.config.trainer as Record<string, unknown>).label_smoothing).toBe(0.2);
    expect(mapCriterion('LS', 'c').labelSmoothing).toBe(0.1);
  });

  it("a torch loss becomes a loss component first in every estimator's criterion, with its args", () => {
    const m = mapOriginalFormat({ estim: estims, trainer: trainer({ type: 'MSELoss', args: { reduction: 'sum' } }) } as never, 'a.yaml');
    const e = m.config.estim as Record<string, Record<string, unknown>>;
    expect(e.search.criterion).toEqual([{ type: 'MSELoss', reduction: 'sum' }]);
    // the estimator's own criteria come after the trainer's loss, as the original applies them after it
    expect(e.ps.criterion).toEqual([{ type: 'MSELoss', reduction: 'sum' }, { type: 'KnowledgeDistillLoss', mode: 'train' }]);
    expect((m.config.trainer as Record<string, unknown>).criterion).toBeUndefined();
  });

  it('works whichever of trainer and estim the document names first', () => {
    const m = mapOriginalFormat({ trainer: trainer({ type: 'MixUpLoss', args: { crit_conf: 'CrossEntropyLoss', alpha: 0.2 } }), estim: estims } as never, 'a.yaml');
    const e = m.config.estim as Record<string, Record<string, unknown>>;
    expect(e.search.criterion).toEqual([{ type: 'MixUpLoss', crit_conf: 'CrossEntropyLoss', alpha: 0.2 }]);
    expect(Object.keys(m.config)).toContain('estim');
    expect(JSON.parse(JSON.stringify(m.config)).estim.search.criterion).toHaveLength(1);
    // with no estimators there is nothing to add to, and no stray key
    const none = mapOriginalFormat({ trainer: trainer('MSELoss') } as never, 'a.yaml');
    expect(Object.keys(none.config)).not.toContain('estim');
  });

  it("names match as the original's registry does (case, '_' and '-' ignored), a list keeps its order and modes", () => {
    const m = mapCriterion([{ type: 'smooth_l1_loss', args: { beta: 0.5 }, mode: 'train' }, 'CrossEntropyLoss', 'nll-loss-2d'], 'trainer.default.args.criterion');
    expect(m.errors).toEqual([]);
    expect(m.losses).toEqual([{ type: 'SmoothL1Loss', beta: 0.5, mode: 'train' }, { type: 'NLLLoss2d' }]);
  });

  it('every criterion of @modnas/loss-default translates without an error', () => {
    for (const n of LOSS_CRITERIA) expect(mapCriterion({ type: n }, 'c')).toEqual({ losses: [{ type: n }], errors: [] });
  });

  it('an unknown criterion, or a spec with no type, is an error naming the key and what is available', () => {
    try {
      mapOriginalFormat({ estim: estims, trainer: trainer({ type: 'FocalLoss' }) } as never, 'a.yaml');
      throw new Error('not refused');
    } catch (e) {
      expect(isModnasError(e) && e.code).toBe('MODNAS_E_CONFIG_ORIGINAL');
      expect((e as Error).message).toContain('trainer.default.args.criterion: "FocalLoss" is not available');
      expect((e as Error).message).toContain('MixUpLoss');
    }
    expect(mapCriterion({ args: {} }, 'c').errors[0]).toContain('c: expected a criterion name');
    expect(mapCriterion({ type: 'LS', args: { eta: 'x' } }, 'c').errors[0]).toContain('eta "x" is not a number');
  });
});
