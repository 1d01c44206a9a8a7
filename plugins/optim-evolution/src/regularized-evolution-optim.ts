import { defineComponent } from '@modnas/core';
import { componentRng, latencyConstraintOf } from '@modnas/kit-optim';
import { TournamentEvolution, evolutionSchema } from './tournament-evolution.js';

export const regularizedEvolutionOptimSchema = evolutionSchema;

/** Regularized (aging) evolution, Real et al. 2019: the oldest member leaves. */
export const regularizedEvolutionOptim = defineComponent({
  kind: 'optim',
  id: 'RegularizedEvolutionOptim',
  aliases: ['RegularizedEvolution'],
  description: 'Regularized (aging) evolution: tournament selection, one-param mutation, the oldest member leaves the population',
  schema: regularizedEvolutionOptimSchema,
  create: (c, ctx) => new TournamentEvolution('RegularizedEvolutionOptim', ctx.space, componentRng(c.seed, ctx.rng), c.population_size, c.sample_size, 'oldest', latencyConstraintOf(c)),
});
