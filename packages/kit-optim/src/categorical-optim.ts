import { ModnasError, Rng } from '@modnas/core';
import type { SearchFeedback, SearchOptimizer, ArchSpace, Assignment, DiscreteParam } from '@modnas/core';

/**
 * The random stream of a seeded component: its config `seed` mixed with one draw from the
 * experiment's stream, so a run is reproducible from (experiment seed, component seed) and two
 * components with the same config seed still draw different numbers.
 */
export function componentRng(seed: number, parent?: Rng): Rng {
  const base = parent ? parent.int(0x7fffffff) : 0;
  return new Rng((Math.imul((seed >>> 0) + 1, 0x9e3779b1) ^ base) >>> 0);
}

/**
 * Base of the search optimizers Ω over the discrete (categorical) arch params: random, grid,
 * evolution, REINFORCE. Reads the params lazily at first use (the runner builds the optimizer
 * after the search space, but a test may build it first), owns a seeded stream, and saves that
 * stream with the subclass state so a restored optimizer continues exactly where it stopped.
 * Numeric and tensor params are left alone.
 */
export abstract class CategoricalSpaceOptim implements SearchOptimizer {
  protected readonly rng: Rng;
  private cached?: DiscreteParam[];
  private cachedSize?: bigint;

  /**
   * @param name the optimizer's registry id, for messages and saved states (class names do not
   *   survive bundling reliably)
   */
  constructor(
    readonly name: string,
    protected readonly space: ArchSpace,
    rng: Rng,
  ) {
    this.rng = rng;
  }

  /** The discrete params in creation order (the digits of the space's mixed-radix index). */
  protected get params(): DiscreteParam[] {
    if (!this.cached) {
      const ps = this.space.discrete();
      if (ps.length === 0) {
        throw new ModnasError('MODNAS_E_OPTIM_SPACE', `${this.name}: the search space has no discrete arch params to search`, {
          fix: 'define a space of categorical params (e.g. space: { type: NASBench201Space }), or construct a supernet with a discrete mixed op such as IndexMixedOp',
        });
      }
      this.cached = ps;
    }
    return this.cached;
  }

  /** Number of points of the discrete space. */
  protected spaceSize(): bigint {
    return (this.cachedSize ??= this.params.reduce((acc, p) => acc * BigInt(p.cardinality), 1n));
  }

  /** A uniformly random point: one uniform draw per param. */
  protected randomArch(): Assignment {
    const out: Assignment = {};
    for (const p of this.params) out[p.name] = p.valueAt(this.rng.int(p.cardinality));
    return out;
  }

  /**
   * A uniform draw among the networks that `taken` does not hold (keys: the space's networkKey):
   * rejection sampling, then a scan from a random point once draws keep hitting taken ones;
   * undefined when every network is taken.
   */
  protected randomUnseen(taken: (key: string) => boolean): Assignment | undefined {
    for (let t = 0; t < 64; t++) {
      const a = this.randomArch();
      if (!taken(this.space.networkKey(a))) return a;
    }
    const size = Number(this.spaceSize());
    const start = this.rng.int(size);
    for (let i = 0; i < size; i++) {
      const a = this.space.fromIndex((start + i) % size);
      if (!taken(this.space.networkKey(a))) return a;
    }
    return undefined;
  }

  /** A stable key of a point (its mixed-radix index), for visited sets and population lookups. */
  protected keyOf(arch: Assignment): string {
    let index = 0n;
    let radix = 1n;
    for (const p of this.params) {
      const k = p.indexOf(arch[p.name] ?? p.value);
      if (k < 0) throw new ModnasError('MODNAS_E_PARAM_VALUE', `arch param "${p.name}" has no value ${JSON.stringify(arch[p.name])}`);
      index += BigInt(k) * radix;
      radix *= BigInt(p.cardinality);
    }
    return index.toString();
  }

  hasNext(): boolean {
    return true;
  }

  abstract next(n: number): Assignment[];

  step(_feedback: SearchFeedback): void | Promise<void> {}

  /** The subclass's state: plain JSON (numbers, strings, arrays, objects). */
  protected abstract saveState(): Record<string, unknown>;
  protected abstract loadState(state: Record<string, unknown>): void;

  state(): unknown {
    return { type: this.name, rng: this.rng.getState(), ...this.saveState() };
  }

  restore(state: unknown): void {
    const s = state as { type?: unknown; rng?: unknown } | null;
    if (!s || typeof s !== 'object' || typeof s.rng !== 'number') {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', `${this.name}: cannot restore from ${JSON.stringify(state)?.slice(0, 80)}`, {
        fix: 'pass what state() of the same optimizer returned',
      });
    }
    if (s.type !== undefined && s.type !== this.name) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', `${this.name}: the state was saved by ${String(s.type)}`, {
        fix: 'restore a state saved by the same optimizer type',
      });
    }
    this.rng.setState(s.rng);
    this.loadState(s);
  }
}
