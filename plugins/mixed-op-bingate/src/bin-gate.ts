import type { TensorParam } from '@modnas/core';
import type { MixedOpCandidate } from '@modnas/kit-mixed-op';
import { ModnasError, Rng, tf, z } from '@modnas/core';
import { TensorMixedOp, defineTensorMixedOp, tensorMixedOpConfigShape } from '@modnas/kit-mixed-op';

export const binGateSchema = z.strictObject({
  ...tensorMixedOpConfigShape('t'),
  n_samples: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe('Paths sampled (without replacement, outputs summed) per training forward while archGrad is off; with archGrad on one path is sampled'),
  eval_mode: z
    .enum(['argmax', 'sample'])
    .default('argmax')
    .describe('Evaluation forward: run the argmax-alpha candidate, or sample n_samples paths as in training (the original)'),
  seed: z.number().int().nonnegative().nullable().default(null).describe('Seed of the path sampling; null: derived from the experiment seed'),
});

export interface BinaryGateOptions {
  nSamples: number;
  evalMode: 'argmax' | 'sample';
  rng: Rng;
}

/** k distinct indices drawn one after another with probability proportional to `weights` (like torch.multinomial without replacement). */
export function drawWithoutReplacement(rng: Rng, weights: readonly number[], k: number): number[] {
  const w = [...weights];
  const out: number[] = [];
  for (let t = 0; t < k; t++) {
    const total = w.reduce((a, b) => a + b, 0);
    if (!(total > 0)) break;
    let r = rng.next() * total;
    let pick = -1;
    for (let i = 0; i < w.length; i++) {
      if (w[i] <= 0) continue;
      pick = i;
      r -= w[i];
      if (r < 0) break;
    }
    out.push(pick);
    w[pick] = 0;
  }
  return out;
}

/**
 * ProxylessNAS' binary gates. In training a forward samples a path from softmax(α) over the
 * active candidates and runs only that one; in evaluation it runs the argmax-α candidate.
 *
 * The gradient of α is ProxylessNAS' estimate through the binary gates g:
 *   dL/dα_i = Σ_j dL/dg_j · p_j (δ_ij − p_i),   dL/dg_j = Σ(dL/dy ⊙ o_j),
 * with p = softmax(α) restricted to the active candidates and o_j the output of candidate j (the
 * sampled one from the forward, the others recomputed on the saved input during backward).
 * It is attached with tf.customGrad to a zero-valued node whose only input is α, so
 * `tf.variableGrads(loss, [alpha])` yields it while weight-only gradients never pay for it.
 *
 * ProxylessNAS' two-path mode: an optimizer calls `sampleOps(2)` before the arch step (the
 * active set becomes two candidates drawn from softmax(α)), computes the loss, then `resetOps()`.
 */
export class BinaryGateOp extends TensorMixedOp {
  nSamples: number;
  evalMode: 'argmax' | 'sample';
  /**
   * Attach the gate gradient of α in training (default on; the original's `arch_param_grad`).
   * On, a training forward samples one path; off, it samples `nSamples` paths and α gets no
   * gradient. Unlike the original it defaults to on, since the gate costs nothing in weight steps.
   */
  archGrad = true;
  protected readonly rng: Rng;
  private active: number[];
  private sampled: number[] = [];

  constructor(candidates: readonly MixedOpCandidate[], alpha: TensorParam, opts: BinaryGateOptions) {
    super(candidates, alpha);
    this.nSamples = opts.nSamples;
    this.evalMode = opts.evalMode;
    this.rng = opts.rng;
    this.active = candidates.map((_, i) => i);
  }

  /** Candidate indices that the next forwards sample from and whose α get gradients. */
  get activeOps(): number[] {
    return [...this.active];
  }

  /** Candidate indices the last forward ran. */
  get sampledPaths(): number[] {
    return [...this.sampled];
  }

  override get sampledIndex(): number | undefined {
    return this.sampled.length === 1 ? this.sampled[0] : undefined;
  }

  /** Restrict the active candidates to n drawn without replacement from softmax(α) (ProxylessNAS: n = 2). */
  sampleOps(n = 2): number[] {
    this.active = this.drawActive(Math.min(Math.max(1, n), this.numCandidates));
    return this.activeOps;
  }

  /** Make every candidate active again. */
  resetOps(): void {
    this.active = this.candidates().map((_, i) => i);
  }

  /** softmax(α) over the active candidates, in `activeOps` order. */
  activeProbs(): number[] {
    const a = this.alpha.toArray();
    const e = this.active.map((i) => a[i]);
    const m = Math.max(...e);
    const x = e.map((v) => Math.exp(v - m));
    const s = x.reduce((p, q) => p + q, 0);
    return x.map((v) => v / s);
  }

  /** Draw the k candidates `sampleOps` makes active. */
  protected drawActive(k: number): number[] {
    return drawWithoutReplacement(this.rng, this.probs(), k);
  }

  /** Draw k paths among the active candidates; returns candidate indices. */
  protected drawPaths(k: number, activeProbs: readonly number[]): number[] {
    return drawWithoutReplacement(this.rng, activeProbs, k).map((pos) => this.active[pos]);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const cands = this.candidates();
    if (!this.training && this.evalMode === 'argmax') {
      const i = this.chosenIndex();
      this.sampled = [i];
      return cands[i].call(x);
    }
    const w = this.activeProbs();
    if (!w.every(Number.isFinite)) {
      throw new ModnasError('MODNAS_E_TRAIN_DIVERGED', `arch param "${this.alpha.name}" is no longer finite (${this.alpha.toArray().join(', ')}): the search diverged, so no path can be sampled`, {
        fix: 'lower the search optimizer\'s learning rate (optim.lr) and the weights\' (trainer.lr), and check that the data are finite and normalised',
        where: this.alpha.name,
      });
    }
    const gated = this.training && this.archGrad;
    const paths = this.drawPaths(gated ? 1 : Math.min(this.nSamples, this.active.length), w);
    this.sampled = paths;
    const outs = paths.map((i) => cands[i].call(x));
    const y = outs.length === 1 ? outs[0] : tf.addN(outs);
    return gated ? tf.add(y, this.gate(x, paths, outs, w)) : y;
  }

  /** A zero tensor shaped like the output whose gradient w.r.t. α is the binary-gate estimate. */
  private gate(x: tf.Tensor, paths: readonly number[], outs: readonly tf.Tensor[], w: readonly number[]): tf.Tensor {
    const active = [...this.active];
    const cands = this.candidates();
    const n = this.numCandidates;
    const shape = outs[0].shape;
    const fn = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const save = args[1] as tf.GradSaveFunc;
      save([x, ...outs]);
      return {
        value: tf.zeros(shape),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ...os] = saved;
          const dg = tf.stack(
            active.map((j) => {
              const at = paths.indexOf(j);
              return tf.sum(tf.mul(dy, at >= 0 ? os[at] : cands[j].call(xs)));
            }),
          );
          const p = tf.tensor1d([...w]);
          // p_i (dL/dg_i − Σ_j p_j dL/dg_j), then scattered from active positions to all candidates.
          const da = tf.mul(p, tf.sub(dg, tf.sum(tf.mul(p, dg))));
          const toAll = tf.tensor2d(
            Array.from({ length: n }, (_, i) => active.map((j) => (j === i ? 1 : 0))),
            [n, active.length],
          );
          return [tf.reshape(tf.matMul(toAll, tf.reshape(da, [-1, 1])), [n])];
        },
      };
    });
    return fn(this.alpha.variable);
  }
}

export function binaryGateOptions(config: z.output<typeof binGateSchema>, ctxRng: Rng): BinaryGateOptions {
  return { nSamples: config.n_samples, evalMode: config.eval_mode, rng: config.seed === null ? ctxRng.fork(0xb6) : new Rng(config.seed) };
}

/** A BinGate component (BinGate and its uniform variant: the same config, another op class). */
export function defineBinGate(id: string, alias: string, description: string, Op: typeof BinaryGateOp) {
  return defineTensorMixedOp({
    id,
    aliases: [alias],
    description,
    schema: binGateSchema,
    make: (candidates, alpha, config, ctx) => new Op(candidates, alpha, binaryGateOptions(config, ctx.rng)),
  });
}

export const binGate = defineBinGate('BinGate', 'BinaryGateMixedOp', 'Binary gates as in ProxylessNAS: samples one path from softmax(alpha) in training, argmax in evaluation; alpha gets the binary-gate gradient', BinaryGateOp);
