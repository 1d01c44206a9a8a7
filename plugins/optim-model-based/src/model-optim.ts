import type { Assignment, DiscreteParam, Rng } from '@modnas/core';
import { ModnasError, looseName, z } from '@modnas/core';

/** What a model optimizer searches: a fitted score model's predictions (higher is better). */
export interface ScoreModel {
  predict(archs: Assignment[]): ArrayLike<number>;
}

/** The space a model optimizer walks, as its ModelBasedOptim sees it. */
export interface ModelOptimHost {
  params(): DiscreteParam[];
  readonly rng: Rng;
  /** A stable key of a point (the space's network key: equivalent architectures share it), the unit of `excludes`. */
  key(arch: Assignment): string;
  /** A uniform draw among the points whose key `taken` rejects; undefined when every point is taken. */
  randomUnseen(taken: (key: string) => boolean): Assignment | undefined;
}

/** Finds the best points of a score model that are not excluded (the original's ModelOptim). */
export interface ModelOptim {
  readonly name: string;
  /** Up to `size` distinct points outside `excludes`, best predicted first. */
  getOptimums(model: ScoreModel, size: number, excludes: ReadonlySet<string>): Assignment[];
  state(): Record<string, unknown>;
  restore(state: Record<string, unknown>): void;
}

export const randomSamplingModelOptimSchema = z.strictObject({
  n_iter: z.number().int().min(1).default(1000).describe('Random unvisited points scored by the model per search'),
});

export const simulatedAnnealingModelOptimSchema = z.strictObject({
  temp_init: z.number().positive().default(1e4).describe('Initial temperature, in units of the predicted score'),
  temp_end: z.number().positive().default(1e-4).describe('The walk stops once the temperature falls to this'),
  cool: z.number().positive().default(0.95).describe('Cooling: factor per iteration (cool_type exp, in (0, 1)) or amount subtracted (linear)'),
  cool_type: z.enum(['exp', 'linear']).default('exp').describe('exp: temp *= cool; linear: temp -= cool'),
  batch_size: z.number().int().min(1).default(128).describe('Parallel annealing chains'),
  n_iter: z.number().int().min(1).default(1).describe('Annealing runs per search (each continues from the chains of the last when keep_history)'),
  keep_history: z.boolean().default(true).describe('Start the next search from the chains where this one ended, instead of random points'),
});

/** Keep the `size` best distinct (key, score) pairs seen. */
class TopK {
  private readonly items = new Map<string, { arch: Assignment; score: number }>();
  constructor(private readonly size: number) {}

  offer(key: string, arch: Assignment, score: number): void {
    if (this.items.has(key) || !Number.isFinite(score)) return;
    if (this.items.size < this.size) {
      this.items.set(key, { arch, score });
      return;
    }
    let worstKey = '';
    let worst = Infinity;
    for (const [k, v] of this.items) {
      if (v.score < worst) {
        worst = v.score;
        worstKey = k;
      }
    }
    if (score > worst) {
      this.items.delete(worstKey);
      this.items.set(key, { arch, score });
    }
  }

  best(): Assignment[] {
    return [...this.items.values()].sort((a, b) => b.score - a.score).map((v) => v.arch);
  }
}

/**
 * RandomSamplingModelOptim: score `n_iter` random unvisited points with the model and keep the
 * best. The original draws with replacement; here the draws are distinct, so a repeat cannot take
 * two of the `size` slots.
 */
export class RandomSamplingModelOptim implements ModelOptim {
  readonly name = 'RandomSamplingModelOptim';

  constructor(
    private readonly host: ModelOptimHost,
    readonly config: z.output<typeof randomSamplingModelOptimSchema>,
  ) {}

  getOptimums(model: ScoreModel, size: number, excludes: ReadonlySet<string>): Assignment[] {
    const drawn = new Set<string>();
    const pts: Assignment[] = [];
    for (let i = 0; i < this.config.n_iter; i++) {
      const a = this.host.randomUnseen((k) => excludes.has(k) || drawn.has(k));
      if (!a) break;
      drawn.add(this.host.key(a));
      pts.push(a);
    }
    if (pts.length === 0) return [];
    const scores = model.predict(pts);
    const order = pts.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
    return order.slice(0, size).map((i) => pts[i]);
  }

  state(): Record<string, unknown> {
    return {};
  }

  restore(): void {}
}

/**
 * SimulatedAnnealingModelOptim: `batch_size` chains anneal over the model's predictions, each move
 * changing one param to another of its values, accepted with probability min(1, exp(Δ / T)); T goes
 * from temp_init down to temp_end. Every unvisited point met along the way competes for the `size`
 * best. With keep_history the next search starts from where the chains ended (so the chains are
 * part of the saved state).
 */
export class SimulatedAnnealingModelOptim implements ModelOptim {
  readonly name = 'SimulatedAnnealingModelOptim';
  private history?: Assignment[];

  constructor(
    private readonly host: ModelOptimHost,
    readonly config: z.output<typeof simulatedAnnealingModelOptimSchema>,
  ) {
    const c = config;
    if (c.temp_end >= c.temp_init) {
      throw new ModnasError('MODNAS_E_OPTIM_CONFIG', `SimulatedAnnealingModelOptim: temp_end (${c.temp_end}) must be below temp_init (${c.temp_init})`, {
        fix: 'lower model_optim_config.args.temp_end or raise temp_init',
        where: 'optim.model_optim_config.args',
      });
    }
    if (c.cool_type === 'exp' && c.cool >= 1) {
      throw new ModnasError('MODNAS_E_OPTIM_CONFIG', `SimulatedAnnealingModelOptim: cool ${c.cool} with cool_type exp never cools`, {
        fix: 'set model_optim_config.args.cool in (0, 1) (e.g. 0.95), or cool_type: linear',
        where: 'optim.model_optim_config.args.cool',
      });
    }
  }

  /** A copy of `arch` with one param (of more than one value) moved to another of its values. */
  private disturb(arch: Assignment): Assignment {
    const free = this.host.params().filter((p) => p.cardinality > 1);
    if (free.length === 0) return { ...arch };
    const p = free[this.host.rng.int(free.length)];
    const cur = p.indexOf(arch[p.name] ?? p.value);
    let k = this.host.rng.int(p.cardinality - 1);
    if (cur >= 0 && k >= cur) k++;
    return { ...arch, [p.name]: p.valueAt(k) };
  }

  getOptimums(model: ScoreModel, size: number, excludes: ReadonlySet<string>): Assignment[] {
    const top = new TopK(size);
    for (let i = 0; i < this.config.n_iter; i++) this.run(model, excludes, top);
    return top.best();
  }

  private run(model: ScoreModel, excludes: ReadonlySet<string>, top: TopK): void {
    const c = this.config;
    const { rng } = this.host;
    let chains: Assignment[];
    if (this.history) chains = this.history.map((a) => ({ ...a }));
    else {
      chains = [];
      for (let i = 0; i < c.batch_size; i++) {
        const a = this.host.randomUnseen((k) => excludes.has(k));
        if (!a) break;
        chains.push(a);
      }
    }
    if (chains.length === 0) return;
    const offer = (archs: Assignment[], scores: ArrayLike<number>): void => {
      archs.forEach((a, i) => {
        const key = this.host.key(a);
        if (!excludes.has(key)) top.offer(key, a, scores[i]);
      });
    };
    const scores = Float64Array.from(model.predict(chains));
    offer(chains, scores);
    let temp = c.temp_init;
    while (temp > c.temp_end) {
      const moved = chains.map((a) => this.disturb(a));
      const next = model.predict(moved);
      offer(moved, next);
      for (let i = 0; i < chains.length; i++) {
        const accept = Math.min(Math.exp((next[i] - scores[i]) / (temp + 1e-7)), 1);
        if (rng.next() < accept) {
          chains[i] = moved[i];
          scores[i] = next[i];
        }
      }
      temp = c.cool_type === 'exp' ? temp * c.cool : temp - c.cool;
    }
    if (c.keep_history) this.history = chains;
  }

  state(): Record<string, unknown> {
    return this.history ? { history: this.history.map((a) => ({ ...a })) } : {};
  }

  restore(s: Record<string, unknown>): void {
    this.history = Array.isArray(s.history) ? (s.history as Assignment[]).map((a) => ({ ...a })) : undefined;
  }
}

const MODEL_OPTIM_DEFS = {
  RandomSamplingModelOptim: { schema: randomSamplingModelOptimSchema, make: (h: ModelOptimHost, a: unknown) => new RandomSamplingModelOptim(h, randomSamplingModelOptimSchema.parse(a)) },
  SimulatedAnnealingModelOptim: {
    schema: simulatedAnnealingModelOptimSchema,
    make: (h: ModelOptimHost, a: unknown) => new SimulatedAnnealingModelOptim(h, simulatedAnnealingModelOptimSchema.parse(a)),
  },
} as const;

/** The model optimizers `model_optim_config` accepts (matched ignoring case, `_` and `-`). */
export const MODEL_OPTIMS = Object.keys(MODEL_OPTIM_DEFS) as Array<keyof typeof MODEL_OPTIM_DEFS>;

/** A `{ type, args }` (or bare type name) spec, as the original's registry specs. */
export const specSchema = z.union([z.string(), z.strictObject({ type: z.string().describe('Registered name'), args: z.record(z.string(), z.unknown()).default({}).describe('Constructor args') })]);
export type Spec = z.output<typeof specSchema>;

export function specParts(spec: Spec): { type: string; args: Record<string, unknown> } {
  return typeof spec === 'string' ? { type: spec, args: {} } : { type: spec.type, args: spec.args };
}

/** Build the model optimizer a spec names; a name or arg that does not fit throws, naming the key. */
export function buildModelOptim(spec: Spec, host: ModelOptimHost): ModelOptim {
  const { type, args } = specParts(spec);
  const name = MODEL_OPTIMS.find((n) => looseName(n) === looseName(type));
  if (!name) {
    throw new ModnasError('MODNAS_E_OPTIM_CONFIG', `ModelBasedOptim: unknown model optimizer "${type}"`, {
      fix: `set model_optim_config to one of ${MODEL_OPTIMS.join(', ')}`,
      where: 'optim.model_optim_config',
    });
  }
  const def = MODEL_OPTIM_DEFS[name];
  const parsed = def.schema.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModnasError('MODNAS_E_OPTIM_CONFIG', `ModelBasedOptim: model_optim_config.args.${issue.path.join('.') || '(args)'} of ${name}: ${issue.message}`, {
      fix: `${name} takes ${Object.keys(def.schema.shape).join(', ')}`,
      where: 'optim.model_optim_config.args',
    });
  }
  return def.make(host, parsed.data);
}
