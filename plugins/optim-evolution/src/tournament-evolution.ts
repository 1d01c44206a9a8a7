import type { ArchSpace, Assignment, Rng, SearchFeedback, TrialResult } from '@modnas/core';
import { ModnasError, z } from '@modnas/core';
import { CategoricalSpaceOptim, NO_LATENCY_CONSTRAINT, latencyConstraintFields, latencyViolation } from '@modnas/kit-optim';
import type { LatencyConstraint } from '@modnas/kit-optim';

/** Options shared by both evolutions. */
export const evolutionSchema = z.strictObject({
  population_size: z.number().int().min(1).default(100).describe('Population size P: the first P candidates are random, then the population keeps P members'),
  sample_size: z.number().int().min(1).default(25).describe('Tournament size S: members drawn (with replacement) from the population; the best is the parent'),
  ...latencyConstraintFields,
  seed: z.number().int().nonnegative().default(0).describe("Seed of the draws, mixed with the experiment's seed"),
});
export type EvolutionConfig = z.output<typeof evolutionSchema>;

/** Which member leaves the population when a child joins a full one. */
export type Removal = 'oldest' | 'worst';

interface Member {
  arch: Assignment;
  score: number;
  /** Milliseconds over latency_max_ms; 0: feasible. */
  violation: number;
}

/** Deb's (2000) feasibility rule: less over the limit first (every feasible member ties at 0), then the higher score. */
function ranksAbove(a: Member, b: Member): boolean {
  return a.violation !== b.violation ? a.violation < b.violation : a.score > b.score;
}

/**
 * Evolution with tournament selection (Real et al. 2019): P random candidates first; then each
 * candidate is a child of the best of S members drawn from the population, with one param
 * changed to a different value. An evaluated child joins the population, and one member leaves:
 * the oldest (regularized / aging evolution) or the worst (naive evolution).
 *
 * With latency_max_ms, a member over the limit ranks below every feasible one: the tournament
 * draws among the feasible members whenever there is one (so an infeasible member is never a
 * parent then), and the worst member is the one furthest over the limit. While no member is
 * feasible, the parent is the member least over the limit, so the search moves towards the
 * feasible region instead of drawing blindly.
 */
export class TournamentEvolution extends CategoricalSpaceOptim {
  /** Oldest first. */
  private population: Member[] = [];
  private proposed = 0;

  constructor(
    name: string,
    space: ArchSpace,
    rng: Rng,
    readonly populationSize: number,
    readonly sampleSize: number,
    readonly removal: Removal,
    readonly constraint: LatencyConstraint = NO_LATENCY_CONSTRAINT,
  ) {
    super(name, space, rng);
  }

  next(n: number): Assignment[] {
    const out: Assignment[] = [];
    for (let k = 0; k < n; k++) {
      const arch = this.proposed < this.populationSize || this.population.length === 0 ? this.randomArch() : this.mutate(this.tournament().arch);
      this.proposed++;
      out.push(arch);
    }
    return out;
  }

  override step(feedback: SearchFeedback): void {
    for (const r of feedback.results) {
      if (!Number.isFinite(r.score)) continue;
      this.population.push({ arch: { ...r.arch }, score: r.score, violation: latencyViolation(r, this.constraint, this.name) });
      if (this.population.length > this.populationSize) this.population.splice(this.removal === 'oldest' ? 0 : this.worstIndex(), 1);
    }
  }

  /** The members, oldest first (a copy); violation: milliseconds over latency_max_ms (0: feasible). */
  members(): Array<{ arch: Assignment; score: number; violation: number }> {
    return this.population.map((m) => ({ arch: { ...m.arch }, score: m.score, violation: m.violation }));
  }

  /** Whether a result satisfies latency_max_ms (always without one); throws MODNAS_E_OPTIM_CONSTRAINT when it lacks the metric. */
  isFeasible(result: TrialResult): boolean {
    return latencyViolation(result, this.constraint, this.name) === 0;
  }

  /** The best of sampleSize members drawn with replacement from the feasible ones (all, while none is); the first drawn wins a tie. */
  private tournament(): Member {
    const feasible = this.population.filter((m) => m.violation === 0);
    const pool = feasible.length > 0 ? feasible : this.population;
    let best: Member | undefined;
    for (let i = 0; i < this.sampleSize; i++) {
      const m = pool[this.rng.int(pool.length)];
      if (!best || ranksAbove(m, best)) best = m;
    }
    return best!;
  }

  /** The lowest ranked (furthest over the limit, then lowest score); the oldest of equals. */
  private worstIndex(): number {
    let w = 0;
    for (let i = 1; i < this.population.length; i++) if (ranksAbove(this.population[w], this.population[i])) w = i;
    return w;
  }

  /** One param, chosen uniformly among those with a choice, set to a different value. */
  private mutate(parent: Assignment): Assignment {
    const child = { ...parent };
    const free = this.params.filter((p) => p.cardinality > 1);
    if (free.length === 0) return child;
    const p = free[this.rng.int(free.length)];
    const cur = p.indexOf(parent[p.name] ?? p.value);
    let k = this.rng.int(p.cardinality - 1);
    if (k >= cur && cur >= 0) k++;
    child[p.name] = p.valueAt(k);
    return child;
  }

  protected saveState(): Record<string, unknown> {
    return { proposed: this.proposed, population: this.members().map((m) => ({ ...m, violation: m.violation === Infinity ? 'inf' : m.violation })) };
  }

  protected loadState(s: Record<string, unknown>): void {
    if (typeof s.proposed !== 'number' || !Array.isArray(s.population)) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', `${this.name}: the state has no population`, { fix: 'restore a state saved by the same optimizer' });
    }
    this.proposed = s.proposed;
    type Saved = { arch: Assignment; score: number; violation?: number | string };
    this.population = (s.population as Saved[]).map((m) => ({ arch: { ...m.arch }, score: Number(m.score), violation: m.violation === 'inf' ? Infinity : Number(m.violation ?? 0) }));
  }
}
