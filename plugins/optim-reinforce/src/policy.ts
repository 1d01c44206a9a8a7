/**
 * A factorised categorical policy in plain numbers: one vector of logits per param, actions drawn
 * independently from softmax(logits). Small enough that tensors would only add overhead.
 */
export function softmax(logits: readonly number[]): number[] {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** ∂ log softmax(θ)[a] / ∂θ = onehot(a) − softmax(θ). */
export function gradLogProb(logits: readonly number[], action: number): number[] {
  const p = softmax(logits);
  return p.map((pk, k) => (k === action ? 1 : 0) - pk);
}

/** Draw an index from a probability vector with one uniform number u in [0, 1). */
export function sampleIndex(probs: readonly number[], u: number): number {
  let acc = 0;
  for (let k = 0; k < probs.length; k++) {
    acc += probs[k];
    if (u < acc) return k;
  }
  return probs.length - 1;
}

/**
 * The bias-corrected exponential moving average of NAS-Bench-201's REINFORCE baseline:
 * num ← m·num + (1−m)·x, den ← m·den + (1−m), value = num/den (so the first value is x itself).
 */
export class ExponentialMovingAverage {
  num = 0;
  den = 0;
  constructor(readonly momentum: number) {}

  update(x: number): void {
    this.num = this.momentum * this.num + (1 - this.momentum) * x;
    this.den = this.momentum * this.den + (1 - this.momentum);
  }

  get value(): number {
    return this.den === 0 ? 0 : this.num / this.den;
  }
}

export interface FlatOptimizerState {
  t: number;
  m: number[][];
  v: number[][];
}

/**
 * Adam (Kingma & Ba, PyTorch's defaults β=(0.9, 0.999), ε=1e-8) or plain SGD over a list of
 * number vectors, minimising: θ ← θ − lr·update(g).
 */
export class FlatOptimizer {
  t = 0;
  m: number[][];
  v: number[][];

  constructor(
    readonly kind: 'adam' | 'sgd',
    readonly lr: number,
    shapes: readonly number[],
    readonly betas: [number, number] = [0.9, 0.999],
    readonly eps = 1e-8,
  ) {
    this.m = shapes.map((n) => new Array<number>(n).fill(0));
    this.v = shapes.map((n) => new Array<number>(n).fill(0));
  }

  apply(params: number[][], grads: readonly (readonly number[])[]): void {
    if (this.kind === 'sgd') {
      params.forEach((p, i) => p.forEach((_, k) => (p[k] -= this.lr * grads[i][k])));
      return;
    }
    this.t++;
    const [b1, b2] = this.betas;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    params.forEach((p, i) => {
      const m = this.m[i];
      const v = this.v[i];
      for (let k = 0; k < p.length; k++) {
        const g = grads[i][k];
        m[k] = b1 * m[k] + (1 - b1) * g;
        v[k] = b2 * v[k] + (1 - b2) * g * g;
        // PyTorch's form: lr / c1 · m / (sqrt(v) / sqrt(c2) + ε)
        p[k] -= (this.lr / c1) * (m[k] / (Math.sqrt(v[k]) / Math.sqrt(c2) + this.eps));
      }
    });
  }

  state(): FlatOptimizerState {
    return { t: this.t, m: this.m.map((r) => [...r]), v: this.v.map((r) => [...r]) };
  }

  load(s: FlatOptimizerState): void {
    this.t = s.t;
    this.m = s.m.map((r) => [...r]);
    this.v = s.v.map((r) => [...r]);
  }
}
