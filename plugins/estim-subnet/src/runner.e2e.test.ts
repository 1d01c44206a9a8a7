// The training side end to end through core's runner: the embedded MNIST default, DefaultTrainer,
// DefaultEstimator warm-up, a SuperNetEstimator search and a SubNetEstimator search, with metrics.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Assignment, CategoricalParam, SearchFeedback, SearchOptimizer, TensorParam } from '@modnas/core';
import { Module, Registry, definePlugin, tf, z } from '@modnas/core';
import { prepareExperiment, runExperiment } from '@modnas/runtime';
import mnist from '@modnas/dataset-mnist';
import estimDefault from '@modnas/estim-default';
import estimSupernet from '@modnas/estim-supernet';
import metrics from '@modnas/metrics-default';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear } from '@modnas/nn';
import trainer from '@modnas/trainer-default';
import { afterAll, describe, expect, it } from 'vitest';
import plugin from './index.js';

/** stem -> (relu | relu6 by a categorical param) mixed with identity by softmax(alpha) -> head. */
class Tiny extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly head: Linear;
  constructor(
    chn: number,
    classes: number,
    readonly op: CategoricalParam,
    readonly alpha: TensorParam,
  ) {
    super();
    this.conv = this.addModule('conv', new Conv2d(chn, 4, { kernelSize: 3, stride: 2 }));
    this.bn = this.addModule('bn', new BatchNorm2d(4));
    this.head = this.addModule('head', new Linear(4, classes));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const h = this.bn.call(this.conv.call(x));
    const a = this.op.value === 'relu' ? tf.relu(h) : tf.relu6(tf.mul(h, 2));
    const w = tf.softmax(this.alpha.variable);
    const mixed = tf.add(tf.mul(a, w.gather([0]).reshape([])), tf.mul(h, w.gather([1]).reshape([])));
    return this.head.call(new GlobalAvgPool().call(mixed));
  }
}

/** Grid over the categorical params for next(), gradient descent on α in step({ grad }). */
class GridGrad implements SearchOptimizer {
  private i = 0;
  steps = { grad: 0, results: 0 };
  constructor(readonly ctx: { space: { fromIndex(i: number): Assignment; size(): bigint; tensors(): TensorParam[] } }) {}
  hasNext(): boolean {
    return this.i < Number(this.ctx.space.size());
  }
  next(n: number): Assignment[] {
    const out: Assignment[] = [];
    while (out.length < n && this.hasNext()) out.push(this.ctx.space.fromIndex(this.i++));
    return out.length ? out : [this.ctx.space.fromIndex(0)];
  }
  step(fb: SearchFeedback): void {
    this.steps.results += fb.results.length;
    if (!fb.grad) return;
    this.steps.grad++;
    const g = fb.grad;
    const b = g.validBatch();
    const alphas = g.space.tensors().map((t) => t.variable);
    const { value, grads } = tf.variableGrads(() => g.loss(b), alphas);
    tf.tidy(() => alphas.forEach((a) => grads[a.name] && a.assign(tf.sub(a, tf.mul(grads[a.name], 0.1)))));
    value.dispose();
    tf.dispose(grads);
  }
  state(): unknown {
    return {};
  }
  restore(): void {}
}

let optims: GridGrad[] = [];
const none = z.strictObject({});
const testPlugin = definePlugin({
  meta: { name: '@test/e2e', version: '1.0.0' },
  components: [
    {
      kind: 'backbone',
      id: 'Tiny',
      description: 'x',
      schema: none,
      create: (_c, ctx, input) => {
        const op = ctx.space.categorical({ choices: ['relu', 'relu6x2'] }, 'op');
        const alpha = ctx.space.tensor({ shape: [2] }, 'alpha');
        return new Tiny(input?.inputShape?.[2] ?? 1, input?.numClasses ?? 10, op, alpha);
      },
    },
    {
      kind: 'optim',
      id: 'GridGrad',
      description: 'x',
      schema: none,
      create: (_c, ctx) => {
        const o = new GridGrad(ctx);
        optims.push(o);
        return o;
      },
    },
  ],
});

const dir = mkdtempSync(join(tmpdir(), 'modnas-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training plugins through the runner', () => {
  it('warm-up, supernet search and subnet search on the embedded MNIST, with metrics and records', async () => {
    const r = new Registry();
    for (const p of [mnist, trainer, estimDefault, estimSupernet, plugin, metrics, testPlugin]) r.register(p);
    optims = [];
    const config = {
      name: 'e2e',
      output_dir: dir,
      model: { type: 'Tiny' }, // no data: the MNIST default
      data_provider: { train_portion: 0.5, train_size: 64, valid_size: 32 },
      trainer: { type: 'DefaultTrainer', batch_size: 16, lr: 0.05 },
      optim: { type: 'GridGrad' },
      metrics: { params: { type: 'ParamsMetrics' }, flops: { type: 'FLOPsMetrics' } },
      estim: {
        warmup: { type: 'DefaultEstim', epochs: 1 },
        supernet: { type: 'SuperNetEstimator', epochs: 2 },
        subnet: { type: 'SubNetEstim', epochs: 0, num_bn_batch: 2 },
      },
      export: {},
    };
    const before = tf.memory().numTensors;
    const { plan } = await prepareExperiment(config, [], { registry: r, discover: false });
    const s = await runExperiment(plan, { registry: r });
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(s.estims)).toEqual(['warmup', 'supernet', 'subnet']);
    expect(s.estims.warmup.metrics.acc).toBeGreaterThanOrEqual(0);
    expect(s.estims.warmup.metrics.flops).toBe(14 * 14 * 9 * 1 * 4 + 4 * 10);
    expect(optims[0].steps.grad).toBe(4); // 4 train batches, 2 valid batches: 2 updates per epoch
    expect(s.estims.supernet.best?.arch).toEqual({ op_0: 'relu' });
    // one optimizer for the whole run: the supernet's final next(1) took grid point 0, the subnet search gets the rest
    expect(s.estims.subnet.metrics.candidates).toBe(1);
    expect(optims[0].steps.results).toBe(1);
    const logs = join(dir, 'e2e', 'logs');
    const cands = readFileSync(join(logs, 'candidates.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { estim: string; arch: Assignment; metrics: Record<string, number> });
    expect(cands.map((c) => c.estim)).toEqual(['supernet', 'subnet']);
    expect(cands.map((c) => c.arch.op_0)).toEqual(['relu', 'relu6x2']);
    expect(cands.every((c) => c.metrics.params === 3 * 3 * 4 + 4 + 4 + 4 * 10 + 10)).toBe(true);
    const epochs = readFileSync(join(logs, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { estim: string });
    expect(epochs.map((e) => e.estim)).toEqual(['warmup', 'supernet', 'supernet']);
    expect(existsSync(join(dir, 'e2e', 'outputs', 'summary.json'))).toBe(true);
  });
});
