import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { evolutionOptim, evolutionOptimSchema } from './evolution-optim.js';
import { ParetoEvolutionOptim, crowdingDistance, dominates, hypervolume2d, nondominatedFronts, paretoEvolutionOptim, paretoEvolutionOptimSchema } from './pareto-evolution-optim.js';
import type { Objective, ParetoEvolutionConfig, ParetoMember } from './pareto-evolution-optim.js';
import { regularizedEvolutionOptim, regularizedEvolutionOptimSchema } from './regularized-evolution-optim.js';
import { TournamentEvolution, evolutionSchema } from './tournament-evolution.js';
import type { EvolutionConfig, Removal } from './tournament-evolution.js';

export {
  TournamentEvolution,
  evolutionSchema,
  evolutionOptim,
  evolutionOptimSchema,
  regularizedEvolutionOptim,
  regularizedEvolutionOptimSchema,
  ParetoEvolutionOptim,
  paretoEvolutionOptim,
  paretoEvolutionOptimSchema,
  crowdingDistance,
  dominates,
  hypervolume2d,
  nondominatedFronts,
};
export type { EvolutionConfig, Removal, Objective, ParetoEvolutionConfig, ParetoMember };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [evolutionOptim, regularizedEvolutionOptim, paretoEvolutionOptim],
});
