/** A small seeded PRNG (mulberry32 over a splitmix32-mixed seed): deterministic runs for a given seed. */
export class Rng {
  private state: number;
  /** Generators forked from this one, in fork order (checkpoints save their states: family()). */
  private forks: Rng[] | undefined;

  constructor(seed = 0) {
    this.state = mix(seed >>> 0);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A new generator whose stream is independent of this one's future draws. */
  fork(salt = 0): Rng {
    const child = new Rng((this.int(0x7fffffff) ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0);
    (this.forks ??= []).push(child);
    return child;
  }

  /**
   * This generator and every one forked from it, depth first in fork order: a deterministic build
   * forks the same family, so a checkpoint can save and restore all of their states by position.
   */
  family(): Rng[] {
    const out: Rng[] = [this];
    for (const f of this.forks ?? []) out.push(...f.family());
    return out;
  }

  getState(): number {
    return this.state;
  }

  setState(s: number): void {
    this.state = s >>> 0;
  }
}

function mix(x: number): number {
  x = (x + 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

const SEED_KEY = Symbol.for('@modnas/core:tensor-seed');

/** The weight-initialiser stream, on the global object so that two copies of core share it. */
function tensorStream(): Rng {
  const g = globalThis as unknown as Record<symbol, Rng | undefined>;
  return (g[SEED_KEY] ??= new Rng(0x5eed));
}

/** Seed the stream that weight initialisers draw from (the runner sets it to the experiment seed). */
export function setTensorSeed(seed: number): void {
  (globalThis as unknown as Record<symbol, Rng>)[SEED_KEY] = new Rng(seed ^ 0x5eed);
}

/** A seed for the next tfjs random op (tf.randomNormal(..., seed)), so initialisation is reproducible. */
export function nextTensorSeed(): number {
  return tensorStream().int(0x7fffffff);
}

/** The state of the weight-initialiser stream (checkpoints save it). */
export function getTensorSeedState(): number {
  return tensorStream().getState();
}

export function setTensorSeedState(state: number): void {
  tensorStream().setState(state);
}
