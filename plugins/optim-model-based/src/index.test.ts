// The conformance suite of @modnas/testkit, through score-model fits (n_next_pts 2, a short anneal).
import type { ArchSpace } from '@modnas/core';
import { describeConformance } from '@modnas/testkit';
import { expect } from 'vitest';
import plugin from './index.js';
import type { ModelBasedOptim } from './model-based-optim.js';

const SMALL_SA = { type: 'SimulatedAnnealingModelOptim', args: { temp_init: 1, temp_end: 0.01, cool: 0.9, batch_size: 32 } };

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { ModelBasedOptim: { n_next_pts: 2, model_optim_config: SMALL_SA, model_config: { type: 'MLPEnsembleScoreModel', args: { steps: 5 } } } },
  step: {
    // through a score-model fit: the tensor count must come back to where it was
    ModelBasedOptim: (o) => {
      const opt = o as ModelBasedOptim;
      (opt as unknown as { space: ArchSpace }).space.categorical({ name: 'a', choices: ['x', 'y', 'z', 'w'] });
      (opt as unknown as { space: ArchSpace }).space.categorical({ name: 'b', choices: ['x', 'y', 'z', 'w'] });
      for (let i = 0; i < 4; i++) {
        const [a] = opt.next(1);
        opt.step({ results: [{ arch: a, score: i, metrics: {} }] });
      }
      expect(opt.fits).toBeGreaterThan(0);
    },
  },
});

