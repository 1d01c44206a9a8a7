import { Module, ModnasError, Sequential, Slot, nextTensorSeed, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, Dropout, GlobalAvgPool, Linear, ReLU } from '@modnas/nn';

/** One row of a ShuffleNetV2 table: channels c, repeats n, stride s, expansion e (chn_mid = c // 2 x e). Row 0 is the stem, the last row the 1x1 conv before the pool. */
export type ShuffleNetV2Row = [c: number, n: number, s: number, e: number];

/** ShuffleNetV2 1.0x (Ma et al. 2018): stem 24 (stride 4: conv and max pool), stages 116/232/464 of 4/8/4 units, conv 1024. */
export const SHUFFLENETV2_TABLE: readonly ShuffleNetV2Row[] = [
  [24, 1, 4, 1.0],
  [116, 4, 2, 1.0],
  [232, 8, 2, 1.0],
  [464, 4, 2, 1.0],
  [1024, 1, 1, 1.0],
];

/** The CIFAR form: the stem at stride 1. */
export const CIFAR_SHUFFLENETV2_TABLE: readonly ShuffleNetV2Row[] = [[24, 1, 1, 1.0], ...SHUFFLENETV2_TABLE.slice(1)];

/** The Single Path One-Shot supernet (Guo et al. 2020): stem 16, stages 64/160/320/640 of 4/4/8/4 units, conv 1024. */
export const SHUFFLENETV2_ONESHOT_TABLE: readonly ShuffleNetV2Row[] = [
  [16, 1, 2, 1.0],
  [64, 4, 2, 1.0],
  [160, 4, 2, 1.0],
  [320, 8, 2, 1.0],
  [640, 4, 2, 1.0],
  [1024, 1, 1, 1.0],
];

/** The one-shot supernet for CIFAR: stem 24 at stride 1, the 640 stage at stride 1. */
export const CIFAR_SHUFFLENETV2_ONESHOT_TABLE: readonly ShuffleNetV2Row[] = [
  [24, 1, 1, 1.0],
  [64, 4, 2, 1.0],
  [160, 4, 2, 1.0],
  [320, 8, 2, 1.0],
  [640, 4, 1, 1.0],
  [1024, 1, 1, 1.0],
];

/** 3x3 max pool, stride 2, padding 1 (PyTorch's MaxPool2d(3, 2, 1): the padding never wins). */
export class MaxPool3x3s2 extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.maxPool(x as tf.Tensor4D, 3, 2, 1);
  }
}

export interface ShuffleNetV2Options {
  cfgs: readonly ShuffleNetV2Row[];
  chnIn?: number;
  numClasses?: number;
  dropoutRate?: number;
}

/**
 * ShuffleNetV2 built from Slots, laid out as CreeperLin/modnas' ShuffleNetV2: features = [stem
 * (3x3 conv with the row's stride, BN, ReLU; stride 4 is a stride-2 conv and a 3x3 stride-2 max
 * pool), one Slot per unit (the stride on the first unit of a stage; Slot arg chn_mid = c // 2 x e),
 * 1x1 conv to the last row's channels, BN, ReLU], global average pool, dropout, linear without bias.
 * Constructors fill the Slots (ShuffleNetV2PredefinedConstructor: SHU3 everywhere).
 */
export class ShuffleNetV2 extends Module {
  readonly numClasses: number;
  readonly features: Sequential;
  readonly globalpool: GlobalAvgPool;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  readonly lastChannels: number;

  constructor(opts: ShuffleNetV2Options) {
    super();
    const { cfgs, numClasses = 1000, dropoutRate = 0.1 } = opts;
    if (cfgs.length < 2) {
      throw new ModnasError('MODNAS_E_CONFIG_INVALID', `ShuffleNetV2: cfgs needs a stem row and a last row, got ${cfgs.length} row(s)`, { fix: 'give rows [c, n, s, e]: the stem first, the final 1x1 conv last' });
    }
    let chnIn = opts.chnIn ?? 3;
    this.numClasses = numClasses;
    const features: Module[] = [];
    cfgs.forEach(([c, n, s, e], i) => {
      if (i === 0) features.push(stem(chnIn, c, s));
      else if (i === cfgs.length - 1) features.push(new Sequential([new Conv2d(chnIn, c, { kernelSize: 1 }), new BatchNorm2d(c), new ReLU()]));
      else {
        for (let j = 0; j < n; j++) {
          features.push(new Slot({ chnIn, chnOut: c, stride: j === 0 ? s : 1, chn_mid: Math.trunc(Math.floor(c / 2) * e) }));
          chnIn = c;
        }
      }
      chnIn = c;
    });
    this.lastChannels = chnIn;
    this.features = this.addModule('features', new Sequential(features));
    this.globalpool = this.addModule('globalpool', new GlobalAvgPool());
    this.dropout = this.addModule('dropout', new Dropout(dropoutRate));
    this.classifier = this.addModule('classifier', new Linear(chnIn, numClasses, { bias: false }));
    this.initWeights();
  }

  /**
   * The original's initialisation of what the backbone holds when built (the Slots are filled later,
   * so their ops keep their own init): first conv N(0, 0.01), other convs N(0, 1/fan-in channels),
   * BN weight 1 and bias 1e-4, classifier N(0, 0.01).
   */
  private initWeights(): void {
    let first = true;
    tf.tidy(() => {
      for (const [, m] of this.modules()) {
        if (m instanceof Conv2d) {
          const std = first ? 0.01 : 1 / (m.chnIn / m.groups);
          first = false;
          m.weight.assign(tf.randomNormal(m.weight.shape, 0, std, 'float32', nextTensorSeed()));
        } else if (m instanceof BatchNorm2d) {
          m.gamma?.assign(tf.onesLike(m.gamma));
          m.beta?.assign(tf.fill(m.beta.shape, 1e-4));
        } else if (m instanceof Linear) {
          m.weight.assign(tf.randomNormal(m.weight.shape, 0, 0.01, 'float32', nextTensorSeed()));
        }
      }
    });
  }

  /** The Slots, one per unit, in order. */
  units(): Slot[] {
    return this.features.children().map(([, m]) => m).filter((m): m is Slot => m instanceof Slot);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.classifier.call(this.dropout.call(this.globalpool.call(this.features.call(x))));
  }

  override describe(): string {
    return `${this.units().length} units, ${this.numClasses} classes`;
  }
}

function stem(chnIn: number, c: number, stride: number): Sequential {
  if (stride === 4) return new Sequential([new Conv2d(chnIn, c, { kernelSize: 3, stride: 2, padding: 1 }), new BatchNorm2d(c), new ReLU(), new MaxPool3x3s2()]);
  return new Sequential([new Conv2d(chnIn, c, { kernelSize: 3, stride, padding: 1 }), new BatchNorm2d(c), new ReLU()]);
}
