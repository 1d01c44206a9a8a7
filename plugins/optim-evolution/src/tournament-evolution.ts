import type { ArchSpace, Assignment, Rng, SearchFeedback } from '@modnas/core';
import { ModnasError, z } from '@modnas/core';
import { CategoricalSpaceOptim } from '@modnas/kit-optim';

/** Options shared by both evolutions. */
export const evolutionSchema = z.strictObject({
  population_size: z.number().int().min(1).default(100).describe('Population size P: the first P candidates are random, then the population keeps P members'),
  sample_size: z.number().int().min(1).default(25).describe('Tournament size S: members drawn (with replacement) from the population; the best is the parent'),
  seed: z.number().int().nonnegative().default(0).describe("Seed of the draws, mixed with the experiment's seed"),
});
export type EvolutionConfig = z.output<typeof evolutionSchema>;

/** Which member leaves the population when a child joins a full one. */
export type Removal = 'oldest' | 'worst';

interface Member {
  arch: Assignment;
  score: number;
}

/**
 * Evolution with tournament selection (Real et al. 2019): P random candidates first; then each
 * candidate is a child of the best of S members drawn from the population, with one param
 * changed to a different value. An evaluated child joins the population, and one member leaves:
 * the oldest (regularized / aging evolution) or the worst (naive evolution).
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
      this.population.push({ arch: { ...r.arch }, score: r.score });
      if (this.population.length > this.populationSize) this.population.splice(this.removal === 'oldest' ? 0 : this.worstIndex(), 1);
    }
  }

  /** The members, oldest first (a copy). */
  members(): Array<{ arch: Assignment; score: number }> {
    return this.population.map((m) => ({ arch: { ...m.arch }, score: m.score }));
  }

  /** The best of sampleSize members drawn with replacement (the first drawn wins a tie). */
  private tournament(): Member {
    let best: Member | undefined;
    for (let i = 0; i < this.sampleSize; i++) {
      const m = this.population[this.rng.int(this.population.length)];
      if (!best || m.score > best.score) best = m;
    }
    return best!;
  }

  /** Lowest score; the oldest of equals. */
  private worstIndex(): number {
    let w = 0;
    for (let i = 1; i < this.population.length; i++) if (this.population[i].score < this.population[w].score) w = i;
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
    return { proposed: this.proposed, population: this.members() };
  }

  protected loadState(s: Record<string, unknown>): void {
    if (typeof s.proposed !== 'number' || !Array.isArray(s.population)) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', `${this.name}: the state has no population`, { fix: 'restore a state saved by the same optimizer' });
    }
    this.proposed = s.proposed;
    this.population = (s.population as Member[]).map((m) => ({ arch: { ...m.arch }, score: Number(m.score) }));
  }
}
