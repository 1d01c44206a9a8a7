import { Module, Sequential, Slot, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Identity, Linear, ReLU } from '@modnas/nn';

/**
 * ResNet and ResNeXt as the original ModularNAS builds them (its arch_space/torch/networks/resnet.py,
 * after torchvision): every 3x3 conv of a block is a Slot (carrying its `groups`) that a constructor
 * fills (ResNetPredefinedConstructor: a plain 3x3 conv; a search constructor: a mixed op); 1x1 convs
 * and the downsampling shortcut are fixed conv + BN. The block BNs after the Slots exist only with
 * `useBn` (the original's default is without them).
 */
export type BlockType = 'basic' | 'bottleneck';

export interface ResNetOptions {
  chnIn?: number;
  /** Channels of the stem; stage i has 2^i * chn planes. */
  chn?: number;
  block?: BlockType;
  /** Blocks per stage; the first stage keeps the resolution, each later one halves it. */
  layers?: readonly number[];
  numClasses?: number;
  /** Groups of each block's first 3x3 Slot (ResNeXt's cardinality). */
  groups?: number;
  /** Bottleneck width per group at the first stage (default chn / groups). */
  widthPerGroup?: number | null;
  /** BN after each block's Slots (the original's use_bn). */
  useBn?: boolean;
  /** Output channels per plane of a block (default 1 for basic, 4 for bottleneck). */
  expansion?: number | null;
  /** 'cifar': 3x3 stride-1 conv stem; 'imagenet': 7x7 stride-2 conv and 3x3 stride-2 max pool. */
  stem?: 'cifar' | 'imagenet';
}

const norm = (useBn: boolean, c: number): Module => (useBn ? new BatchNorm2d(c) : new Identity());
const conv1x1 = (i: number, o: number, stride = 1): Sequential => new Sequential([new Conv2d(i, o, { kernelSize: 1, stride }), new BatchNorm2d(o)]);

/** A 3x3 conv's Slot, as the original's conv3x3: the Slot's args carry `groups`. */
const conv3x3 = (i: number, o: number, stride = 1, groups = 1): Slot => new Slot({ chnIn: i, chnOut: o, stride, groups });

/** Max pooling with symmetric padding never selected (PyTorch pads with -inf). */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly stride: number,
    readonly padding: number,
  ) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.maxPool(x as tf.Tensor4D, this.kernelSize, this.stride, this.padding);
  }

  override describe(): string {
    return `k=${this.kernelSize}, s=${this.stride}, p=${this.padding}`;
  }
}

/** Slot (3x3, the stride, groups) -> [BN] -> ReLU -> Slot (3x3) -> [BN], plus the shortcut, then ReLU. */
export class BasicBlock extends Module {
  readonly conv1: Slot;
  readonly bn1: Module;
  readonly conv2: Slot;
  readonly bn2: Module;
  readonly downsample?: Module;

  constructor(inplanes: number, planes: number, stride: number, downsample: Module | undefined, groups: number, useBn: boolean) {
    super();
    this.conv1 = this.addModule('conv1', conv3x3(inplanes, planes, stride, groups));
    this.bn1 = this.addModule('bn1', norm(useBn, planes));
    this.conv2 = this.addModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.addModule('bn2', norm(useBn, planes));
    if (downsample) this.downsample = this.addModule('downsample', downsample);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const h = this.bn2.call(this.conv2.call(tf.relu(this.bn1.call(this.conv1.call(x)))));
    return tf.relu(tf.add(h, this.downsample ? this.downsample.call(x) : x));
  }
}

/** 1x1 conv + BN -> ReLU -> Slot (3x3, the stride, groups) -> [BN] -> ReLU -> 1x1 conv + BN, plus the shortcut, then ReLU. */
export class Bottleneck extends Module {
  readonly conv1: Module;
  readonly conv2: Slot;
  readonly bn2: Module;
  readonly conv3: Module;
  readonly downsample?: Module;

  constructor(inplanes: number, width: number, outplanes: number, stride: number, downsample: Module | undefined, groups: number, useBn: boolean) {
    super();
    this.conv1 = this.addModule('conv1', conv1x1(inplanes, width));
    this.conv2 = this.addModule('conv2', conv3x3(width, width, stride, groups));
    this.bn2 = this.addModule('bn2', norm(useBn, width));
    this.conv3 = this.addModule('conv3', conv1x1(width, outplanes));
    if (downsample) this.downsample = this.addModule('downsample', downsample);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const h = this.conv3.call(tf.relu(this.bn2.call(this.conv2.call(tf.relu(this.conv1.call(x))))));
    return tf.relu(tf.add(h, this.downsample ? this.downsample.call(x) : x));
  }
}

/**
 * The bottleneck width of a stage with `planes` planes, as the original: floor(planes * widthPerGroup
 * / chn) * groups (ResNeXt-50 32x4d: 128 at the first stage whatever chn).
 */
export function bottleneckWidth(planes: number, widthPerGroup: number, chn: number, groups: number): number {
  return Math.floor(planes * (widthPerGroup / chn)) * groups;
}

/** stem -> stages of blocks -> global average pool -> linear. */
export class ResNet extends Module {
  readonly conv1: Sequential;
  readonly layers: Sequential;
  readonly avgpool: GlobalAvgPool;
  readonly fc: Linear;
  /** Channels entering the classifier. */
  readonly chnOut: number;

  constructor(opts: ResNetOptions = {}) {
    super();
    const chnIn = opts.chnIn ?? 3;
    const chn = opts.chn ?? 64;
    const block = opts.block ?? 'basic';
    const layers = opts.layers ?? [2, 2, 2, 2];
    const groups = opts.groups ?? 1;
    const useBn = opts.useBn ?? false;
    const expansion = opts.expansion ?? (block === 'basic' ? 1 : 4);
    const baseWidth = opts.widthPerGroup ?? Math.floor(chn / groups);
    this.conv1 = this.addModule(
      'conv1',
      opts.stem === 'imagenet'
        ? new Sequential([new Conv2d(chnIn, chn, { kernelSize: 7, stride: 2, padding: 3 }), new BatchNorm2d(chn), new ReLU(), new MaxPool2d(3, 2, 1)])
        : new Sequential([new Conv2d(chnIn, chn, { kernelSize: 3, stride: 1, padding: 1 }), new BatchNorm2d(chn), new ReLU()]),
    );
    let c = chn;
    const stages: Module[] = layers.map((n, i) => {
      const planes = 2 ** i * chn;
      const stride = i === 0 ? 1 : 2;
      const out = planes * expansion;
      const blocks: Module[] = [];
      for (let b = 0; b < n; b++) {
        // the first block of a stage changes stride or channels: its shortcut is a 1x1 conv + BN
        const ds = b === 0 && (stride !== 1 || c !== out) ? new Sequential([conv1x1(c, out, stride)]) : undefined;
        const s = b === 0 ? stride : 1;
        blocks.push(block === 'basic' ? new BasicBlock(c, planes, s, ds, groups, useBn) : new Bottleneck(c, bottleneckWidth(planes, baseWidth, chn, groups), out, s, ds, groups, useBn));
        c = out;
      }
      return new Sequential(blocks);
    });
    this.layers = this.addModule('layers', new Sequential(stages));
    this.avgpool = this.addModule('avgpool', new GlobalAvgPool());
    this.chnOut = c;
    this.fc = this.addModule('fc', new Linear(c, opts.numClasses ?? 10));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(this.avgpool.call(this.layers.call(this.conv1.call(x))));
  }
}
