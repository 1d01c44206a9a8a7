import type { ArchSpace, Assignment, Rng } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { CategoricalSpaceOptim, componentRng } from '@modnas/kit-optim';

export const randomSearchOptimSchema = z.strictObject({
  seed: z.number().int().nonnegative().default(0).describe("Seed of the draws, mixed with the experiment's seed"),
});

/** Enumerate the unvisited points instead of rejection sampling once the space is this full. */
const DENSE_FRACTION = 0.5;
/** Largest space whose unvisited points are enumerated (beyond it only rejection sampling is used). */
const MAX_ENUMERATED = 1 << 22;

/**
 * Random search: uniform draws from the discrete space without repeats (as the original's
 * RandomSearchOptim: a drawn point is marked visited when proposed), until every point was proposed.
 */
export class RandomSearchOptim extends CategoricalSpaceOptim {
  private readonly visited = new Set<string>();
  /** Unvisited indices, ascending, once the space is dense with visited points. */
  private free?: number[];

  constructor(space: ArchSpace, rng: Rng) {
    super('RandomSearchOptim', space, rng);
  }

  override hasNext(): boolean {
    return BigInt(this.visited.size) < this.spaceSize();
  }

  next(n: number): Assignment[] {
    const out: Assignment[] = [];
    while (out.length < n && this.hasNext()) out.push(this.draw());
    return out;
  }

  private draw(): Assignment {
    const size = this.spaceSize();
    if (!this.free && size <= BigInt(MAX_ENUMERATED) && this.visited.size >= Number(size) * DENSE_FRACTION) {
      // Dense from here on: draw among the unvisited points, kept sorted so that a restored
      // optimizer (which rebuilds the list) draws the same points.
      this.free = [];
      for (let i = 0; i < Number(size); i++) if (!this.visited.has(String(i))) this.free.push(i);
    }
    if (this.free) {
      if (this.free.length === 0) throw new ModnasError('MODNAS_E_OPTIM_EXHAUSTED', 'RandomSearchOptim: every point of the space was proposed', { fix: 'check hasNext() before next()' });
      const [index] = this.free.splice(this.rng.int(this.free.length), 1);
      this.visited.add(String(index));
      return this.space.fromIndex(index);
    }
    // Rejection sampling: while at most half the space is visited, a draw succeeds with p >= 1/2.
    for (;;) {
      const arch = this.randomArch();
      const key = this.keyOf(arch);
      if (!this.visited.has(key)) {
        this.visited.add(key);
        return arch;
      }
    }
  }

  protected saveState(): Record<string, unknown> {
    return { visited: [...this.visited] };
  }

  protected loadState(s: Record<string, unknown>): void {
    if (!Array.isArray(s.visited)) throw new ModnasError('MODNAS_E_OPTIM_STATE', 'RandomSearchOptim: the state has no visited list');
    this.visited.clear();
    this.free = undefined;
    for (const k of s.visited) this.visited.add(String(k));
  }
}

export const randomSearchOptim = defineComponent({
  kind: 'optim',
  id: 'RandomSearchOptim',
  aliases: ['Random'],
  description: 'Random search over the discrete arch params, without repeats while the space allows',
  schema: randomSearchOptimSchema,
  create: (c, ctx) => new RandomSearchOptim(ctx.space, componentRng(c.seed, ctx.rng)),
});
