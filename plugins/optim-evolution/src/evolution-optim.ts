import { defineComponent } from '@modnas/core';
import { componentRng, latencyConstraintOf } from '@modnas/kit-optim';
import { TournamentEvolution, evolutionSchema } from './tournament-evolution.js';

export const evolutionOptimSchema = evolutionSchema;

/** Naive evolution with tournament selection: the worst member leaves (Real et al. 2019's non-aging baseline). */
export const evolutionOptim = defineComponent({
  kind: 'optim',
  id: 'EvolutionOptim',
  aliases: ['Evolution'],
  description: 'Naive evolution: tournament selection, one-param mutation, the worst member leaves the population',
  schema: evolutionOptimSchema,
  create: (c, ctx) => new TournamentEvolution('EvolutionOptim', ctx.space, componentRng(c.seed, ctx.rng), c.population_size, c.sample_size, 'worst', latencyConstraintOf(c)),
});
