// The conformance suite of @modnas/testkit: what every plugin must satisfy, and per kind what the
// component must do (an optimizer's state round-trips, a mixed op's α reaches its output, ...).
import type { TrialRunner } from '@modnas/core';
import { ArchSpace, Tokens } from '@modnas/core';
import { TinySgdTrainer, describeConformance, makeEstimContext, tinyRandomOptim, tinySearchNet } from '@modnas/testkit';
import plugin from './index.js';

/** HPTuneEstim runs trials through Tokens.TrialRunner (the runtime's): here a stand-in scoring lr x momentum. */
const standIn: TrialRunner = {
  run: (spec) => {
    const o = spec.overrides as Record<string, number>;
    const score = o['trainer.lr'] * o['trainer.momentum'];
    return Promise.resolve({ outputDir: `trials/${spec.name}`, bestScore: score, metrics: { acc: score } });
  },
};

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: {
    HPTuneEstim: { trial_config: 'trial.yaml', epochs: 3 },
    DefaultHParamSpaceConstructor: { params: { 'trainer.lr': [0.01, 0.1], 'trainer.momentum': [[0, 0.9]] } },
  },
  estimContexts: {
    HPTuneEstim: () => {
      const space = new ArchSpace();
      space.categorical({ name: 'trainer.lr', choices: [0.01, 0.1] });
      space.numeric({ name: 'trainer.momentum', low: 0, high: 0.9 });
      const model = tinySearchNet(space);
      const ctx = makeEstimContext({ model, space, trainer: new TinySgdTrainer(), optim: tinyRandomOptim(space) });
      ctx.container.registerInstance(Tokens.TrialRunner, standIn);
      return Promise.resolve({ ctx, done: () => (model.dispose(), space.dispose()) });
    },
  },
});
