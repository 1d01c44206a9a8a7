import { describe, expect, it } from 'vitest';
import type { Assignment } from '@modnas/core';
import { ArchSpace } from '@modnas/core';
import { bestOf, makeBuildContext } from '@modnas/testkit';
import { simulatedAnnealingOptim } from './simulated-annealing-optim.js';

describe('SimulatedAnnealingOptim', () => {
  it('reaches the optimum of a toy space (6 params of 4 values, the score counts those set to 3) within 200 queries, for 5 seeds', async () => {
    const score = (a: Assignment): number => Object.values(a).filter((v) => v === 3).length;
    for (let seed = 0; seed < 5; seed++) {
      const space = new ArchSpace();
      for (let i = 0; i < 6; i++) space.categorical({ name: 'p' + i, choices: [0, 1, 2, 3] });
      const optim = await simulatedAnnealingOptim.create(simulatedAnnealingOptim.schema.parse({ seed, t0: 0.5 }), makeBuildContext({ space }), undefined);
      expect(bestOf(optim, score, 200), 'seed ' + seed).toBe(6);
    }
  });
});
