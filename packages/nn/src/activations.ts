import { Module, nextTensorSeed, tf } from '@modnas/core';

// Comparisons are written `t >= x` with the branches swapped, never `x > t`: tfjs registers a
// (zero) gradient for GreaterEqual but none for Greater, and a where's condition is on the
// gradient's path.

/**
 * PyTorch's activation modules (torch.nn, 1.13), with its argument defaults and formulas, and the
 * hard sigmoid and hard swish of MobileNetV3 (Howard et al. 2019). Elementwise on any shape; each
 * has a gradient on every engine (built from tfjs ops that have one). ReLU and ReLU6 are in layers.ts.
 */

/** ELU: x if x > 0, else alpha·(exp(x) - 1). */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.alpha === 1 ? tf.elu(x) : tf.where(tf.greaterEqual(0, x), tf.mul(this.alpha, tf.sub(tf.exp(x), 1)), x);
  }
}

/** CELU: max(0, x) + min(0, alpha·(exp(x / alpha) - 1)). */
export class CELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.add(tf.relu(x), tf.minimum(0, tf.mul(this.alpha, tf.sub(tf.exp(tf.div(x, this.alpha)), 1))));
  }
}

/** SELU: scale·(max(0, x) + min(0, alpha·(exp(x) - 1))), alpha 1.6733, scale 1.0507 (Klambauer et al. 2017). */
export class SELU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.selu(x);
  }
}

/** LeakyReLU: x if x >= 0, else negative_slope·x. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.leakyRelu(x, this.negativeSlope);
  }
}

/**
 * PReLU: LeakyReLU with a learned slope, one for all channels (numParameters 1) or one per channel
 * (numParameters = channels, the last axis here: NHWC), initialised to `init`.
 */
export class PReLU extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly numParameters = 1,
    init = 0.25,
  ) {
    super();
    if (!Number.isInteger(numParameters) || numParameters < 1) throw new Error(`PReLU: numParameters must be a positive integer, got ${numParameters}`);
    this.weight = this.addParam('weight', tf.fill([numParameters], init));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.numParameters > 1 && x.shape[x.shape.length - 1] !== this.numParameters) {
      throw new Error(`PReLU: ${this.numParameters} slopes for an input of ${x.shape[x.shape.length - 1]} channels (the last axis)`);
    }
    return tf.prelu(x, this.weight);
  }
}

/**
 * RReLU (Xu et al. 2015): in training the negative slope of each element is drawn uniformly from
 * [lower, upper]; in inference it is their mean.
 */
export class RReLU extends Module {
  constructor(
    readonly lower = 1 / 8,
    readonly upper = 1 / 3,
  ) {
    super();
    if (!(lower <= upper)) throw new Error(`RReLU: lower (${lower}) must not exceed upper (${upper})`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const slope = this.training ? tf.randomUniform(x.shape, this.lower, this.upper, 'float32', nextTensorSeed()) : tf.scalar((this.lower + this.upper) / 2);
    return tf.where(tf.greaterEqual(x, 0), x, tf.mul(x, slope));
  }
}

/** Hardtanh: x clamped to [min_val, max_val]. */
export class Hardtanh extends Module {
  constructor(
    readonly minVal = -1,
    readonly maxVal = 1,
  ) {
    super();
    if (!(minVal < maxVal)) throw new Error(`Hardtanh: minVal (${minVal}) must be below maxVal (${maxVal})`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.clipByValue(x, this.minVal, this.maxVal);
  }
}

/** Hardshrink: x where |x| > lambd, else 0. */
export class Hardshrink extends Module {
  constructor(readonly lambd = 0.5) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.where(tf.greaterEqual(this.lambd, tf.abs(x)), tf.zerosLike(x), x);
  }
}

/** Softshrink: x - lambd above lambd, x + lambd below -lambd, else 0. */
export class Softshrink extends Module {
  constructor(readonly lambd = 0.5) {
    super();
    if (lambd < 0) throw new Error(`Softshrink: lambd must be at least 0, got ${lambd}`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.add(tf.relu(tf.sub(x, this.lambd)), tf.neg(tf.relu(tf.sub(tf.neg(x), this.lambd))));
  }
}

/** Tanhshrink: x - tanh(x). */
export class Tanhshrink extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.sub(x, tf.tanh(x));
  }
}

/** Threshold: x where x > threshold, else value. */
export class Threshold extends Module {
  constructor(
    readonly threshold: number,
    readonly value: number,
  ) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.where(tf.greaterEqual(this.threshold, x), tf.fill(x.shape, this.value), x);
  }
}

export class Sigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.sigmoid(x);
  }
}

/** log(sigmoid(x)), computed stably. */
export class LogSigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.logSigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tanh(x);
  }
}

/** Softplus: log(1 + exp(beta·x)) / beta, and x itself where beta·x > threshold (as PyTorch, for stability). */
export class Softplus extends Module {
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    const bx = tf.mul(x, this.beta);
    const soft = this.beta === 1 ? tf.softplus(x) : tf.div(tf.softplus(bx), this.beta);
    return tf.where(tf.greaterEqual(this.threshold, bx), soft, x);
  }
}

/** Softsign: x / (1 + |x|). */
export class Softsign extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.div(x, tf.add(1, tf.abs(x)));
  }
}

/** Swish (SiLU): x·sigmoid(x). */
export class Swish extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, tf.sigmoid(x));
  }
}

/** MobileNetV3's hard sigmoid: relu6(x + 3) / 6. */
export class HardSigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.div(tf.relu6(tf.add(x, 3)), 6);
  }
}

/** MobileNetV3's hard swish: x·relu6(x + 3) / 6. */
export class HardSwish extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
  }
}
