import type { ArchSpace, Assignment, DiscreteParam, Rng, SearchFeedback } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { CategoricalSpaceOptim, componentRng } from '@modnas/kit-optim';
import type { FlatOptimizerState } from './policy.js';
import { ExponentialMovingAverage, FlatOptimizer, gradLogProb, sampleIndex, softmax } from './policy.js';

export const reinforceOptimSchema = z.strictObject({
  lr: z.number().positive().default(0.01).describe('Learning rate of the policy (NAS-Bench-201: 0.01)'),
  optimizer: z.enum(['adam', 'sgd']).default('adam').describe('Update rule of the policy logits: adam (β 0.9/0.999, ε 1e-8) or sgd'),
  ema_momentum: z.number().min(0).lt(1).default(0.9).describe('Momentum of the moving-average reward baseline (NAS-Bench-201: 0.9)'),
  batch_size: z.number().int().min(1).default(1).describe('Results averaged into one policy update (1: update after every result)'),
  init_std: z.number().nonnegative().default(1e-3).describe('Std of the random initial logits'),
  seed: z.number().int().nonnegative().default(0).describe("Seed of the initial logits and the draws, mixed with the experiment's seed"),
});
export type REINFORCEConfig = z.output<typeof reinforceOptimSchema>;

interface Pending {
  grads: number[][];
  count: number;
}

/**
 * REINFORCE (Williams 1992) over the discrete params, as NAS-Bench-201's baseline and
 * ProxylessNAS-R: a policy of independent softmax logits per param; after each result,
 * baseline ← EMA(score) and logits ← logits + lr·Adam((score − baseline)·∇ log π(arch)).
 */
export class REINFORCEOptim extends CategoricalSpaceOptim {
  private logits?: number[][];
  private opt?: FlatOptimizer;
  private readonly baseline: ExponentialMovingAverage;
  private pending?: Pending;
  private names: string[] = [];

  constructor(
    space: ArchSpace,
    rng: Rng,
    readonly config: REINFORCEConfig,
  ) {
    super('REINFORCEOptim', space, rng);
    this.baseline = new ExponentialMovingAverage(config.ema_momentum);
  }

  /** Create the logits on first use (the space is complete by then). */
  private init(): number[][] {
    if (!this.logits) {
      const ps = this.params;
      this.names = ps.map((p) => p.name);
      this.logits = ps.map((p) => Array.from({ length: p.cardinality }, () => this.config.init_std * this.rng.normal()));
      this.opt = new FlatOptimizer(this.config.optimizer, this.config.lr, ps.map((p) => p.cardinality));
    }
    return this.logits;
  }

  /** Current action probabilities per param, by param name. */
  probabilities(): Record<string, number[]> {
    const logits = this.init();
    return Object.fromEntries(this.names.map((n, i) => [n, softmax(logits[i])]));
  }

  next(n: number): Assignment[] {
    const logits = this.init();
    const ps = this.params;
    const probs = logits.map((l) => softmax(l));
    return Array.from({ length: n }, () => {
      const a: Assignment = {};
      ps.forEach((p, i) => (a[p.name] = p.valueAt(sampleIndex(probs[i], this.rng.next()))));
      return a;
    });
  }

  override step(feedback: SearchFeedback): void {
    const logits = this.init();
    const ps = this.params;
    for (const r of feedback.results) {
      if (!Number.isFinite(r.score)) continue;
      this.baseline.update(r.score);
      const advantage = r.score - this.baseline.value;
      const pending = (this.pending ??= { grads: logits.map((l) => new Array<number>(l.length).fill(0)), count: 0 });
      ps.forEach((p: DiscreteParam, i) => {
        const a = p.indexOf(r.arch[p.name] ?? p.value);
        if (a < 0) throw new ModnasError('MODNAS_E_PARAM_VALUE', `REINFORCEOptim: arch param "${p.name}" has no value ${JSON.stringify(r.arch[p.name])}`);
        // loss = −advantage·log π(a): its gradient is −advantage·(onehot(a) − π)
        gradLogProb(logits[i], a).forEach((g, k) => (pending.grads[i][k] -= advantage * g));
      });
      pending.count++;
      if (pending.count >= this.config.batch_size) {
        this.opt!.apply(
          logits,
          pending.grads.map((g) => g.map((x) => x / pending.count)),
        );
        this.pending = undefined;
      }
    }
  }

  protected saveState(): Record<string, unknown> {
    return {
      names: [...this.names],
      logits: this.logits?.map((l) => [...l]) ?? null,
      optimizer: this.opt?.state() ?? null,
      baseline: { num: this.baseline.num, den: this.baseline.den },
      pending: this.pending ? { grads: this.pending.grads.map((g) => [...g]), count: this.pending.count } : null,
    };
  }

  protected loadState(s: Record<string, unknown>): void {
    const b = s.baseline as { num?: unknown; den?: unknown } | undefined;
    if (!b || typeof b.num !== 'number' || typeof b.den !== 'number' || !('logits' in s)) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', 'REINFORCEOptim: the state has no policy', { fix: 'restore a state saved by REINFORCEOptim' });
    }
    this.baseline.num = b.num;
    this.baseline.den = b.den;
    if (s.logits === null) {
      this.logits = undefined;
      this.opt = undefined;
    } else {
      this.logits = (s.logits as number[][]).map((l) => [...l]);
      this.names = [...(s.names as string[])];
      this.opt = new FlatOptimizer(this.config.optimizer, this.config.lr, this.logits.map((l) => l.length));
      if (s.optimizer) this.opt.load(s.optimizer as FlatOptimizerState);
      const expected = this.params.map((p) => p.name);
      if (expected.join('\u0000') !== this.names.join('\u0000')) {
        throw new ModnasError('MODNAS_E_OPTIM_STATE', `REINFORCEOptim: the state is for params [${this.names.join(', ')}], the space has [${expected.join(', ')}]`);
      }
    }
    const p = s.pending as Pending | null;
    this.pending = p ? { grads: p.grads.map((g) => [...g]), count: p.count } : undefined;
  }
}

export const reinforceOptim = defineComponent({
  kind: 'optim',
  id: 'REINFORCEOptim',
  aliases: ['REINFORCE'],
  description: 'REINFORCE policy gradient over the discrete params: independent softmax logits per param, moving-average baseline',
  schema: reinforceOptimSchema,
  create: (c, ctx) => new REINFORCEOptim(ctx.space, componentRng(c.seed, ctx.rng), c),
});
