import { readFileSync } from 'node:fs';
import { Module, Sequential, tf } from '@modnas/core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear, ReLU6 } from '@modnas/nn';
import { MobileInvertedConv } from '@modnas/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DefaultTrainer, defaultTrainerSchema } from './default-trainer.js';

// Learning parity with PyTorch: the network, initial weights, batches and SGD schedule of
// bench/reference/parity/make_parity.py, trained here with DefaultTrainer, give PyTorch's loss at
// every step, and its weights and batch-norm statistics after the last one. The initial weights are
// PyTorch's default init, except that batch norms feeding a ReLU6 start with bias 3 (make_parity.py
// says why: it keeps float32 runs from parting at ReLU6's kinks).

interface Manifest {
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

const dir = new URL('../../../bench/reference/parity/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('parity.json', dir), 'utf8')) as Manifest;
const bin = readFileSync(new URL('parity.bin', dir));
const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
const stored = new Map(manifest.tensors.map((t) => [t.name, t]));

/** A stored tensor's values and shape, in PyTorch's layout. */
function raw(name: string): { values: Float32Array; shape: number[] } {
  const t = stored.get(name);
  if (!t) throw new Error(`parity fixture has no tensor ${name}`);
  const size = t.shape.reduce((a, b) => a * b, 1);
  return { values: floats.subarray(t.offset, t.offset + size), shape: t.shape };
}

// Tolerances. PyTorch's own float32 rounding noise over this run is below 1e-6 in the loss (the
// fixture records it: float32 vs float64, and float32 from 1-ulp changes of the initial weights);
// tfjs sums in other orders, so allow 50x that. A wrong gradient or update rule is off by 1e-2 or
// more within a few steps.
const LOSS_TOL = 5e-5;
const WEIGHT_TOL = 1e-4; // |ours - torch| <= WEIGHT_TOL * (1 + |torch|), every element

/** Block of the fixture: MobileInvertedConv, plus the residual when stride 1 keeps the channels. */
class Block extends Module {
  readonly conv: MobileInvertedConv;
  readonly residual: boolean;
  constructor(b: Manifest['net']['blocks'][number]) {
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
  constructor(n: Manifest['net']) {
    super();
    this.stem = this.addModule('stem', new Sequential([new Conv2d(n.input[0], n.stem, { kernelSize: 3 }), new BatchNorm2d(n.stem), new ReLU6()]));
    this.blocks = this.addModule('blocks', new Sequential(n.blocks.map((b) => new Block(b))));
    this.fc = this.addModule('fc', new Linear(n.blocks[n.blocks.length - 1].chn_out, n.classes));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.call(this.pool.call(this.blocks.call(this.stem.call(x))));
  }
}

/**
 * PyTorch's state dict (prefix init/ or final/) in our layouts: conv OIHW -> HWIO, depthwise
 * [C, 1, KH, KW] -> [KH, KW, C, 1], linear [out, in] -> [in, out]; BN tensors as they are.
 */
function torchState(model: Module, prefix: string): Map<string, tf.Tensor> {
  const perm = new Map<string, number[]>();
  for (const [path, m] of model.modules()) {
    if (m instanceof Conv2d) perm.set(`${path}.weight`, m.depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]);
    if (m instanceof Linear) perm.set(`${path}.weight`, [1, 0]);
  }
  const out = new Map<string, tf.Tensor>();
  for (const name of model.stateDict().keys()) {
    const { values, shape } = raw(`${prefix}/${name}`);
    const t = tf.tensor(values, shape);
    const p = perm.get(name);
    out.set(name, p ? tf.transpose(t, p) : t);
    if (p) t.dispose();
  }
  return out;
}

async function run(): Promise<{ losses: number[]; lrs: number[]; maxWeightErr: { name: string; err: number }; numTensors: number[] }> {
  const model = new Net(manifest.net);
  const init = torchState(model, 'init');
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
  const { values: xv, shape: xs } = raw('x');
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
      losses.push(trainer.trainStep(model, batches[(epoch * manifest.steps_per_epoch + i) % manifest.batches]).loss);
      numTensors.push(tf.memory().numTensors);
      // let vitest's worker answer its runner between steps (a minute-long synchronous stretch on
      // the slow cpu backend under load trips its RPC timeout)
      await new Promise((r) => setImmediate(r));
    }
  }
  let maxWeightErr = { name: '', err: 0 };
  const final = torchState(model, 'final');
  for (const [name, v] of model.stateDict()) {
    const got = v.dataSync();
    const want = final.get(name)!.dataSync();
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

// The tfjs cpu backend, and the default engine that vitest.setup.ts selected (the wasm engine
// where it sets up on this machine).
const defaultBackend = tf.getBackend();
const backends: Array<{ name: string; skip?: string }> = [
  { name: 'cpu' },
  { name: defaultBackend, skip: defaultBackend === 'cpu' ? 'the default engine did not set up here, so the default backend is cpu (tested above)' : undefined },
];

describe('the fixture', () => {
  it('is PyTorch learning, with little float32 noise of its own', () => {
    const n = manifest.epochs * manifest.steps_per_epoch;
    expect(manifest.losses).toHaveLength(n);
    expect(n).toBeGreaterThanOrEqual(50);
    // the loss falls, so the run is training and not sitting still
    expect(manifest.losses.slice(-10).reduce((a, b) => a + b) / 10).toBeLessThan(manifest.losses[0] - 0.4);
    expect(Math.max(manifest.max_loss_gap_float32_vs_float64, manifest.max_loss_gap_float32_1ulp_init)).toBeLessThan(LOSS_TOL / 10);
  });
});

describe.each(backends)('learning parity with PyTorch on $name', ({ name, skip }) => {
  let before = '';
  beforeAll(async () => {
    before = tf.getBackend();
    if (!skip) await tf.setBackend(name);
  });
  afterAll(async () => {
    await tf.setBackend(before);
  });

  it.skipIf(skip !== undefined)(`${manifest.epochs * manifest.steps_per_epoch} SGD-momentum steps give PyTorch's losses, weights and BN statistics${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    expect(tf.getBackend()).toBe(name);
    const r = await run();
    r.lrs.forEach((lr, i) => expect(lr, `lr at step ${i}`).toBeCloseTo(manifest.lrs[i], 12));
    const gaps = r.losses.map((l, i) => Math.abs(l - manifest.losses[i]));
    const worst = gaps.indexOf(Math.max(...gaps));
    console.info(`parity on ${name}: max loss gap ${gaps[worst].toExponential(1)} (step ${worst}), max weight error ${r.maxWeightErr.err.toExponential(1)} (${r.maxWeightErr.name})`);
    gaps.forEach((g, i) => expect(g, `loss at step ${i}: ours ${r.losses[i]}, PyTorch ${manifest.losses[i]}`).toBeLessThan(LOSS_TOL));
    expect(r.maxWeightErr.err, `final state ${r.maxWeightErr.name}`).toBeLessThan(WEIGHT_TOL);
    // steady state: a step leaks no tensors
    expect(r.numTensors[r.numTensors.length - 1]).toBe(r.numTensors[1]);
  });
});
