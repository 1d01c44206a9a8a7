// The benchmark networks, built with @modnas/nn layers: MobileNetV2 for CIFAR (torchvision's
// layout, stem and stage-6 stride 1), one inverted-residual block, and supernets whose every
// block is a mixed op over MB3E3..MB7E6 (BinGate: one sampled path; WeightedSum: softmax-weighted
// sum of all six). bench/reference/models.py builds the identical networks in PyTorch.
import { Module, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, Dropout, GlobalAvgPool, Linear, ReLU6 } from '@modnas/nn';

export const CFG = [
  // t, c, n, s (CIFAR strides)
  [1, 16, 1, 1],
  [6, 24, 2, 1],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 1],
  [6, 320, 1, 1],
];
export const CANDIDATES = [
  [3, 3],
  [3, 6],
  [5, 3],
  [5, 6],
  [7, 3],
  [7, 6],
];

class Seq extends Module {
  constructor(mods) {
    super();
    this.mods = mods.map((m, i) => this.addModule(String(i), m));
  }
  forward(x) {
    for (const m of this.mods) x = m.call(x);
    return x;
  }
}

/** MB{k}E{e}: [1x1 expand, BN, ReLU6,] kxk depthwise (stride), BN, ReLU6, 1x1 project, BN. */
export function mbconv(cin, cout, stride, e, k) {
  const chn = cin * e;
  const mods = [];
  if (e !== 1) mods.push(new Conv2d(cin, chn, { kernelSize: 1 }), new BatchNorm2d(chn), new ReLU6());
  mods.push(new Conv2d(chn, chn, { kernelSize: k, stride, padding: Math.floor(k / 2), groups: chn }), new BatchNorm2d(chn), new ReLU6());
  mods.push(new Conv2d(chn, cout, { kernelSize: 1 }), new BatchNorm2d(cout));
  return new Seq(mods);
}

/** Deterministic path choice shared with the PyTorch side: candidate of slot `slot` at step `step`. */
export function pathIndex(step, slot, n) {
  let h = (step * 2654435761 + slot * 40503 + 12345) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 3266489909) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) % n;
}

export class MixedOp extends Module {
  constructor(cands, kind, slot) {
    super();
    this.kind = kind;
    this.slot = slot;
    this.cands = cands.map((c, i) => this.addModule(`c${i}`, c));
    this.step = 0;
    if (kind === 'wsum') this.alpha = tf.variable(tf.mul(tf.randomNormal([cands.length], 0, 1, 'float32', slot + 1), 1e-3), true, `alpha_${slot}_${Math.random()}`);
  }
  forward(x) {
    if (this.kind === 'bingate') return this.cands[pathIndex(this.step, this.slot, this.cands.length)].call(x);
    const w = tf.unstack(tf.softmax(this.alpha));
    return tf.addN(this.cands.map((c, i) => tf.mul(c.call(x), w[i])));
  }
}

class Block extends Module {
  constructor(cin, cout, stride, op) {
    super();
    this.res = stride === 1 && cin === cout;
    this.op = this.addModule('op', op);
  }
  forward(x) {
    const y = this.op.call(x);
    return this.res ? tf.add(y, x) : y;
  }
}

/** MobileNetV2-CIFAR; `mixed` = undefined (predefined), 'bingate' or 'wsum' (every block a mixed op over CANDIDATES). */
export class MobileNetV2 extends Module {
  constructor({ numClasses = 10, mixed } = {}) {
    super();
    this.stem = this.addModule('stem', new Seq([new Conv2d(3, 32, { kernelSize: 3, padding: 1 }), new BatchNorm2d(32), new ReLU6()]));
    const blocks = [];
    this.mixedOps = [];
    let cin = 32;
    let slot = 0;
    for (const [t, c, n, s] of CFG) {
      for (let j = 0; j < n; j++) {
        const stride = j === 0 ? s : 1;
        let op;
        if (mixed) {
          op = new MixedOp(CANDIDATES.map(([k, e]) => mbconv(cin, c, stride, e, k)), mixed, slot);
          this.mixedOps.push(op);
        } else op = mbconv(cin, c, stride, t, 3);
        blocks.push(new Block(cin, c, stride, op));
        cin = c;
        slot++;
      }
    }
    this.blocks = this.addModule('blocks', new Seq(blocks));
    this.last = this.addModule('last', new Seq([new Conv2d(cin, 1280, { kernelSize: 1 }), new BatchNorm2d(1280), new ReLU6()]));
    this.pool = this.addModule('pool', new GlobalAvgPool());
    this.drop = this.addModule('drop', new Dropout(0.2));
    this.fc = this.addModule('fc', new Linear(1280, numClasses));
  }
  setStep(step) {
    for (const m of this.mixedOps) m.step = step;
  }
  archParams() {
    return this.mixedOps.filter((m) => m.alpha).map((m) => m.alpha);
  }
  forward(x) {
    return this.fc.call(this.drop.call(this.pool.call(this.last.call(this.blocks.call(this.stem.call(x))))));
  }
}

/** One inverted-residual block (MB3E6, 32 -> 32 channels, stride 1, residual). */
export class OneBlock extends Module {
  constructor() {
    super();
    this.block = this.addModule('block', new Block(32, 32, 1, mbconv(32, 32, 1, 6, 3)));
  }
  forward(x) {
    return this.block.call(x);
  }
}
