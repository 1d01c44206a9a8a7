import { Module, Sequential, Slot, tf } from '@modnas/core';
import { AvgPool2d, BatchNorm2d, Conv2d, GlobalAvgPool, Linear, ReLU } from '@modnas/nn';

/**
 * BN, ReLU (unless relu is false), then a conv with bias: the pre-activation conv unit of the
 * original's PyramidNet (its GroupConv). `groups` is 1 or chnIn (depthwise).
 */
export class GroupConv extends Module {
  readonly net: Sequential;

  constructor(
    readonly chnIn: number,
    readonly chnOut: number,
    opts: { kernelSize: number; stride?: number; padding?: number; groups?: number; relu?: boolean },
  ) {
    super();
    const conv = new Conv2d(chnIn, chnOut, { kernelSize: opts.kernelSize, stride: opts.stride ?? 1, padding: opts.padding ?? 0, groups: opts.groups ?? 1, bias: true });
    this.net = this.addModule('net', new Sequential(opts.relu === false ? [new BatchNorm2d(chnIn), conv] : [new BatchNorm2d(chnIn), new ReLU(), conv]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.net.call(x);
  }

  override describe(): string {
    return `${this.chnIn}->${this.chnOut}`;
  }
}

/**
 * x + the residual r, where x has fewer channels than r: x is zero-padded to r's channels (PyramidNet's
 * parameter-free shortcut).
 */
export function addZeroPadded(r: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const extra = r.shape[3]! - x.shape[3]!;
  if (extra === 0) return tf.add(r, x);
  return tf.tidy(() => tf.add(r, tf.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])));
}

/**
 * The bottleneck block: bottle_in (BN, 1x1 conv to chn), cell (a Slot chn -> chn with the stride;
 * PyramidNetPredefinedConstructor fills it with BN, ReLU, 3x3 conv), bottle_out (BN, ReLU, 1x1 conv
 * to chn x bottleneckRatio), bn; plus the shortcut: the input (2x2 average pool at a stride-2
 * block), zero-padded to the output's channels.
 */
export class BottleneckBlock extends Module {
  readonly bottle_in: GroupConv;
  readonly cell: Slot;
  readonly bottle_out: GroupConv;
  readonly bn: BatchNorm2d;
  readonly downsample?: AvgPool2d;

  constructor(
    readonly chnIn: number,
    readonly chn: number,
    readonly stride: number,
    readonly groups: number,
    readonly bottleneckRatio: number,
  ) {
    super();
    this.bottle_in = this.addModule('bottle_in', new GroupConv(chnIn, chn, { kernelSize: 1, relu: false }));
    this.cell = this.addModule('cell', new Slot({ chnIn: chn, chnOut: chn, stride, groups }));
    this.bottle_out = this.addModule('bottle_out', new GroupConv(chn, chn * bottleneckRatio, { kernelSize: 1 }));
    this.bn = this.addModule('bn', new BatchNorm2d(chn * bottleneckRatio));
    // as the original's AvgPool2d(2, 2, ceil_mode=True): 'same' keeps the last partial window, averaged over what it covers
    if (stride !== 1) this.downsample = this.addModule('downsample', new AvgPool2d(2, 2, 'same'));
  }

  get chnOut(): number {
    return this.chn * this.bottleneckRatio;
  }

  /** The residual branch alone. */
  residual(x: tf.Tensor): tf.Tensor {
    return this.bn.call(this.bottle_out.call(this.cell.call(this.bottle_in.call(x))));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const shortcut = this.downsample ? this.downsample.call(x) : x;
    return addZeroPadded(this.residual(x), shortcut);
  }

  override describe(): string {
    return `${this.chnIn}->${this.chn}->${this.chnOut}, s=${this.stride}`;
  }
}

/** Python's round(): halves to even (the original rounds channel counts with it). */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface PyramidNetOptions {
  chnIn: number;
  /** Channels of the first conv (the widening starts from them). */
  chn: number;
  numClasses: number;
  /** Stages (the original's `groups`); the first at stride 1, the others at stride 2. */
  groups: number;
  /** Bottleneck blocks per stage. */
  blocks: number;
  /** Groups of the Slot's conv (the channels are rounded down to a multiple of it). */
  convGroups: number;
  bottleneckRatio: number;
  /** Total widening: the block channels grow by alpha / (groups x blocks) a block. */
  alpha: number;
}

/**
 * PyramidNet (Han et al. 2017) as CreeperLin/modnas' PyramidNet: conv1 (3x3, no bias), bn1, then
 * `groups` stages of `blocks` bottleneck blocks whose width grows additively by alpha / (groups x
 * blocks) per block (rounded as Python's round, then down to a multiple of conv_groups), bn_final,
 * relu_final, global average pool, fc. Each block's 3x3 conv is a Slot.
 */
export class PyramidNet extends Module {
  readonly addrate: number;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly pyramid: Sequential;
  readonly bn_final: BatchNorm2d;
  readonly relu_final: ReLU;
  readonly avgpool: GlobalAvgPool;
  readonly fc: Linear;
  readonly chnFin: number;

  constructor(readonly opts: PyramidNetOptions) {
    super();
    const { chnIn, chn, numClasses, groups, blocks, convGroups, bottleneckRatio } = opts;
    this.addrate = opts.alpha / (groups * blocks);
    let cur = chn;
    let cin = chn;
    this.conv1 = this.addModule('conv1', new Conv2d(chnIn, chn, { kernelSize: 3, stride: 1, padding: 1 }));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(chn));
    const stages: Module[] = [];
    for (let g = 0; g < groups; g++) {
      const stage: Module[] = [];
      for (let b = 0; b < blocks; b++) {
        let next = pyRound(cur + this.addrate);
        next -= next % convGroups;
        stage.push(new BottleneckBlock(pyRound(cin), next, g > 0 && b === 0 ? 2 : 1, convGroups, bottleneckRatio));
        cur += this.addrate;
        cin = next * bottleneckRatio;
      }
      stages.push(new Sequential(stage));
    }
    this.pyramid = this.addModule('pyramid', new Sequential(stages));
    // the original takes int(chn_cur) x ratio, which is the last block's width unless the float sum
    // of the increments falls just short of an integer (then its bn_final does not fit); take the width itself
    this.chnFin = cin;
    this.bn_final = this.addModule('bn_final', new BatchNorm2d(this.chnFin));
    this.relu_final = this.addModule('relu_final', new ReLU());
    this.avgpool = this.addModule('avgpool', new GlobalAvgPool());
    this.fc = this.addModule('fc', new Linear(this.chnFin, numClasses));
  }

  /** The blocks in order. */
  blockList(): BottleneckBlock[] {
    return this.pyramid.children().flatMap(([, s]) => s.children().map(([, b]) => b as BottleneckBlock));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const h = this.relu_final.call(this.bn_final.call(this.pyramid.call(this.bn1.call(this.conv1.call(x)))));
    return this.fc.call(this.avgpool.call(h));
  }

  override describe(): string {
    return `${this.opts.groups}x${this.opts.blocks} blocks, alpha=${this.opts.alpha}, ${this.chnFin} final channels`;
  }
}
