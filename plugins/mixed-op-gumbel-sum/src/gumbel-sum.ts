import type { TensorParam } from '@modnas/core';
import type { MixedOpCandidate } from '@modnas/kit-mixed-op';
import { ModnasError, Rng, tf, z } from '@modnas/core';
import { TensorMixedOp, defineTensorMixedOp, softmaxOf, tensorMixedOpConfigShape } from '@modnas/kit-mixed-op';

export const gumbelSumSchema = z.strictObject({
  ...tensorMixedOpConfigShape('t'),
  temperature: z
    .number()
    .positive()
    .default(1e5)
    .describe('Initial temperature τ of softmax((α + g) / τ); 1e5 (the original) gives near-uniform weights until an optimizer such as GumbelAnnealingOptim lowers it'),
  eval_noise: z.boolean().default(true).describe('Draw Gumbel noise in evaluation too (the original); false uses softmax(α / τ) there'),
  seed: z.number().int().nonnegative().nullable().default(null).describe('Seed of the Gumbel noise; null: derived from the experiment seed'),
});

const EPS = 1e-7;

export interface GumbelSumOptions {
  temperature: number;
  evalNoise: boolean;
  rng: Rng;
}

/**
 * SNAS: every candidate runs and the output is Σ w_i · op_i(x) with the Gumbel-softmax weights
 * w = softmax((α + g) / τ), g_i = -log(-log U_i), U_i ~ Uniform, drawn anew at every forward
 * from the op's own seeded stream. The exported choice is argmax α.
 */
export class GumbelSumOp extends TensorMixedOp {
  /** τ; GumbelAnnealingOptim lowers it over the search. */
  temperature: number;
  evalNoise: boolean;
  private readonly rng: Rng;
  private fixed: number[] | undefined;
  private noise: number[] | undefined;

  constructor(candidates: readonly MixedOpCandidate[], alpha: TensorParam, opts: GumbelSumOptions) {
    super(candidates, alpha);
    this.temperature = opts.temperature;
    this.evalNoise = opts.evalNoise;
    this.rng = opts.rng;
  }

  setTemperature(t: number): void {
    if (!(t > 0)) throw new ModnasError('MODNAS_E_MIXEDOP_TEMPERATURE', `GumbelSum: the temperature must be positive, got ${t}`);
    this.temperature = t;
  }

  /** Use these Gumbel samples at every forward instead of drawing (tests, common random numbers); null draws again. */
  setNoise(gumbels: readonly number[] | null): void {
    if (gumbels && gumbels.length !== this.numCandidates) {
      throw new ModnasError('MODNAS_E_MIXEDOP_NOISE', `GumbelSum: ${gumbels.length} noise values for ${this.numCandidates} candidates`);
    }
    this.fixed = gumbels ? [...gumbels] : undefined;
  }

  /** Draw g_i = -log(-log U_i) with U_i clamped to [1e-7, 1 - 1e-7]. */
  sampleNoise(): number[] {
    return Array.from({ length: this.numCandidates }, () => {
      const u = Math.min(Math.max(this.rng.next(), EPS), 1 - EPS);
      return -Math.log(-Math.log(u));
    });
  }

  /** The Gumbel noise of the last forward (zeros when it used none). */
  get lastNoise(): number[] | undefined {
    return this.noise ? [...this.noise] : undefined;
  }

  /** The mixing weights of the last forward, softmax((α + g) / τ) at the current α. */
  weights(): number[] {
    const a = this.alpha.toArray();
    const g = this.noise ?? a.map(() => 0);
    return softmaxOf(a.map((v, i) => (v + g[i]) / this.temperature));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const useNoise = this.training || this.evalNoise;
    const g = useNoise ? (this.fixed ?? this.sampleNoise()) : new Array<number>(this.numCandidates).fill(0);
    this.noise = g;
    const w = tf.softmax(tf.div(tf.add(this.alpha.variable, tf.tensor1d(g)), this.temperature));
    return this.weightedSum(
      this.candidates().map((c) => c.call(x)),
      w,
    );
  }

  override describe(): string {
    return `${super.describe()}; τ=${this.temperature}`;
  }
}

export const gumbelSum = defineTensorMixedOp({
  id: 'GumbelSum',
  aliases: ['GumbelSumMixedOp'],
  description: 'Sum of all candidate outputs weighted by the Gumbel softmax of alpha with a temperature, as in SNAS',
  schema: gumbelSumSchema,
  make(candidates, alpha, config, ctx) {
    const rng = config.seed === null ? ctx.rng.fork(0x6b) : new Rng(config.seed);
    return new GumbelSumOp(candidates, alpha, { temperature: config.temperature, evalNoise: config.eval_noise, rng });
  },
});
