import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { evolutionOptim } from './evolution-optim.js';
import { paretoEvolutionOptim } from './pareto-evolution-optim.js';
import { regularizedEvolutionOptim } from './regularized-evolution-optim.js';
import type { Objective, ParetoEvolutionConfig, ParetoMember } from './pareto-evolution-optim.js';
import type { EvolutionConfig, Removal } from './tournament-evolution.js';

export { evolutionOptim, evolutionOptimSchema } from './evolution-optim.js';
export { ParetoEvolutionOptim, paretoEvolutionOptim, paretoEvolutionOptimSchema, constrainedDominates, crowdingDistance, dominates, hypervolume2d, nondominatedFronts } from './pareto-evolution-optim.js';
export { regularizedEvolutionOptim, regularizedEvolutionOptimSchema } from './regularized-evolution-optim.js';
export { TournamentEvolution, evolutionSchema } from './tournament-evolution.js';
export type { EvolutionConfig, Removal, Objective, ParetoEvolutionConfig, ParetoMember };

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [evolutionOptim, regularizedEvolutionOptim, paretoEvolutionOptim],
});
