import { readFileSync } from 'node:fs';
import type { Batch } from '@modnas/core';
import { Module, tf } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { DefaultTrainer, LR_SCHEDULERS, OPTIMIZERS, defaultTrainerSchema } from './default-trainer.js';

// PyTorch 1.13's trajectories, made by test/torch_reference.py (its header has the command): each
// optimizer from fixed weights with a fixed gradient per step, each schedule's LR per epoch.

interface Case {
  name: string;
  options: Record<string, unknown>;
  torch: { type: string; args: Record<string, unknown> };
}
interface Reference {
  torch: string;
  w0: number[];
  grads: number[][];
  optimizers: Array<Case & { trajectory: number[][] }>;
  lr: number;
  schedules: Array<Case & { lrs: number[]; momentums?: number[] }>;
  cycled: Case & { trajectory: number[][] };
}

const ref = JSON.parse(readFileSync(new URL('../test/torch-reference.json', import.meta.url), 'utf8')) as Reference;

// float32 rounding in another order than PyTorch's (measured: under 1e-7 relative over these steps);
// a wrong rule (a missing bias correction, NAdam's old mu product, swapped Rprop etas) is off by 1e-3
// or more.
const TOL = 1e-6;

/** One weight vector w; the loss is g·w for the gradient g of the current step (set by `at`). */
class Linear1 extends Module {
  readonly w: tf.Variable;
  constructor(w0: number[]) {
    super();
    this.w = this.addParam('w', tf.tensor1d(w0));
  }
  forward(x: tf.Tensor): tf.Tensor {
    // logits that do not depend on w (their gradient is exactly 0), so the loss term alone moves w
    return tf.mul(tf.zeros([x.shape[0], 2]), tf.sum(this.w));
  }
}

/** A trainer with `options` over Linear1; step(k) applies ref.grads[k]. */
function rig(options: Record<string, unknown>, model = new Linear1(ref.w0)) {
  const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ lr_scheduler: 'none', grad_clip: 0, ...options }));
  let k = 0;
  trainer.addLossTerm(({ model: m }) => tf.sum(tf.mul(tf.tensor1d(ref.grads[k]), (m as Linear1).w)), { mode: 'train' });
  const batch: Batch = { x: tf.zeros([1, 1, 1, 1]), y: tf.tensor1d([0], 'int32') };
  return {
    model,
    trainer,
    async step(at: number): Promise<number[]> {
      k = at;
      await trainer.trainStep(model, batch);
      return Array.from(model.w.dataSync());
    },
    dispose(): void {
      trainer.dispose();
      tf.dispose([batch.x, batch.y]);
    },
  };
}

function expectClose(got: number[], want: number[], what: string): void {
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `${what}[${i}]: ${g} vs torch ${want[i]}`).toBeLessThanOrEqual(TOL * (1 + Math.abs(want[i]))));
}

describe(`DefaultTrainer against PyTorch ${ref.torch}`, () => {
  it('has a reference for every optimizer and every schedule', () => {
    expect(new Set(ref.optimizers.map((c) => c.options.optimizer))).toEqual(new Set(OPTIMIZERS));
    expect(new Set([...ref.schedules.map((c) => c.options.lr_scheduler), 'none'])).toEqual(new Set(LR_SCHEDULERS));
  });

  for (const c of ref.optimizers) {
    it(`${c.name}: ${c.torch.type}(${JSON.stringify(c.torch.args)}) step by step`, async () => {
      const r = rig(c.options);
      for (const [k, want] of c.trajectory.entries()) expectClose(await r.step(k), want, `step ${k + 1}`);
      r.dispose();
      r.model.dispose();
    });
  }

  for (const c of ref.optimizers) {
    it(`${c.name}: a trainer restored from state() continues exactly as the one that saved it`, async () => {
      const a = rig(c.options);
      const steps = async (r: typeof a, ks: number[]): Promise<number[][]> => {
        const out: number[][] = [];
        for (const k of ks) out.push(await r.step(k));
        return out;
      };
      await steps(a, [0, 1, 2]);
      const saved = JSON.parse(JSON.stringify(a.trainer.state())) as unknown;
      const w3 = Array.from(a.model.w.dataSync());
      const straight = await steps(a, [3, 4, 5, 6, 7]);
      // the same weights, a fresh trainer from the checkpoint
      a.model.w.assign(tf.tensor1d(w3));
      const b = rig(c.options, a.model);
      b.trainer.restore(saved);
      const resumed = await steps(b, [3, 4, 5, 6, 7]);
      expect(resumed).toEqual(straight);
      resumed.forEach((w, i) => expectClose(w, c.trajectory[i + 3], `resumed step ${i + 4}`));
      a.dispose();
      b.dispose();
      a.model.dispose();
    });
  }

  for (const c of ref.schedules) {
    it(`${c.name}: ${c.torch.type}(${JSON.stringify(c.torch.args)}) epoch by epoch`, () => {
      const t = new DefaultTrainer(defaultTrainerSchema.parse({ lr: ref.lr, ...c.options }));
      const lrs = c.lrs.map((_, e) => (t.setEpoch(e, c.lrs.length), t.currentLr()));
      lrs.forEach((lr, e) => expect(lr, `epoch ${e}`).toBeCloseTo(c.lrs[e], 12));
      // OneCycleLR and CyclicLR also set SGD's momentum (Adam's beta1); the others leave it alone
      const momentums = c.lrs.map((_, e) => (t.setEpoch(e, c.lrs.length), t.currentMomentum()));
      // (otherwise: the trainer's default momentum and Adam's default beta1, both 0.9)
      momentums.forEach((m, e) => expect(m, `momentum at epoch ${e}`).toBeCloseTo(c.momentums?.[e] ?? 0.9, 12));
      t.dispose();
    });
  }

  it(`${ref.cycled.name}: ${ref.cycled.torch.type} under OneCycleLR, one step per epoch, the momentum cycled`, async () => {
    const r = rig(ref.cycled.options);
    for (const [k, want] of ref.cycled.trajectory.entries()) {
      r.trainer.setEpoch(k, ref.cycled.trajectory.length);
      expectClose(await r.step(k), want, `step ${k + 1}`);
    }
    r.dispose();
    r.model.dispose();
  });

  it('eps 0 stands for the optimizer\'s own default', async () => {
    // Adadelta's first step is sqrt(eps)/sqrt((1-rho) g^2 + eps) * g: eps decides its size
    const step1 = async (eps?: number): Promise<number> => {
      const r = rig({ optimizer: 'adadelta', lr: 1, weight_decay: 0, ...(eps === undefined ? {} : { eps }) });
      const w = (await r.step(0))[3];
      r.dispose();
      r.model.dispose();
      return ref.w0[3] - w;
    };
    expect(await step1()).toBeCloseTo(await step1(1e-6), 7);
    expect(Math.abs((await step1()) - (await step1(1e-8)))).toBeGreaterThan(1e-3);
  });
});
