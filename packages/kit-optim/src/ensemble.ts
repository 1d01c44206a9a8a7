import type { Rng, Tensor } from '@modnas/core';
import { ModnasError, tf } from '@modnas/core';

/** Shape and training of an ensemble of small ReLU MLPs (one scalar output each). */
export interface EnsembleOptions {
  /** Members, trained from independent initialisations on the same data. */
  size: number;
  /** Hidden layers per member. */
  layers: number;
  /** Units per hidden layer. */
  width: number;
  /** Full-batch Adam steps. */
  steps: number;
  lr: number;
  /** L2 penalty on the weights (not the biases). */
  weightDecay: number;
  /**
   * Training loss: mean absolute error (robust to a long tail of poor architectures), mean squared
   * error, or mape: absolute error weighted by 1 / (best target + margin − target), which puts the
   * fit's effort on the best architectures (the MAPE with a lower bound of the BANANAS authors'
   * code, naszilla, written for scores where higher is better).
   */
  loss?: 'mae' | 'mse' | 'mape';
  /** mape: the margin above the best target, in standard deviations of the targets. */
  mapeMargin?: number;
}

/** A trained ensemble: predict() any number of times, then dispose() its weights. */
export interface FittedEnsemble {
  predict(candidates: number[][]): Prediction;
  dispose(): void;
}

export interface Prediction {
  mean: Float64Array;
  std: Float64Array;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/**
 * An ensemble of MLPs trained on (features, target) pairs in one batched tfjs graph: member e's
 * weights are slice e of [size, in, out] tensors, so one batched matMul runs every member. The
 * backward pass and Adam are written out by hand (about 20 kernels per step for one hidden
 * layer, against about 3x that through tf.train.adam and autodiff), which is what lets a few
 * hundred points train in milliseconds. Targets are standardised before training and predictions
 * returned in the original scale. Weights are drawn from `rng` (He initialisation), so a fit is a
 * function of the data and the stream.
 */
export function fitEnsemble(features: number[][], targets: number[], opts: EnsembleOptions, rng: Rng): FittedEnsemble {
  const n = features.length;
  if (n === 0 || targets.length !== n) {
    throw new ModnasError('MODNAS_E_OPTIM_PREDICTOR', `the predictor needs as many targets as feature rows (got ${n} rows, ${targets.length} targets, at least 1)`);
  }
  const d = features[0].length;
  const E = opts.size;
  let mu = 0;
  for (const t of targets) mu += t / n;
  let sd = 0;
  for (const t of targets) sd += (t - mu) ** 2 / n;
  sd = Math.sqrt(sd) || 1;

  const dims = [d, ...new Array<number>(opts.layers).fill(opts.width), 1];
  const L = dims.length - 1;
  // All weights of a member in one row of theta [E, P] (W_0, b_0, W_1, b_1, ...), so that Adam is
  // one set of kernels per step, not one per tensor. W_l is [dims[l], dims[l+1]], b_l [1, dims[l+1]].
  const shapes: Array<[number, number]> = [];
  for (let l = 0; l < L; l++) shapes.push([dims[l], dims[l + 1]], [1, dims[l + 1]]);
  const sizes = shapes.map(([a, b]) => a * b);
  const P = sizes.reduce((a, b) => a + b, 0);
  const theta0 = new Float32Array(E * P);
  for (let e = 0; e < E; e++) {
    let off = e * P;
    shapes.forEach(([a, b], i) => {
      if (i % 2 === 0) {
        const s = Math.sqrt(2 / a);
        for (let j = 0; j < a * b; j++) theta0[off + j] = s * rng.normal();
      }
      off += a * b;
    });
  }
  // weight decay applies to the W entries only
  const decayMask = new Float32Array(P);
  {
    let off = 0;
    shapes.forEach(([a, b], i) => {
      if (i % 2 === 0) decayMask.fill(2 * opts.weightDecay, off, off + a * b);
      off += a * b;
    });
  }
  const unpack = (theta: Tensor): Tensor[] => {
    const parts = tf.split(theta, sizes, 1);
    return parts.map((t, i) => tf.reshape(t, [E, ...shapes[i]]));
  };

  let theta: Tensor = tf.tensor2d(theta0, [E, P]);
  let m: Tensor = tf.zeros([E, P]);
  let v: Tensor = tf.zeros([E, P]);
  const x = tf.tidy(() => tf.tile(tf.tensor3d(Float32Array.from(features.flat()), [1, n, d]), [E, 1, 1]));
  const y = tf.tidy(() => tf.tile(tf.tensor3d(Float32Array.from(targets, (t) => (t - mu) / sd), [1, n, 1]), [E, 1, 1]));
  const decay = opts.weightDecay > 0 ? tf.tensor2d(decayMask, [1, P]) : undefined;
  const k = { b1: tf.scalar(BETA1), nb1: tf.scalar(1 - BETA1), b2: tf.scalar(BETA2), nb2: tf.scalar(1 - BETA2), eps: tf.scalar(EPS), scale: tf.scalar(2 / n) };
  const loss = opts.loss ?? 'mse';
  // per-point weights of the absolute error (mae: 1/n each; mape: normalised 1/(bound − y))
  let weights: Tensor | undefined;
  if (loss !== 'mse') {
    const z = targets.map((t) => (t - mu) / sd);
    const bound = Math.max(...z) + (opts.mapeMargin ?? 0.5);
    const w = z.map((t) => (loss === 'mape' ? 1 / (bound - t) : 1));
    const sum = w.reduce((a, b) => a + b, 0);
    weights = tf.tidy(() => tf.tile(tf.tensor3d(Float32Array.from(w, (x) => x / sum), [1, n, 1]), [E, 1, 1]));
  }

  try {
    for (let step = 1; step <= opts.steps; step++) {
      const next = tf.tidy(() => {
        const params = unpack(theta);
        // forward, keeping the pre-activations for the ReLU masks
        const acts: Tensor[] = [x];
        const pre: Tensor[] = [];
        let h: Tensor = x;
        for (let l = 0; l < L; l++) {
          const z = tf.add(tf.matMul(h, params[2 * l]), params[2 * l + 1]);
          pre.push(z);
          h = l < L - 1 ? tf.relu(z) : z;
          acts.push(h);
        }
        // d(loss)/d(output); each member's loss is its own mean over the n points
        let g: Tensor = weights ? tf.mul(tf.sign(tf.sub(h, y)), weights) : tf.mul(tf.sub(h, y), k.scale);
        const grads: Tensor[] = new Array<Tensor>(2 * L);
        for (let l = L - 1; l >= 0; l--) {
          if (l < L - 1) g = tf.mul(g, tf.step(pre[l]));
          grads[2 * l] = tf.reshape(tf.matMul(acts[l], g, true, false), [E, sizes[2 * l]]);
          grads[2 * l + 1] = tf.reshape(tf.sum(g, 1), [E, sizes[2 * l + 1]]);
          if (l > 0) g = tf.matMul(g, params[2 * l], false, true);
        }
        let grad = tf.concat(grads, 1);
        if (decay) grad = tf.add(grad, tf.mul(theta, decay));
        const mi = tf.add(tf.mul(m, k.b1), tf.mul(grad, k.nb1));
        const vi = tf.add(tf.mul(v, k.b2), tf.mul(tf.square(grad), k.nb2));
        const c1 = opts.lr / (1 - BETA1 ** step);
        const c2 = 1 / (1 - BETA2 ** step);
        return [tf.sub(theta, tf.div(tf.mul(mi, c1), tf.add(tf.sqrt(tf.mul(vi, c2)), k.eps))), mi, vi];
      });
      tf.dispose([theta, m, v]);
      [theta, m, v] = next;
    }
  } finally {
    tf.dispose([x, y, m, v, ...Object.values(k)]);
    if (weights) weights.dispose();
    if (decay) decay.dispose();
  }

  const trained = tf.tidy(() => unpack(theta));
  theta.dispose();
  const predict = (candidates: number[][]): Prediction => {
    const k = candidates.length;
    const mean = new Float64Array(k);
    const std = new Float64Array(k);
    if (k === 0) return { mean, std };
    const out = tf.tidy(() => {
      let h: Tensor = tf.tile(tf.tensor3d(Float32Array.from(candidates.flat()), [1, k, d]), [E, 1, 1]);
      for (let l = 0; l < L; l++) {
        h = tf.add(tf.matMul(h, trained[2 * l]), trained[2 * l + 1]);
        if (l < L - 1) h = tf.relu(h);
      }
      return h;
    });
    const p = out.dataSync(); // [E, k, 1]
    out.dispose();
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += p[e * k + j];
      const mj = s / E;
      let q = 0;
      for (let e = 0; e < E; e++) q += (p[e * k + j] - mj) ** 2;
      mean[j] = mu + sd * mj;
      std[j] = sd * Math.sqrt(q / E);
    }
    return { mean, std };
  };
  return { predict, dispose: () => tf.dispose(trained) };
}
