import type { ArchSpace, Assignment, Rng, SearchFeedback, TrialResult } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { CategoricalSpaceOptim, componentRng, latencyConstraintFields, latencyViolation } from '@modnas/kit-optim';

const objectiveSchema = z.strictObject({
  metric: z.string().min(1).describe('"score" (the estimator\'s score) or a metric of the result, e.g. params or flops'),
  goal: z.enum(['max', 'min']).describe('Whether higher or lower is better'),
});

export const paretoEvolutionOptimSchema = z.strictObject({
  objectives: z
    .array(objectiveSchema)
    .min(2)
    .default([
      { metric: 'score', goal: 'max' },
      { metric: 'params', goal: 'min' },
    ])
    .describe('The objectives: at least two, each a metric and a goal'),
  population_size: z.number().int().min(2).default(50).describe('Population size P: P random candidates first, then generations of P children; P survive each generation'),
  crossover_prob: z.number().min(0).max(1).default(0.5).describe('Probability that a child is the uniform crossover of two parents (else a copy of one) before its one-param mutation'),
  ...latencyConstraintFields,
  seed: z.number().int().nonnegative().default(0).describe("Seed of the draws, mixed with the experiment's seed"),
});
export type ParetoEvolutionConfig = z.output<typeof paretoEvolutionOptimSchema>;
export type Objective = ParetoEvolutionConfig['objectives'][number];

export interface ParetoMember {
  arch: Assignment;
  /** Objective values, each turned so that higher is better (a "min" objective is negated). */
  values: number[];
  /** Milliseconds over latency_max_ms; 0: feasible. */
  violation: number;
}

/** Whether a dominates b (all objectives at least as good, one strictly better; higher is better). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictly = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < b[i]) return false;
    if (a[i] > b[i]) strictly = true;
  }
  return strictly;
}

/**
 * Constrained domination (Deb et al. 2002, section VI): a feasible point (violation 0) dominates
 * every infeasible one, an infeasible one dominates those further over the limit, and two
 * feasible ones compare by plain domination.
 */
export function constrainedDominates(a: readonly number[], aViolation: number, b: readonly number[], bViolation: number): boolean {
  if (aViolation === 0 && bViolation === 0) return dominates(a, b);
  return aViolation < bViolation;
}

/**
 * Fast non-dominated sort (Deb et al. 2002): the fronts, as lists of indices, best first. With
 * `violations` (per point, 0: feasible) it sorts by constrained domination, so every infeasible
 * point lies in a front after all the feasible ones.
 */
export function nondominatedFronts(points: ReadonlyArray<readonly number[]>, violations?: readonly number[]): number[][] {
  const beats = violations ? (p: number, q: number) => constrainedDominates(points[p], violations[p], points[q], violations[q]) : (p: number, q: number) => dominates(points[p], points[q]);
  const n = points.length;
  const dominated: number[][] = points.map(() => []);
  const count = new Array<number>(n).fill(0);
  const fronts: number[][] = [[]];
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      if (p === q) continue;
      if (beats(p, q)) dominated[p].push(q);
      else if (beats(q, p)) count[p]++;
    }
    if (count[p] === 0) fronts[0].push(p);
  }
  for (let f = 0; fronts[f].length > 0; f++) {
    const next: number[] = [];
    for (const p of fronts[f]) for (const q of dominated[p]) if (--count[q] === 0) next.push(q);
    fronts.push(next);
  }
  fronts.pop();
  return fronts;
}

/** Crowding distance of each member of one front (boundary members: Infinity). */
export function crowdingDistance(points: ReadonlyArray<readonly number[]>): number[] {
  const n = points.length;
  const d = new Array<number>(n).fill(0);
  if (n === 0) return d;
  for (let m = 0; m < points[0].length; m++) {
    const order = points.map((_, i) => i).sort((a, b) => points[a][m] - points[b][m] || a - b);
    const lo = points[order[0]][m];
    const hi = points[order[n - 1]][m];
    d[order[0]] = d[order[n - 1]] = Infinity;
    if (hi === lo) continue;
    for (let k = 1; k < n - 1; k++) d[order[k]] += (points[order[k + 1]][m] - points[order[k - 1]][m]) / (hi - lo);
  }
  return d;
}

/**
 * Hypervolume of a set of 2-objective points (higher is better on both) against a reference point
 * that every counted point must strictly beat: the area they dominate above `ref`.
 */
export function hypervolume2d(points: ReadonlyArray<readonly number[]>, ref: readonly [number, number]): number {
  const ps = points.filter((p) => p[0] > ref[0] && p[1] > ref[1]).sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  let area = 0;
  let top = ref[1];
  for (const p of ps) {
    if (p[1] <= top) continue;
    area += (p[0] - ref[0]) * (p[1] - top);
    top = p[1];
  }
  return area;
}

/**
 * NSGA-II (Deb, Pratap, Agarwal & Meyarivan 2002) over the discrete params: P random candidates,
 * then generations of P children, each from binary tournaments on (front rank, crowding
 * distance), uniform crossover with crossover_prob, and one param changed; parents and children
 * together are sorted into non-dominated fronts and the best P (by front, then crowding distance)
 * survive. A child already evaluated is redrawn (up to 20 times), so the budget is not spent on
 * repeats. With latency_max_ms the sort is by constrained domination: every candidate over the
 * limit ranks after every feasible one, and those over it by how far.
 */
export class ParetoEvolutionOptim extends CategoricalSpaceOptim {
  private population: Array<ParetoMember & { rank: number; crowd: number }> = [];
  /** Evaluated results of the current generation (the random one first). */
  private offspring: ParetoMember[] = [];
  private readonly seen = new Set<string>();
  /** Every evaluated member (the archive the Pareto front of the search is read from). */
  private archive: ParetoMember[] = [];

  constructor(
    space: ArchSpace,
    rng: Rng,
    readonly config: ParetoEvolutionConfig,
  ) {
    super('ParetoEvolutionOptim', space, rng);
  }

  /** The evaluated architectures, with their objective values (higher is better) and how far (ms) each is over latency_max_ms. */
  evaluated(): ParetoMember[] {
    return this.archive.map((m) => ({ arch: { ...m.arch }, values: [...m.values], violation: m.violation }));
  }

  /** The non-dominated ones among the evaluated architectures: among the feasible ones whenever one is (else those least over the limit). */
  front(): ParetoMember[] {
    const all = this.evaluated();
    const [first = []] = nondominatedFronts(
      all.map((m) => m.values),
      all.map((m) => m.violation),
    );
    return first.map((i) => all[i]);
  }

  /** Whether a result satisfies latency_max_ms (always without one); throws MODNAS_E_OPTIM_CONSTRAINT when it lacks the metric. */
  isFeasible(result: TrialResult): boolean {
    return latencyViolation(result, this.config, this.name) === 0;
  }

  next(n: number): Assignment[] {
    const out: Assignment[] = [];
    for (let k = 0; k < n; k++) {
      let arch = this.population.length === 0 ? this.randomArch() : this.child();
      for (let t = 0; t < 20 && this.seen.has(this.keyOf(arch)); t++) arch = this.population.length === 0 ? this.randomArch() : this.child();
      this.seen.add(this.keyOf(arch));
      out.push(arch);
    }
    return out;
  }

  override step(feedback: SearchFeedback): void {
    for (const r of feedback.results) {
      const violation = latencyViolation(r, this.config, this.name);
      const m = { arch: { ...r.arch }, values: this.values(r), violation };
      this.archive.push(m);
      this.offspring.push(m);
      if (this.offspring.length >= this.config.population_size) this.select();
    }
  }

  /** Objective values of a result, higher is better. */
  private values(r: TrialResult): number[] {
    return this.config.objectives.map(({ metric, goal }) => {
      const v = metric === 'score' ? r.score : r.metrics?.[metric];
      if (typeof v !== 'number') {
        throw new ModnasError('MODNAS_E_OPTIM_OBJECTIVE', `ParetoEvolutionOptim: the result has no metric "${metric}" (it has ${Object.keys(r.metrics ?? {}).join(', ') || 'none'})`, {
          fix: 'name an objective the estimator reports, e.g. { metric: params, goal: min } on NASBenchMacroEstimator',
          where: 'optim.objectives',
        });
      }
      const x = Number.isFinite(v) ? v : -Infinity;
      return goal === 'max' ? x : -x;
    });
  }

  /** Environmental selection: parents + offspring, the best P by (front, crowding distance). */
  private select(): void {
    const P = this.config.population_size;
    const pool: ParetoMember[] = [...this.population, ...this.offspring];
    this.offspring = [];
    const fronts = nondominatedFronts(
      pool.map((m) => m.values),
      pool.map((m) => m.violation),
    );
    const next: Array<ParetoMember & { rank: number; crowd: number }> = [];
    fronts.forEach((front, rank) => {
      if (next.length >= P) return;
      const crowd = crowdingDistance(front.map((i) => pool[i].values));
      const order = front.map((_, j) => j).sort((a, b) => crowd[b] - crowd[a] || a - b);
      for (const j of order) if (next.length < P) next.push({ ...pool[front[j]], rank, crowd: crowd[j] });
    });
    this.population = next;
  }

  /** Binary tournament: lower front rank wins, then larger crowding distance, then the first drawn. */
  private tournament(): ParetoMember & { rank: number; crowd: number } {
    const a = this.population[this.rng.int(this.population.length)];
    const b = this.population[this.rng.int(this.population.length)];
    if (b.rank < a.rank || (b.rank === a.rank && b.crowd > a.crowd)) return b;
    return a;
  }

  private child(): Assignment {
    const p1 = this.tournament().arch;
    let c: Assignment = { ...p1 };
    if (this.rng.next() < this.config.crossover_prob) {
      const p2 = this.tournament().arch;
      c = {};
      for (const p of this.params) c[p.name] = (this.rng.next() < 0.5 ? p1 : p2)[p.name] ?? p.value;
    }
    const free = this.params.filter((p) => p.cardinality > 1);
    if (free.length === 0) return c;
    const p = free[this.rng.int(free.length)];
    const cur = p.indexOf(c[p.name] ?? p.value);
    let k = this.rng.int(p.cardinality - 1);
    if (k >= cur && cur >= 0) k++;
    c[p.name] = p.valueAt(k);
    return c;
  }

  protected saveState(): Record<string, unknown> {
    const save = (m: ParetoMember) => ({ arch: { ...m.arch }, values: m.values.map((v) => (v === -Infinity ? '-inf' : v)), violation: m.violation === Infinity ? 'inf' : m.violation });
    return {
      population: this.population.map((m) => ({ ...save(m), rank: m.rank, crowd: m.crowd === Infinity ? 'inf' : m.crowd })),
      offspring: this.offspring.map(save),
      archive: this.archive.map(save),
      seen: [...this.seen],
    };
  }

  protected loadState(s: Record<string, unknown>): void {
    if (!Array.isArray(s.population) || !Array.isArray(s.offspring) || !Array.isArray(s.archive) || !Array.isArray(s.seen)) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', 'ParetoEvolutionOptim: the state has no population', { fix: 'restore a state saved by ParetoEvolutionOptim' });
    }
    type Saved = { arch: Assignment; values: Array<number | string>; violation?: number | string; rank?: number; crowd?: number | string };
    const load = (m: Saved): ParetoMember => ({ arch: { ...m.arch }, values: m.values.map((v) => (v === '-inf' ? -Infinity : Number(v))), violation: m.violation === 'inf' ? Infinity : Number(m.violation ?? 0) });
    this.population = (s.population as Saved[]).map((m) => ({ ...load(m), rank: Number(m.rank), crowd: m.crowd === 'inf' ? Infinity : Number(m.crowd) }));
    this.offspring = (s.offspring as Saved[]).map(load);
    this.archive = (s.archive as Saved[]).map(load);
    this.seen.clear();
    for (const k of s.seen as string[]) this.seen.add(String(k));
  }
}

export const paretoEvolutionOptim = defineComponent({
  kind: 'optim',
  id: 'ParetoEvolutionOptim',
  aliases: ['NSGA2Optim', 'ParetoEvolution'],
  description: 'NSGA-II multi-objective evolution: non-dominated sorting and crowding distance over two or more objectives (e.g. accuracy and params)',
  schema: paretoEvolutionOptimSchema,
  create: (c, ctx) => new ParetoEvolutionOptim(ctx.space, componentRng(c.seed, ctx.rng), c),
});
