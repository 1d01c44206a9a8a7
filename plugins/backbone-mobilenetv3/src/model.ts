import { ModnasError, Module, Sequential, Slot, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, Dropout, HardSwish, ReLU, SpatialMeanKeepDims, SqueezeExcite, makeDivisible } from '@modnas/nn';

/**
 * One row of a MobileNetV3 table: kernel size k, expanded channels t (the depthwise width, not a
 * ratio), output channels c, squeeze-excite (0/1), hard swish (0/1, else ReLU), stride s. Row 0 is
 * the stem (a kxk conv to c channels; t and SE unused).
 */
export type MobileNetV3Row = [k: number, t: number, c: number, se: number, hs: number, s: number];

/** MobileNetV3-Large (Howard et al. 2019, table 1), as CreeperLin/modnas' mobilenetv3_large. */
export const MBV3_LARGE_TABLE: readonly MobileNetV3Row[] = [
  [3, 0, 16, 0, 1, 2],
  [3, 16, 16, 0, 0, 1],
  [3, 64, 24, 0, 0, 2],
  [3, 72, 24, 0, 0, 1],
  [5, 72, 40, 1, 0, 2],
  [5, 120, 40, 1, 0, 1],
  [5, 120, 40, 1, 0, 1],
  [3, 240, 80, 0, 1, 2],
  [3, 200, 80, 0, 1, 1],
  [3, 184, 80, 0, 1, 1],
  [3, 184, 80, 0, 1, 1],
  [3, 480, 112, 1, 1, 1],
  [3, 672, 112, 1, 1, 1],
  [5, 672, 160, 1, 1, 2],
  [5, 960, 160, 1, 1, 1],
  [5, 960, 160, 1, 1, 1],
];

/** MobileNetV3-Small (table 2), as CreeperLin/modnas' mobilenetv3_small. */
export const MBV3_SMALL_TABLE: readonly MobileNetV3Row[] = [
  [3, 0, 16, 0, 1, 2],
  [3, 16, 16, 1, 0, 2],
  [3, 72, 24, 0, 0, 2],
  [3, 88, 24, 0, 0, 1],
  [5, 96, 40, 1, 1, 2],
  [5, 240, 40, 1, 1, 1],
  [5, 240, 40, 1, 1, 1],
  [5, 120, 48, 1, 1, 1],
  [5, 144, 48, 1, 1, 1],
  [5, 288, 96, 1, 1, 2],
  [5, 576, 96, 1, 1, 1],
  [5, 576, 96, 1, 1, 1],
];

export type MobileNetV3Mode = 'large' | 'small';

/**
 * A MobileNetV3 block whose convolution is a Slot carrying the block's settings as args (`chn`,
 * `kernel_size`, `use_se`, `use_hs`, the original's names); the residual is added outside the Slot
 * when the block keeps stride 1 and channels, so a Slot filled with NIL skips the block.
 */
export class MobileInvertedResidualBlock extends Module {
  readonly conv: Slot;

  constructor(
    readonly chnIn: number,
    readonly chn: number,
    readonly chnOut: number,
    readonly kernelSize: number,
    readonly stride: number,
    readonly useSe: number,
    readonly useHs: number,
  ) {
    super();
    if (stride !== 1 && stride !== 2) throw new ModnasError('MODNAS_E_CONFIG_INVALID', `MobileNetV3: a block's stride must be 1 or 2, got ${stride}`, { fix: 'set the last column (s) of the cfgs row to 1 or 2' });
    this.conv = this.addModule('conv', new Slot({ chnIn, chnOut, stride, chn, kernel_size: kernelSize, use_se: useSe, use_hs: useHs }));
  }

  get identity(): boolean {
    return this.stride === 1 && this.chnIn === this.chnOut;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const out = this.conv.call(x);
    return this.identity ? tf.add(x, out) : out;
  }

  override describe(): string {
    return `${this.chnIn}->${this.chn}->${this.chnOut}, k=${this.kernelSize}, s=${this.stride}${this.useSe ? ', SE' : ''}${this.useHs ? ', h-swish' : ''}${this.identity ? ', residual' : ''}`;
  }
}

export interface MobileNetV3Options {
  cfgs: readonly MobileNetV3Row[];
  mode: MobileNetV3Mode;
  chnIn?: number;
  numClasses?: number;
  widthMult?: number;
  dropoutRate?: number;
}

/**
 * MobileNetV3 built from Slots, one per block, laid out as CreeperLin/modnas' MobileNetV3: features
 * (0: the stem conv, BN, hard swish or ReLU; then one MobileInvertedResidualBlock per row), conv
 * (1x1 to the last row's t x width, BN, hard swish, and squeeze-excite in the small model), avgpool,
 * classifier (1x1 conv to 1280 / 1024 x width, hard swish, dropout, 1x1 conv to the classes).
 * Output channels are scaled by the width multiplier and rounded to multiples of 8; the expanded
 * widths t are not scaled (as the original).
 */
export class MobileNetV3 extends Module {
  readonly mode: MobileNetV3Mode;
  readonly numClasses: number;
  readonly lastChannels: number;
  readonly features: Sequential;
  readonly conv: Sequential;
  readonly avgpool: SpatialMeanKeepDims;
  readonly classifier: Sequential;

  constructor(opts: MobileNetV3Options) {
    super();
    const { cfgs, mode, chnIn = 3, numClasses = 1000, widthMult = 1.0, dropoutRate = 0.2 } = opts;
    if (cfgs.length < 2) throw new ModnasError('MODNAS_E_CONFIG_INVALID', `MobileNetV3: cfgs needs the stem row and at least one block row, got ${cfgs.length} rows`, { fix: 'give rows [k, t, c, SE, NL, s], the first one for the stem' });
    this.mode = mode;
    this.numClasses = numClasses;
    const layers: Module[] = [];
    let cin = chnIn;
    cfgs.forEach(([k, t, c, se, hs, s], i) => {
      const cout = makeDivisible(c * widthMult, 8);
      if (i === 0) layers.push(new Sequential([new Conv2d(cin, cout, { kernelSize: k, stride: s, padding: Math.floor(k / 2) }), new BatchNorm2d(cout), hs ? new HardSwish() : new ReLU()]));
      else layers.push(new MobileInvertedResidualBlock(cin, t, cout, k, s, se, hs));
      cin = cout;
    });
    this.features = this.addModule('features', new Sequential(layers));
    const last = makeDivisible(cfgs[cfgs.length - 1][1] * widthMult, 8);
    this.conv = this.addModule('conv', new Sequential([new Conv2d(cin, last, { kernelSize: 1 }), new BatchNorm2d(last), new HardSwish(), mode === 'small' ? new SqueezeExcite(last) : new Sequential()]));
    this.avgpool = this.addModule('avgpool', new SpatialMeanKeepDims());
    this.lastChannels = makeDivisible((mode === 'small' ? 1024 : 1280) * widthMult, 8);
    this.classifier = this.addModule(
      'classifier',
      new Sequential([new Conv2d(last, this.lastChannels, { kernelSize: 1, bias: true }), new HardSwish(), new Dropout(dropoutRate), new Conv2d(this.lastChannels, numClasses, { kernelSize: 1, bias: true })]),
    );
  }

  /** The blocks in order (one Slot each). */
  blocks(): MobileInvertedResidualBlock[] {
    return this.features.children().flatMap(([, m]) => (m instanceof MobileInvertedResidualBlock ? [m] : []));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const y = this.classifier.call(this.avgpool.call(this.conv.call(this.features.call(x))));
    return tf.reshape(y, [y.shape[0], this.numClasses]);
  }

  override describe(): string {
    return `MobileNetV3-${this.mode}: ${this.blocks().length} blocks, ${this.numClasses} classes`;
  }
}
