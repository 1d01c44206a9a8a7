import type { ArchSpace, Assignment, Rng, SearchFeedback, TrialResult } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { CategoricalSpaceOptim, componentRng, latencyConstraintFields, latencyViolation } from '@modnas/kit-optim';

export const localSearchOptimSchema = z.strictObject({
  num_init: z.number().int().min(1).default(10).describe('Random architectures evaluated first; the climb starts from the best of them'),
  move: z
    .enum(['first', 'best'])
    .default('first')
    .describe('first: move to the first neighbour (in random order) that beats the current architecture; best: evaluate the whole neighbourhood, then move to its best'),
  restart_init: z.number().int().min(1).default(1).describe('Random architectures evaluated at a restart (when no neighbour improves); the climb restarts from the best of them'),
  ...latencyConstraintFields,
  seed: z.number().int().nonnegative().default(0).describe("Seed of the draws, mixed with the experiment's seed"),
});
export type LocalSearchConfig = z.output<typeof localSearchOptimSchema>;

interface Scored {
  arch: Assignment;
  score: number;
}

type Phase = 'start' | 'climb';

/**
 * Local search (White, Nolen, Ru & Zela, "Local search is state of the art for NAS benchmarks",
 * 2020): evaluate `num_init` random architectures and start from the best; evaluate the one-edit
 * neighbourhood of the current architecture (every param set to each of its other values) in
 * random order and move to the first neighbour that scores higher (or, with move: best, to the
 * best of the whole neighbourhood); at a local optimum restart from random architectures.
 * No network is proposed twice: a neighbour evaluated earlier, or equivalent to one evaluated
 * earlier (the space's networkKey: NAS-Bench-201's dead edges ...), is judged by its known score.
 * With latency_max_ms, an architecture over the limit counts as the worst: the climb never moves
 * to it and never starts from it (a (re)start keeps drawing until one of its draws is feasible).
 */
export class LocalSearchOptim extends CategoricalSpaceOptim {
  /** network key -> score of every evaluated architecture; null while its result is outstanding. */
  private seen = new Map<string, number | null>();
  private phase: Phase = 'start';
  private initLeft: number;
  /** Evaluated draws of the current (re)start. */
  private pool: Scored[] = [];
  private current?: Scored;
  /** Unseen neighbours of `current` still to propose, in proposal order. */
  private queue: Assignment[] = [];
  /** Keys of the neighbours of `current` (to tell its results from stale ones). */
  private neighbours = new Set<string>();
  /** move: best — the best neighbour of `current` evaluated so far. */
  private bestNeighbour?: Scored;
  /** Number of local optima reached (restarts). */
  private restarts = 0;

  constructor(
    space: ArchSpace,
    rng: Rng,
    readonly config: LocalSearchConfig,
  ) {
    super('LocalSearchOptim', space, rng);
    this.initLeft = config.num_init;
  }

  /** Set when a scan of the whole space found no network left to propose. */
  private exhausted = false;

  override hasNext(): boolean {
    return !this.exhausted && BigInt(this.seen.size) < this.spaceSize();
  }

  /** The architecture the climb stands on (undefined during a (re)start), and the local optima reached so far. */
  position(): { current?: Scored; restarts: number } {
    return { current: this.current && { arch: { ...this.current.arch }, score: this.current.score }, restarts: this.restarts };
  }

  /** Whether a result satisfies latency_max_ms (always without one); throws MODNAS_E_OPTIM_CONSTRAINT when it lacks the metric. */
  isFeasible(result: TrialResult): boolean {
    return latencyViolation(result, this.config, this.name) === 0;
  }

  next(n: number): Assignment[] {
    const out: Assignment[] = [];
    while (out.length < n && this.hasNext()) {
      const arch = this.proposal();
      if (!arch) break;
      this.seen.set(this.space.networkKey(arch), null);
      out.push(arch);
    }
    return out;
  }

  private proposal(): Assignment | undefined {
    if (this.phase === 'climb') {
      const queued = this.nextQueued();
      if (queued) return queued;
      // Neighbourhood exhausted. With every result in, this is a local optimum (or, for move:
      // best, the move); with results outstanding (batched or parallel evaluation) a random
      // draw keeps the evaluator busy and joins the next start's pool.
      if (!this.outstanding()) {
        this.finishNeighbourhood();
        const after = this.phase === 'climb' ? this.nextQueued() : undefined;
        if (after) return after;
      }
      if (this.phase === 'climb') return this.drawUnseen();
    }
    if (this.initLeft > 0) this.initLeft--;
    return this.drawUnseen();
  }

  /** The next queued neighbour whose network is still unseen (a random draw may have met it meanwhile). */
  private nextQueued(): Assignment | undefined {
    for (let a = this.queue.shift(); a; a = this.queue.shift()) if (!this.seen.has(this.space.networkKey(a))) return a;
    return undefined;
  }

  /** Whether some proposed architecture has no result yet. */
  private outstanding(): boolean {
    for (const s of this.seen.values()) if (s === null) return true;
    return false;
  }

  override step(feedback: SearchFeedback): void {
    for (const r of feedback.results) {
      const key = this.space.networkKey(r.arch);
      const feasible = this.isFeasible(r);
      // an infeasible network is known as the worst, so a later neighbourhood never moves to it
      const score = Number.isFinite(r.score) && feasible ? r.score : -Infinity;
      this.seen.set(key, score);
      const item = { arch: { ...r.arch }, score };
      if (this.phase === 'start') {
        if (feasible) this.pool.push(item);
        // with no feasible draw yet the start goes on: proposal() keeps drawing
        if (this.initLeft === 0 && !this.outstanding() && this.pool.length > 0) {
          let best = this.pool[0];
          for (const p of this.pool) if (p.score > best.score) best = p;
          this.pool = [];
          this.moveTo(best);
        }
      } else if (this.neighbours.has(key)) {
        if (!feasible) continue;
        if (this.config.move === 'first') {
          if (score > this.current!.score) this.moveTo(item);
        } else if (!this.bestNeighbour || score > this.bestNeighbour.score) {
          this.bestNeighbour = item;
        }
      } else if (feasible && (!this.current || score > this.current.score)) {
        // a random draw made while results were outstanding: keep it for a restart's pool
        this.pool.push(item);
      }
    }
    if (this.phase === 'climb' && this.queue.length === 0 && !this.outstanding()) this.finishNeighbourhood();
  }

  /** The neighbourhood of `current` is evaluated: move to its best (move: best) or restart. */
  private finishNeighbourhood(): void {
    const b = this.bestNeighbour;
    if (this.config.move === 'best' && b && b.score > this.current!.score) {
      this.moveTo(b);
      return;
    }
    this.restarts++;
    this.current = undefined;
    this.neighbours.clear();
    this.bestNeighbour = undefined;
    const kept = this.pool;
    this.pool = [];
    this.phase = 'start';
    this.initLeft = this.config.restart_init;
    // draws made while results were outstanding count towards the restart
    for (const p of kept) {
      if (this.initLeft > 0) {
        this.initLeft--;
        this.pool.push(p);
      }
    }
    if (this.initLeft === 0 && this.pool.length > 0) {
      let best = this.pool[0];
      for (const p of this.pool) if (p.score > best.score) best = p;
      this.pool = [];
      this.moveTo(best);
    }
  }

  /** Stand on `c` and queue its unseen neighbours in random order; a known better neighbour (move: first) is moved to at once. */
  private moveTo(c: Scored): void {
    for (;;) {
      this.phase = 'climb';
      this.current = c;
      this.bestNeighbour = undefined;
      const nbrs = this.shuffle(this.neighboursOf(c.arch));
      this.neighbours = new Set(nbrs.map((a) => this.space.networkKey(a)));
      this.queue = [];
      let jump: Scored | undefined;
      const queued = new Set<string>();
      for (const a of nbrs) {
        const key = this.space.networkKey(a);
        const s = this.seen.get(key);
        if (s === undefined) {
          // neighbours that are the same network are one proposal
          if (!queued.has(key)) this.queue.push(a);
          queued.add(key);
        } else if (s !== null && s > c.score) {
          if (this.config.move === 'first') {
            jump = { arch: a, score: s };
            break;
          }
          if (!this.bestNeighbour || s > this.bestNeighbour.score) this.bestNeighbour = { arch: a, score: s };
        }
      }
      if (!jump) return;
      c = jump;
    }
  }

  /** Every architecture one param away from `arch`, in param then value order. */
  private neighboursOf(arch: Assignment): Assignment[] {
    const out: Assignment[] = [];
    for (const p of this.params) {
      const cur = p.indexOf(arch[p.name] ?? p.value);
      for (let k = 0; k < p.cardinality; k++) if (k !== cur) out.push({ ...arch, [p.name]: p.valueAt(k) });
    }
    return out;
  }

  private shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }

  /** A uniform draw among the networks never proposed; none left ends the search. */
  private drawUnseen(): Assignment | undefined {
    const a = this.randomUnseen((k) => this.seen.has(k));
    if (!a) this.exhausted = true;
    return a;
  }

  protected saveState(): Record<string, unknown> {
    return {
      seen: [...this.seen.entries()].map(([k, s]) => [k, s === -Infinity ? '-inf' : s]),
      phase: this.phase,
      initLeft: this.initLeft,
      pool: this.pool.map(save),
      current: this.current ? save(this.current) : null,
      queue: this.queue.map((a) => ({ ...a })),
      neighbours: [...this.neighbours],
      bestNeighbour: this.bestNeighbour ? save(this.bestNeighbour) : null,
      restarts: this.restarts,
    };
  }

  protected loadState(s: Record<string, unknown>): void {
    if (!Array.isArray(s.seen) || (s.phase !== 'start' && s.phase !== 'climb') || !Array.isArray(s.queue) || !Array.isArray(s.pool)) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', 'LocalSearchOptim: the state has no search position', { fix: 'restore a state saved by LocalSearchOptim' });
    }
    this.seen = new Map((s.seen as Array<[string, number | string | null]>).map(([k, v]) => [String(k), v === '-inf' ? -Infinity : v === null ? null : Number(v)]));
    this.phase = s.phase;
    this.initLeft = Number(s.initLeft);
    this.pool = (s.pool as SavedScored[]).map(load);
    this.current = s.current ? load(s.current as SavedScored) : undefined;
    this.queue = (s.queue as Assignment[]).map((a) => ({ ...a }));
    this.neighbours = new Set((s.neighbours as string[] | undefined) ?? []);
    this.bestNeighbour = s.bestNeighbour ? load(s.bestNeighbour as SavedScored) : undefined;
    this.restarts = Number(s.restarts ?? 0);
  }
}

interface SavedScored {
  arch: Assignment;
  score: number | string;
}
const save = (x: Scored): SavedScored => ({ arch: { ...x.arch }, score: x.score === -Infinity ? '-inf' : x.score });
const load = (x: SavedScored): Scored => ({ arch: { ...x.arch }, score: x.score === '-inf' ? -Infinity : Number(x.score) });

export const localSearchOptim = defineComponent({
  kind: 'optim',
  id: 'LocalSearchOptim',
  aliases: ['LocalSearch'],
  description: 'Local search: climb the one-edit neighbourhood from the best of a few random architectures, first improvement, restart at a local optimum',
  schema: localSearchOptimSchema,
  create: (c, ctx) => new LocalSearchOptim(ctx.space, componentRng(c.seed, ctx.rng), c),
});
