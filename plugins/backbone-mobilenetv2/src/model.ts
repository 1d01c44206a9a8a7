import { Module, Sequential, Slot, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, Dropout, GlobalAvgPool, Linear, ReLU6 } from '@modnas/nn';

/** One row of a MobileNetV2 table: expansion t, channels c, repeats n, stride s (row 0 is the stem). */
export type MobileNetV2Row = [t: number, c: number, n: number, s: number];

/** The original MobileNetV2 (Sandler et al. 2018), as CreeperLin/modnas' `_mbv2_ori_cfgs`. */
export const MBV2_ORIGINAL_TABLE: readonly MobileNetV2Row[] = [
  [0, 32, 1, 2],
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** "Increased depth and width" (`_mbv2_gpu_cfgs`): 4 blocks per stage, wider stages 3, 4 and 6. */
export const MBV2_GPU_TABLE: readonly MobileNetV2Row[] = [
  [0, 32, 1, 2],
  [1, 16, 1, 1],
  [6, 24, 4, 2],
  [6, 40, 4, 2],
  [6, 80, 4, 2],
  [6, 96, 4, 1],
  [6, 192, 4, 2],
  [6, 320, 1, 1],
];

/**
 * The CIFAR form of a table: stem stride 1 and the stride of row 6 (the 160/192 stage) set to 1,
 * so 32x32 inputs end at 4x4. A copy: the original edits its module-level table in place, so that
 * after one CIFAR model every later ImageNet model of the process lost those strides too.
 */
export function cifarTable(table: readonly MobileNetV2Row[]): MobileNetV2Row[] {
  const out = table.map((r) => [...r] as MobileNetV2Row);
  out[0][3] = 1;
  if (out.length > 6) out[6][3] = 1;
  return out;
}

/** Channels scaled by the width multiplier, rounded to a multiple of `divisor`, never down by more than 10%. */
export function roundFilters(filters: number, widthCoeff: number | null | undefined, divisor = 8, minDepth?: number): number {
  if (!widthCoeff) return filters;
  const f = filters * widthCoeff;
  let out = Math.max(minDepth ?? divisor, Math.floor(Math.trunc(f + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * f) out += divisor;
  return Math.trunc(out);
}

/** Repeats scaled by the depth multiplier, rounded up. */
export function roundRepeats(repeats: number, depthCoeff: number | null | undefined): number {
  if (!depthCoeff) return repeats;
  return Math.ceil(depthCoeff * repeats);
}

/** Children run in insertion order under the names given (as PyTorch's Sequential(OrderedDict)). */
export class NamedSequential extends Module {
  constructor(entries: Array<[string, Module]> = []) {
    super();
    for (const [n, m] of entries) this.addModule(n, m);
  }

  forward(x: tf.Tensor): tf.Tensor {
    let y = x;
    for (const [, m] of this.children()) y = m.call(y);
    return y;
  }
}

/**
 * A MobileNetV2 block whose convolution is a Slot: the residual is added outside the Slot when the
 * block keeps stride 1 and channels, so a Slot filled with NIL (zeros) skips the block.
 */
export class MobileInvertedResidualBlock extends Module {
  readonly conv: Slot;

  constructor(
    readonly chnIn: number,
    readonly chnOut: number,
    readonly stride = 1,
    readonly t = 6,
  ) {
    super();
    this.conv = this.addModule('conv', new Slot({ chnIn, chnOut, stride, expansion: t }));
  }

  get residual(): boolean {
    return this.stride === 1 && this.chnIn === this.chnOut;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const out = this.conv.call(x);
    return this.residual ? tf.add(out, x) : out;
  }

  override describe(): string {
    return `${this.chnIn}->${this.chnOut}, s=${this.stride}, t=${this.t}${this.residual ? ', residual' : ''}`;
  }
}

export interface MobileNetV2Options {
  /** Rows [t, c, n, s]; row 0 is the stem (c channels, stride s). */
  cfgs: readonly MobileNetV2Row[];
  chnIn?: number;
  numClasses?: number;
  widthCoeff?: number | null;
  depthCoeff?: number | null;
  dropoutRate?: number;
}

/**
 * MobileNetV2 built from Slots, one per block, laid out as CreeperLin/modnas' MobileNetV2:
 * conv_first (3x3 conv, BN, ReLU6), bottlenecks (Bottlenecks_i / MobileInvertedResidualBlock_i_j,
 * the stride on the first block of a stage), conv_last (1x1 conv to 1280 x width, BN, ReLU6),
 * global average pool, dropout, fc. Constructors fill the Slots.
 */
export class MobileNetV2 extends Module {
  readonly t: number[];
  readonly c: number[];
  readonly n: number[];
  readonly s: number[];
  readonly numClasses: number;
  readonly lastChannels: number;
  readonly conv_first: Sequential;
  readonly bottlenecks: NamedSequential;
  readonly conv_last: Sequential;
  readonly avgpool: GlobalAvgPool;
  readonly dropout: Dropout;
  readonly fc: Linear;

  constructor(opts: MobileNetV2Options) {
    super();
    const { cfgs, chnIn = 3, numClasses = 1000, widthCoeff = 1.0, depthCoeff = 1.0, dropoutRate = 0.2 } = opts;
    const divisor = 8;
    this.t = cfgs.map((r) => r[0]);
    this.c = cfgs.map((r) => roundFilters(r[1], widthCoeff, divisor));
    this.n = cfgs.map((r) => roundRepeats(r[2], depthCoeff));
    this.s = cfgs.map((r) => r[3]);
    this.numClasses = numClasses;
    this.conv_first = this.addModule('conv_first', new Sequential([new Conv2d(chnIn, this.c[0], { kernelSize: 3, stride: this.s[0], padding: 1 }), new BatchNorm2d(this.c[0]), new ReLU6()]));
    const stages: Array<[string, Module]> = [];
    for (let i = 0; i < this.c.length - 1; i++) {
      const blocks: Array<[string, Module]> = [];
      let cin = this.c[i];
      for (let j = 0; j < this.n[i + 1]; j++) {
        blocks.push([`MobileInvertedResidualBlock_${i}_${j}`, new MobileInvertedResidualBlock(cin, this.c[i + 1], j === 0 ? this.s[i + 1] : 1, this.t[i + 1])]);
        cin = this.c[i + 1];
      }
      stages.push([`Bottlenecks_${i}`, new NamedSequential(blocks)]);
    }
    this.bottlenecks = this.addModule('bottlenecks', new NamedSequential(stages));
    this.lastChannels = roundFilters(1280, widthCoeff, divisor);
    const cLast = this.c[this.c.length - 1];
    this.conv_last = this.addModule('conv_last', new Sequential([new Conv2d(cLast, this.lastChannels, { kernelSize: 1 }), new BatchNorm2d(this.lastChannels), new ReLU6()]));
    this.avgpool = this.addModule('avgpool', new GlobalAvgPool());
    this.dropout = this.addModule('dropout', new Dropout(dropoutRate));
    this.fc = this.addModule('fc', new Linear(this.lastChannels, numClasses));
  }

  /** The blocks in order (one Slot each). */
  blocks(): MobileInvertedResidualBlock[] {
    const out: MobileInvertedResidualBlock[] = [];
    for (const [, m] of this.modules()) if (m instanceof MobileInvertedResidualBlock) out.push(m);
    return out;
  }

  /** The feature map before pooling (N, H/stride, W/stride, lastChannels). */
  features(x: tf.Tensor): tf.Tensor {
    return this.conv_last.call(this.bottlenecks.call(this.conv_first.call(x)));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(this.dropout.call(this.avgpool.call(this.features(x))));
  }

  override describe(): string {
    return `${this.n.slice(1).reduce((a, b) => a + b, 0)} blocks, ${this.numClasses} classes`;
  }
}
