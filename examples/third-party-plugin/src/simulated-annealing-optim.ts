import type { Assignment, DiscreteParam, SearchOptimizer, TrialResult } from '@modnas/core';
import { Rng, defineComponent, z } from '@modnas/core';

export const simulatedAnnealingOptimSchema = z.strictObject({
  seed: z.number().int().nonnegative().default(0).describe('Seed of the proposals and acceptances'),
  t0: z.number().positive().default(1).describe('Initial temperature, in units of the score'),
  cooling: z.number().gt(0).lt(1).default(0.97).describe('Temperature factor per evaluated candidate'),
});

/**
 * Simulated annealing over the discrete space: propose a neighbour (one param changed), accept it
 * if better, or with probability exp(delta / T) if worse; T cools geometrically.
 */
export const simulatedAnnealingOptim = defineComponent({
  kind: 'optim',
  id: 'SimulatedAnnealingOptim',
  description: 'Simulated annealing over the discrete arch params',
  schema: simulatedAnnealingOptimSchema,
  create(c, ctx): SearchOptimizer {
    let rng = new Rng(c.seed);
    let temp = c.t0;
    let current: TrialResult | undefined;
    const params = (): DiscreteParam[] => ctx.space.discrete();
    const neighbour = (a: Assignment): Assignment => {
      const ps = params().filter((p) => p.cardinality > 1);
      if (ps.length === 0) return { ...a };
      const p = rng.pick(ps);
      const cur = p.indexOf(a[p.name]);
      const next = (cur + 1 + rng.int(p.cardinality - 1)) % p.cardinality;
      return { ...a, [p.name]: p.valueAt(next) };
    };
    return {
      hasNext: () => params().length > 0,
      next: (n) => Array.from({ length: n }, () => (current ? neighbour(current.arch) : ctx.space.random(rng))),
      step({ results }) {
        for (const r of results) {
          const accept = !current || r.score >= current.score || rng.next() < Math.exp((r.score - current.score) / temp);
          if (accept) current = r;
          temp *= c.cooling;
        }
      },
      // everything next() depends on, as plain JSON (the conformance suite restores it into a fresh instance)
      state: () => ({ rng: rng.getState(), temp, current }),
      restore(s) {
        const st = s as { rng: number; temp: number; current?: TrialResult };
        rng = new Rng(0);
        rng.setState(st.rng);
        temp = st.temp;
        current = st.current;
      },
    };
  },
});
