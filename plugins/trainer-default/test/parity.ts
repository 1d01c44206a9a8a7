/**
 * Learning parity with PyTorch, the harness: the network, initial weights, batches and SGD schedule
 * of bench/reference/parity/make_parity.py, trained with DefaultTrainer on whatever backend is
 * active, and the comparison with PyTorch's losses, final weights and batch-norm statistics. It
 * touches no file: the caller hands it the fixture (parity.json and parity.bin), so the same run
 * is checked in Node (src/parity.test.ts, cpu and the default engine) and in a browser page
 * (@modnas/engine-webgpu's test, on WebGPU). The initial weights are PyTorch's default init,
 * except that batch norms feeding a ReLU6 start with bias 3 (make_parity.py says why: it keeps
 * float32 runs from parting at ReLU6's kinks).
 */
import { Module, Sequential, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear, MobileInvertedConv, ReLU6 } from '@modnas/nn';
import { DefaultTrainer, defaultTrainerSchema } from '../src/default-trainer.js';

export interface ParityManifest {
  net: { input: [number, number, number]; stem: number; blocks: Array<{ chn_in: number; chn_out: number; stride: number; expansion: number; kernel: number }>; classes: number };
  batch: number;
  batches: number;
  epochs: number;
  steps_per_epoch: number;
  hp: { lr: number; momentum: number; weight_decay: number; nesterov: boolean; lr_scheduler: 'cosine'; lr_min: number; t_max: number };
  labels: number[][];
  losses: number[];
  lrs: number[];
  max_loss_gap_float32_vs_float64: number;
  max_loss_gap_float32_1ulp_init: number;
  tensors: Array<{ name: string; shape: number[]; offset: number }>;
}

export interface ParityFixture {
  manifest: ParityManifest;
  /** parity.bin as float32 values. */
  floats: Float32Array;
}

export interface ParityRun {
  losses: number[];
  lrs: number[];
  maxWeightErr: { name: string; err: number };
  numTensors: number[];
}

// Tolerances. PyTorch's own float32 rounding noise over this run is below 1e-6 in the loss (the
// fixture records it: float32 vs float64, and float32 from 1-ulp changes of the initial weights);
// tfjs sums in other orders, so allow 50x that. A wrong gradient or update rule is off by 1e-2 or
// more within a few steps.
export const LOSS_TOL = 5e-5;
/** |ours - torch| <= WEIGHT_TOL * (1 + |torch|), every element. */
export const WEIGHT_TOL = 1e-4;

/** Block of the fixture: MobileInvertedConv, plus the residual when stride 1 keeps the channels. */
class Block extends Module {
  readonly conv: MobileInvertedConv;
  readonly residual: boolean;
  constructor(b: ParityManifest['net']['blocks'][number]) {
    super();
    this.conv = this.addModule('conv', new MobileInvertedConv(b.chn_in, b.chn_out, b.stride, { expansion: b.expansion, kernelSize: b.kernel }));
    this.residual = b.stride === 1 && b.chn_in === b.chn_out;
  }
  forward(x: tf.Tensor): tf.Tensor {
    const y = this.conv.call(x);
    return this.residual ? tf.add(y, x) : y;
  }
}

/** make_parity.py's Net, with the same module paths (so state-dict names match PyTorch's). */
class Net extends Module {
  readonly stem: Sequential;
  readonly blocks: Sequential;
  readonly pool = new GlobalAvgPool();
  readonly fc: Linear;
  constructor(n: ParityManifest['net']) {
    super();
    this.stem = this.addModule('stem', new Sequential([new Conv2d(n.input[0], n.stem, { kernelSize: 3 }), new BatchNorm2d(n.stem), new ReLU6()]));
    this.blocks = this.addModule('blocks', new Sequential(n.blocks.map((b) => new Block(b))));
    this.fc = this.addModule('fc', new Linear(n.blocks[n.blocks.length - 1].chn_out, n.classes));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(this.pool.call(this.blocks.call(this.stem.call(x))));
  }
}

/** A stored tensor's values and shape, in PyTorch's layout. */
function raw(fx: ParityFixture, name: string): { values: Float32Array; shape: number[] } {
  const t = fx.manifest.tensors.find((s) => s.name === name);
  if (!t) throw new Error(`parity fixture has no tensor ${name}`);
  const size = t.shape.reduce((a, b) => a * b, 1);
  return { values: fx.floats.subarray(t.offset, t.offset + size), shape: t.shape };
}

/**
 * PyTorch's state dict (prefix init/ or final/) in our layouts: conv OIHW -> HWIO, depthwise
 * [C, 1, KH, KW] -> [KH, KW, C, 1], linear [out, in] -> [in, out]; BN tensors as they are.
 */
function torchState(fx: ParityFixture, model: Module, prefix: string): Map<string, tf.Tensor> {
  const perm = new Map<string, number[]>();
  for (const [path, m] of model.modules()) {
    if (m instanceof Conv2d) perm.set(`${path}.weight`, m.depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]);
    if (m instanceof Linear) perm.set(`${path}.weight`, [1, 0]);
  }
  const out = new Map<string, tf.Tensor>();
  for (const name of model.stateDict().keys()) {
    const { values, shape } = raw(fx, `${prefix}/${name}`);
    const t = tf.tensor(values, shape);
    const p = perm.get(name);
    out.set(name, p ? tf.transpose(t, p) : t);
    if (p) t.dispose();
  }
  return out;
}

/**
 * Trains the fixture's network on the active backend. `pause` runs between steps (Node's test
 * yields to vitest's worker there: a minute-long synchronous stretch on the slow cpu backend under
 * load trips its RPC timeout).
 */
export async function runParity(fx: ParityFixture, pause: () => Promise<void> = async () => {}): Promise<ParityRun> {
  const { manifest } = fx;
  const model = new Net(manifest.net);
  const init = torchState(fx, model, 'init');
  model.loadStateDict(init);
  tf.dispose([...init.values()]);
  const hp = manifest.hp;
  const trainer = new DefaultTrainer(
    defaultTrainerSchema.parse({
      optimizer: 'sgd',
      lr: hp.lr,
      momentum: hp.momentum,
      nesterov: hp.nesterov,
      weight_decay: hp.weight_decay,
      lr_scheduler: hp.lr_scheduler,
      lr_min: hp.lr_min,
      t_max: hp.t_max,
      grad_clip: 0,
      batch_size: manifest.batch,
    }),
  );
  // x is stored NCHW [batches, batch, C, H, W]; ours is NHWC.
  const { values: xv, shape: xs } = raw(fx, 'x');
  const xAll = tf.tidy(() => tf.transpose(tf.tensor(xv, xs), [0, 1, 3, 4, 2]));
  const batches = manifest.labels.map((ys, b) => ({
    x: tf.tidy(() => tf.squeeze<tf.Tensor4D>(tf.slice(xAll, [b, 0, 0, 0, 0], [1, -1, -1, -1, -1]), [0])),
    y: tf.tensor1d(ys, 'int32'),
  }));
  xAll.dispose();
  const losses: number[] = [];
  const lrs: number[] = [];
  const numTensors: number[] = [];
  model.train();
  for (let epoch = 0; epoch < manifest.epochs; epoch++) {
    trainer.setEpoch(epoch, manifest.epochs);
    for (let i = 0; i < manifest.steps_per_epoch; i++) {
      lrs.push(trainer.currentLr());
      losses.push((await trainer.trainStep(model, batches[(epoch * manifest.steps_per_epoch + i) % manifest.batches])).loss);
      numTensors.push(tf.memory().numTensors);
      await pause();
    }
  }
  let maxWeightErr = { name: '', err: 0 };
  const final = torchState(fx, model, 'final');
  for (const [name, v] of model.stateDict()) {
    const got = await v.data();
    const want = await final.get(name)!.data();
    for (let i = 0; i < want.length; i++) {
      const err = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
      if (err > maxWeightErr.err) maxWeightErr = { name: `${name}[${i}]`, err };
    }
  }
  tf.dispose([...final.values()]);
  batches.forEach((b) => tf.dispose([b.x, b.y]));
  trainer.dispose();
  model.dispose();
  return { losses, lrs, maxWeightErr, numTensors };
}

/**
 * What parts a run from PyTorch's: each step whose learning rate or loss differs, the final state
 * off by more than WEIGHT_TOL, a step that leaks tensors (the count must hold from the second
 * step on). Empty: parity. `summary` is the run's worst gaps, for the log.
 */
export function parityFailures(r: ParityRun, manifest: ParityManifest): { failures: string[]; summary: string } {
  const failures: string[] = [];
  r.lrs.forEach((lr, i) => {
    if (!(Math.abs(lr - manifest.lrs[i]) < 5e-13)) failures.push(`lr at step ${i}: ours ${lr}, PyTorch ${manifest.lrs[i]}`);
  });
  const gaps = r.losses.map((l, i) => Math.abs(l - manifest.losses[i]));
  gaps.forEach((g, i) => {
    if (!(g < LOSS_TOL)) failures.push(`loss at step ${i}: ours ${r.losses[i]}, PyTorch ${manifest.losses[i]} (gap ${g.toExponential(1)}, allowed ${LOSS_TOL})`);
  });
  if (r.losses.length !== manifest.losses.length) failures.push(`${r.losses.length} steps, PyTorch ${manifest.losses.length}`);
  if (!(r.maxWeightErr.err < WEIGHT_TOL)) failures.push(`final state ${r.maxWeightErr.name}: error ${r.maxWeightErr.err.toExponential(1)}, allowed ${WEIGHT_TOL}`);
  const leak = r.numTensors[r.numTensors.length - 1] - r.numTensors[1];
  if (leak !== 0) failures.push(`${leak} tensors leaked between step 1 and the last`);
  const worst = gaps.indexOf(Math.max(...gaps));
  const summary = `max loss gap ${gaps[worst].toExponential(1)} (step ${worst}), max weight error ${r.maxWeightErr.err.toExponential(1)} (${r.maxWeightErr.name})`;
  return { failures, summary };
}
