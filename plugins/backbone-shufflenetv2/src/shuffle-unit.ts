import type { SlotSpec } from '@modnas/core';
import { Module, ModnasError, Sequential, Slot, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, ReLU } from '@modnas/nn';

/**
 * Channel shuffle (ShuffleNet): the channels, seen as `groups` rows of C/groups, are read column by
 * column, so channel i*(C/groups)+j moves to j*groups+i. NHWC input.
 */
export function channelShuffle(x: tf.Tensor, groups = 2): tf.Tensor {
  const [n, h, w, c] = x.shape;
  if (c % groups !== 0) {
    throw new ModnasError('MODNAS_E_SHAPE', `channelShuffle: ${c} channels do not split into ${groups} groups`, { fix: 'give a channel count that is a multiple of groups' });
  }
  return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(x, [n, h, w, groups, c / groups]), [0, 1, 2, 4, 3]), [n, h, w, c]));
}

/** channelShuffle as a layer. */
export class ChannelShuffle extends Module {
  constructor(readonly groups = 2) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return channelShuffle(x, this.groups);
  }

  override describe(): string {
    return `groups=${this.groups}`;
  }
}

export interface ShuffleUnitOptions {
  kernelSize: number;
  /** Channels inside the main branch (default chnOut // 2). */
  chnMid?: number;
  /** The Xception variant: three depthwise + pointwise pairs in the main branch instead of one. */
  xception?: boolean;
  /** What `toArchDesc()` returns (the primitive id, e.g. SHU3). */
  id?: string;
}

const conv = (i: number, o: number, k: number, s: number, depthwise: boolean): Conv2d => new Conv2d(i, o, { kernelSize: k, stride: s, padding: Math.floor(k / 2), groups: depthwise ? i : 1 });

/**
 * The ShuffleNetV2 unit (Ma et al. 2018) and its Xception variant, as in Single Path One-Shot.
 * Stride 1: the input is split in two halves, the first passes through, the second goes through
 * the main branch. Stride 2: the whole input goes through both the main and a projection branch
 * (depthwise with the stride, pointwise). The two results are concatenated (pass-through or
 * projection first) and their channels shuffled in two groups.
 *
 * Main branch: pw (to chnMid), BN, ReLU, dw k x k (the stride), BN, pw (to chnOut - its input), BN,
 * ReLU. Xception: dw (the stride), BN, pw, BN, ReLU, then twice dw, BN, pw, BN, ReLU; the last pw
 * to chnOut - its input. No conv has a bias.
 */
export class ShuffleUnit extends Module {
  readonly branch_main: Sequential;
  readonly branch_proj: Sequential;
  /** Channels that enter each branch: chnIn / 2 at stride 1, chnIn at stride 2. */
  readonly branchIn: number;
  readonly kernelSize: number;
  readonly chnMid: number;
  readonly xception: boolean;
  readonly id: string;

  constructor(
    readonly chnIn: number,
    readonly chnOut: number,
    readonly stride: number,
    opts: ShuffleUnitOptions,
  ) {
    super();
    const k = opts.kernelSize;
    this.kernelSize = k;
    this.xception = opts.xception ?? false;
    this.id = opts.id ?? `${this.xception ? 'SHX' : 'SHU'}${k}`;
    checkUnitSpec(this.id, { chnIn, chnOut, stride });
    const cin = stride === 1 ? chnIn / 2 : chnIn;
    const mid = opts.chnMid ?? Math.floor(chnOut / 2);
    const outputs = chnOut - cin;
    this.branchIn = cin;
    this.chnMid = mid;
    const main = this.xception
      ? [
          conv(cin, cin, k, stride, true), new BatchNorm2d(cin),
          conv(cin, mid, 1, 1, false), new BatchNorm2d(mid), new ReLU(),
          conv(mid, mid, k, 1, true), new BatchNorm2d(mid),
          conv(mid, mid, 1, 1, false), new BatchNorm2d(mid), new ReLU(),
          conv(mid, mid, k, 1, true), new BatchNorm2d(mid),
          conv(mid, outputs, 1, 1, false), new BatchNorm2d(outputs), new ReLU(),
        ]
      : [
          conv(cin, mid, 1, 1, false), new BatchNorm2d(mid), new ReLU(),
          conv(mid, mid, k, stride, true), new BatchNorm2d(mid),
          conv(mid, outputs, 1, 1, false), new BatchNorm2d(outputs), new ReLU(),
        ];
    this.branch_main = this.addModule('branch_main', new Sequential(main));
    const proj = stride === 2 ? [conv(cin, cin, k, stride, true), new BatchNorm2d(cin), conv(cin, cin, 1, 1, false), new BatchNorm2d(cin), new ReLU()] : [];
    this.branch_proj = this.addModule('branch_proj', new Sequential(proj));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const [proj, main] = this.stride === 1 ? tf.split(x, 2, 3) : [x, x];
    return channelShuffle(tf.concat([this.branch_proj.call(proj), this.branch_main.call(main)], 3), 2);
  }

  toArchDesc(): string {
    return this.id;
  }

  override describe(): string {
    return `${this.id}: ${this.chnIn}->${this.chnOut}, s=${this.stride}, mid=${this.chnMid}`;
  }
}

/** A unit needs stride 1 or 2; at stride 1 an even chnIn (it is halved) below 2 x chnOut; at stride 2 chnOut > chnIn. */
export function checkUnitSpec(id: string, given: SlotSpec | undefined): SlotSpec {
  const spec = Slot.checkSpec(id, given);
  const { chnIn, chnOut, stride } = spec;
  let why: string | undefined;
  if (stride !== 1 && stride !== 2) why = `stride must be 1 or 2, got ${stride}`;
  else if (stride === 1 && chnIn % 2 !== 0) why = `at stride 1 the input is split in halves, so chnIn must be even, got ${chnIn}`;
  else if (chnOut - (stride === 1 ? chnIn / 2 : chnIn) <= 0) why = `the main branch would have ${chnOut - (stride === 1 ? chnIn / 2 : chnIn)} output channels (chnOut ${chnOut} minus the ${stride === 1 ? 'pass-through half' : 'projection'} of ${stride === 1 ? chnIn / 2 : chnIn})`;
  if (why) {
    throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `${id} cannot be built for chnIn=${chnIn}, chnOut=${chnOut}, stride=${stride}: ${why}`, {
      fix: 'use ShuffleNetV2 units where the Slot keeps or widens the channels (as the ShuffleNetV2 backbones do)',
    });
  }
  return spec;
}
