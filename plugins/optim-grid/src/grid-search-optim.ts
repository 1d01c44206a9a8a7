import type { ArchSpace, Assignment } from '@modnas/core';
import { ModnasError, Rng, defineComponent, z } from '@modnas/core';
import { CategoricalSpaceOptim } from '@modnas/kit-optim';

export const gridSearchOptimSchema = z.strictObject({});

/**
 * Grid search: walks the discrete space in mixed-radix order (the first param is the fastest
 * digit, ArchSpace.fromIndex), proposing every point exactly once; hasNext() is false at the end.
 */
export class GridSearchOptim extends CategoricalSpaceOptim {
  private counter = 0n;

  constructor(space: ArchSpace) {
    // No randomness: the stream exists only because the base class saves one.
    super('GridSearchOptim', space, new Rng(0));
  }

  override hasNext(): boolean {
    return this.counter < this.spaceSize();
  }

  next(n: number): Assignment[] {
    const out: Assignment[] = [];
    const size = this.spaceSize();
    while (out.length < n && this.counter < size) {
      out.push(this.space.fromIndex(this.counter));
      this.counter++;
    }
    return out;
  }

  /** Index of the next point to propose. */
  get position(): bigint {
    return this.counter;
  }

  protected saveState(): Record<string, unknown> {
    return { counter: this.counter.toString() };
  }

  protected loadState(s: Record<string, unknown>): void {
    if (typeof s.counter !== 'string' || !/^\d+$/.test(s.counter)) throw new ModnasError('MODNAS_E_OPTIM_STATE', 'GridSearchOptim: the state has no counter');
    this.counter = BigInt(s.counter);
  }
}

export const gridSearchOptim = defineComponent({
  kind: 'optim',
  id: 'GridSearchOptim',
  aliases: ['GridSearch'],
  description: 'Grid search: every point of the discrete space exactly once, in mixed-radix order',
  schema: gridSearchOptimSchema,
  create: (_c, ctx) => new GridSearchOptim(ctx.space),
});
