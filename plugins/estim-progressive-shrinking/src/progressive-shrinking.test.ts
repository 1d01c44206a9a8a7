import type { Assignment, SearchFeedback, SearchOptimizer, TrialResult } from '@modnas/core';
import { ArchSpace, Slot, tf } from '@modnas/core';
import type { MobileNetV2Row } from '@modnas/backbone-mobilenetv2';
import { MobileNetV2 } from '@modnas/backbone-mobilenetv2';
import { mobileNetV2ElasticConstructor } from '@modnas/construct-elastic';
import { elasticArchDesc, elasticBlocks, elasticStages } from '@modnas/kit-elastic';
import { KnowledgeDistillLoss, knowledgeDistillLossSchema } from '@modnas/loss-distill';
import { crossEntropy } from '@modnas/nn';
import { MobileInvertedConv } from '@modnas/nn';
import { describeConformance, makeBuildContext, makeEstimContext, tinySplit } from '@modnas/testkit';
import { DefaultTrainer, defaultTrainerSchema } from '@modnas/trainer-default';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import type { SubnetConfig } from './progressive-shrinking.js';
import { ProgressiveShrinkingEstimator, RepeatLabelsSplit, SubnetBatch, progressiveShrinkingSchema } from './progressive-shrinking.js';

// Width 0.1: every stage has 8 channels and the last conv 128 (the tfjs cpu backend is slow; keep it tiny).
const TABLE: MobileNetV2Row[] = [
  [0, 8, 1, 1],
  [1, 8, 1, 1],
  [6, 8, 3, 1],
  [6, 16, 2, 2],
];

async function setup(opts: { trainer?: Record<string, unknown>; n?: number } = {}) {
  const space = new ArchSpace();
  const net = new MobileNetV2({ cfgs: TABLE, numClasses: 4, dropoutRate: 0, widthCoeff: 0.1 });
  Slot.find(net).forEach(([, s], i) => s.fill(new MobileInvertedConv(s.chnIn, s.chnOut, s.stride, { expansion: i === 0 ? 1 : 6, kernelSize: i === 0 ? 3 : 7 })));
  const bctx = makeBuildContext({ space });
  const t = (await mobileNetV2ElasticConstructor.create(
    mobileNetV2ElasticConstructor.schema.parse({
      spatial_kwargs: { expansion_range: [2, 4, 6] },
      sequential_kwargs: { repeat_range: [1, 2, 3] },
      kernel_kwargs: { kernel_range: [3, 5, 7] },
    }),
    bctx,
    undefined,
  ));
  await t.apply(net, bctx);
  const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ batch_size: 4, lr: 0.05, ...opts.trainer }), space);
  const ctx = makeEstimContext({ model: net, space, trainer, train: tinySplit(opts.n ?? 8, [4, 4, 3]), valid: tinySplit(4, [4, 4, 3], 4, 1) });
  const done = (): void => {
    trainer.dispose();
    net.dispose();
    space.dispose();
  };
  return { space, net, trainer, ctx, done };
}

/** Values of each dimension over the subnets trained in one stage. */
function sizes(subnets: Map<string, SubnetConfig>) {
  const all = [...subnets.values()];
  return {
    width: new Set(all.flatMap((c) => c.width)),
    kernel: new Set(all.flatMap((c) => c.kernel)),
    depth: new Set(all.flatMap((c) => c.depth)),
  };
}

/** Proposes a fixed list of candidates; records the feedback. */
class ListOptim implements SearchOptimizer {
  i = 0;
  fed: TrialResult[][] = [];
  constructor(readonly list: Assignment[]) {}
  hasNext(): boolean {
    return this.i < this.list.length;
  }
  next(n: number): Assignment[] {
    const out = this.list.slice(this.i, this.i + n);
    this.i += out.length;
    return out;
  }
  step(fb: SearchFeedback): void {
    this.fed.push(fb.results);
  }
  state(): unknown {
    return {};
  }
  restore(): void {}
}

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  // it trains elastic blocks: the tiny default model has none
  estimContexts: { ProgressiveShrinkingEstimator: async () => setup() },
});

describe('ProgressiveShrinkingEstimator', () => {
  it('trains subnets of every stage\'s sizes: largest, then kernel, depth and width; then follows the arch params again', async () => {
    const s = await setup();
    const w0 = s.net.parameters().map((p) => Array.from(p.dataSync()));
    s.trainer.reset();
    const before = tf.memory().numTensors;
    const stages = [{}, { kernel: [7, 5, 3] }, { kernel: [7, 5, 3], sequential: [3, 2, 1] }, { kernel: [7, 5, 3], sequential: [3, 2, 1], spatial: [6, 4, 2] }];
    const est = new ProgressiveShrinkingEstimator(progressiveShrinkingSchema.parse({ epochs: 1, n_subnet_batch: 2, subnet_valid_freq: 0, stages }));
    const g = est.groups(s.net);
    expect([g.spatial.length, g.kernel.length, g.sequential.length]).toEqual([5, 5, 2]);
    // What each stage may sample, per group.
    const cands = stages.map((st) => est.candidates(st, g));
    const full = { width: [[48], [48], [48], [48], [48]], kernel: [[7], [7], [7], [7], [7]], depth: [[3], [2]] };
    expect(cands[0]).toEqual(full);
    expect(cands[1]).toEqual({ ...full, kernel: Array(5).fill([7, 5, 3]) });
    expect(cands[2]).toEqual({ ...full, kernel: Array(5).fill([7, 5, 3]), depth: [[3, 2, 1], [2, 1]] });
    expect(cands[3]).toEqual({ width: Array(5).fill([48, 32, 16]), kernel: Array(5).fill([7, 5, 3]), depth: [[3, 2, 1], [2, 1]] });

    const r = await est.run(s.ctx);
    // Every trained subnet lies in its stage's sizes, and the stage's elastic dimensions do vary.
    est.trained.forEach((subnets, i) => {
      for (const c of subnets.values()) {
        c.width.forEach((v, j) => expect(cands[i].width[j]).toContain(v));
        c.kernel.forEach((v, j) => expect(cands[i].kernel[j]).toContain(v));
        c.depth.forEach((v, j) => expect(cands[i].depth[j]).toContain(v));
      }
    });
    const seen = est.trained.map(sizes);
    expect(est.trained[0].size).toBe(1);
    expect(seen[1].kernel.size).toBeGreaterThan(1);
    expect(seen[2].kernel.size).toBeGreaterThan(1);
    expect(seen[2].depth.size).toBeGreaterThan(2);
    expect(seen[3].width.size).toBeGreaterThan(1);
    expect(est.trained.slice(1).every((m) => m.size > 1)).toBe(true);
    expect(r.metrics.train_loss).toBeGreaterThan(0);
    expect(s.ctx.store.read('metrics')).toHaveLength(4);
    // Weights were trained, the network follows its (untouched, largest) params again, nothing leaks.
    expect(s.net.parameters().some((p, i) => Array.from(p.dataSync()).some((v, j) => v !== w0[i][j]))).toBe(true);
    expect(elasticArchDesc(s.net)).toEqual([null, 'MB7E6', 'MB7E6', 'MB7E6', 'MB7E6', 'MB7E6']);
    s.trainer.reset();
    expect(tf.memory().numTensors).toBe(before);
    s.done();
  });

  it('n_subnet_batch: one weight step on the mean of the subnets\' losses', async () => {
    const s = await setup({ trainer: { momentum: 0, weight_decay: 0, grad_clip: 0, lr_scheduler: 'none', lr: 0.1 } });
    const est = new ProgressiveShrinkingEstimator(progressiveShrinkingSchema.parse({}));
    const g = est.groups(s.net);
    const apply = (c: SubnetConfig): void => ProgressiveShrinkingEstimator.applySubnet(g, c);
    const a: SubnetConfig = { width: [16, 48, 32, 40, 24], kernel: [3, 7, 5, 3, 5], depth: [2, 1] };
    const b: SubnetConfig = { width: [48, 16, 48, 32, 32], kernel: [7, 3, 3, 7, 3], depth: [3, 2] };
    const wrapper = new SubnetBatch(s.net, apply);
    wrapper.configs = [a, b];
    const x = tf.randomNormal([4, 4, 4, 3], 0, 1, 'float32', 1);
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    s.net.train();
    // Forward: the logits of a then b, stacked.
    const weights = s.trainer.trainableWeights(s.net);
    const saved = s.net.stateDict();
    const snap = new Map([...saved].map(([k, v]) => [k, tf.clone(v)]));
    const stacked = wrapper.call(x);
    s.net.loadStateDict(snap);
    apply(a);
    const la = s.net.call(x);
    s.net.loadStateDict(snap);
    apply(b);
    const lb = s.net.call(x);
    s.net.loadStateDict(snap);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(stacked, tf.concat([la, lb], 0)))).dataSync()[0])).toBeLessThan(1e-5);
    // The expected update: w − lr · ∇w (L_a + L_b) / 2, computed directly.
    const expected = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        apply(a);
        const l1 = crossEntropy(s.net.call(x), y);
        apply(b);
        const l2 = crossEntropy(s.net.call(x), y);
        return tf.div<tf.Scalar>(tf.add(l1, l2), 2);
      }, weights);
      return weights.map((w) => (grads[w.name] ? tf.keep(tf.sub(w, tf.mul(grads[w.name], 0.1))) : tf.keep(tf.clone(w))));
    });
    s.net.loadStateDict(snap);
    const split: RepeatLabelsSplit = new RepeatLabelsSplit(
      { size: 4, batches: () => [{ x: tf.clone(x as tf.Tensor4D), y: tf.clone(y) }], subset: (): RepeatLabelsSplit => split },
      () => wrapper.configs.length,
    );
    const [batch] = [...split.batches(4)];
    expect(Array.from(batch.y.dataSync())).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    await s.trainer.trainStep(wrapper, batch);
    const diff = Math.max(...weights.map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, expected[i]))).dataSync()[0])));
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, y, stacked, la, lb, batch.x, batch.y, ...expected, ...snap.values()]);
    s.done();
  });

  it('validates the stage\'s uniform subnets with recalibrated BN and puts the supernet statistics back', async () => {
    const s = await setup();
    const est = new ProgressiveShrinkingEstimator(
      progressiveShrinkingSchema.parse({ epochs: 1, subnet_valid_freq: 1, num_bn_batch: 1, stages: [{ spatial: [6, 2], sequential: [3, 1] }], save_stage: true }),
    );
    const r = await est.run(s.ctx);
    expect([...est.subnetResults.keys()].sort()).toEqual(['sp_2_sq_1', 'sp_2_sq_3', 'sp_6_sq_1', 'sp_6_sq_3']);
    for (const v of est.subnetResults.values()) expect(v >= 0 && v <= 1).toBe(true);
    expect(r.metrics.best_acc).toBe(Math.max(...est.subnetResults.values()));
    expect(s.ctx.store.read('ps_stages')).toHaveLength(1);
    expect(est.trained[0].size).toBeGreaterThan(0);
    // Validation recalibrates BN per subnet but puts the supernet's own statistics back.
    const bufs = (): number[][] => s.net.namedBuffers().map(([, b]) => Array.from(b.dataSync()));
    const b0 = bufs();
    const n0 = tf.memory().numTensors;
    const res = await est.validSubnets(s.ctx, est.groups(s.net), { spatial: [2], sequential: [1] });
    expect([...res.keys()]).toEqual(['sp_2_sq_1']);
    expect(bufs()).toEqual(b0);
    expect(tf.memory().numTensors).toBe(n0);
    s.done();
  });

  it('reads ratios with use_ratio (int(max x ratio), at least 1), as the seed\'s ps.yml', async () => {
    const s = await setup();
    const est = new ProgressiveShrinkingEstimator(progressiveShrinkingSchema.parse({ use_ratio: true }));
    const c = est.candidates({ sequential: [1.0, 0.75, 0.5, 0.25], spatial: [1.0, 0.67, 0.5, 0.17] }, est.groups(s.net));
    expect(c.depth).toEqual([
      [3, 2, 1],
      [2, 1],
    ]);
    // Blocks of 8 input channels: 48 hidden.
    expect(c.width).toEqual(Array(5).fill([48, 32, 24, 8]));
    s.done();
  });

  it('searches subnets with the experiment\'s optimizer and leaves the best applied', async () => {
    const s = await setup();
    const list: Assignment[] = [
      { seq_0: 1, seq_1: 1, spa_0: 2, ker_0: 3 },
      { seq_0: 3, seq_1: 2, spa_0: 6, ker_0: 7 },
      { seq_0: 2, seq_1: 1, spa_2: 4, ker_1: 5 },
    ];
    const optim = new ListOptim(list);
    const ctx = { ...s.ctx, optim };
    s.ctx.metrics.push((m) => ({ blocks: elasticArchDesc(m).filter((d) => d !== 'NIL' && d !== null).length }));
    const est = new ProgressiveShrinkingEstimator(progressiveShrinkingSchema.parse({ epochs: 1, stages: [{}], search_rounds: 5, search_batch: 2, num_bn_batch: 1, score: '-blocks' }));
    const r = await est.run(ctx);
    expect(optim.fed.map((f) => f.length)).toEqual([2, 1]);
    expect(s.ctx.store.read('candidates')).toHaveLength(3);
    // Fewest blocks wins with score '-blocks': the first candidate (depths 1 and 1).
    expect(r.best?.arch).toEqual(list[0]);
    expect(r.best?.metrics.blocks).toBe(2);
    expect(elasticStages(s.net).map((st) => st.depth)).toEqual([1, 1]);
    expect(elasticBlocks(s.net)[0].width).toBe(16);
    expect(elasticBlocks(s.net)[0].kernel).toBe(3);
    s.done();
  });

  it('says what to add when the model has nothing elastic', async () => {
    const space = new ArchSpace();
    const net = new MobileNetV2({ cfgs: TABLE, numClasses: 4, widthCoeff: 0.1 });
    const trainer = new DefaultTrainer(defaultTrainerSchema.parse({ batch_size: 8 }), space);
    const ctx = makeEstimContext({ model: net, space, trainer });
    await expect(new ProgressiveShrinkingEstimator(progressiveShrinkingSchema.parse({})).run(ctx)).rejects.toThrow(/MobileNetV2ElasticConstructor/);
    net.dispose();
    space.dispose();
  });
});

describe('ProgressiveShrinkingEstimator with a teacher (criterion: KnowledgeDistillLoss, as VEGA\'s ps.yml)', () => {
  it("trains the subnets against the full network's outputs at the start: the loss has the teacher term, and the students end elsewhere than without it", async () => {
    const cfg = progressiveShrinkingSchema.parse({ epochs: 2, n_subnet_batch: 2, subnet_valid_freq: 0, stages: [{ sequential: [1, 2, 3], spatial: [2, 4, 6] }] });
    const x = tf.randomNormal([4, 4, 4, 3], 0, 1, 'float32', 9);
    const trainOnce = async (withTeacher: boolean, init?: Map<string, tf.Tensor>) => {
      const s = await setup({ n: 16 });
      if (init) s.net.loadStateDict(init);
      const w0 = new Map([...s.net.stateDict()].map(([k, v]) => [k, tf.clone(v)] as const));
      const losses = withTeacher ? [new KnowledgeDistillLoss(knowledgeDistillLossSchema.parse({ kd_ratio: 0.8 }))] : [];
      const r = await new ProgressiveShrinkingEstimator(cfg, losses).run(s.ctx);
      // a small subnet's outputs after training
      for (const b of elasticBlocks(s.net)) b.setWidth(16);
      for (const st of elasticStages(s.net)) st.setDepth(1);
      s.net.eval();
      const out = tf.tidy(() => tf.softmax(s.net.call(x)));
      s.done();
      return { loss: r.metrics.train_loss, out, w0 };
    };
    const a = await trainOnce(true);
    const b = await trainOnce(false, a.w0);
    expect(Math.abs(a.loss - b.loss)).toBeGreaterThan(1e-3);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a.out, b.out))).dataSync()[0])).toBeGreaterThan(1e-3);
    tf.dispose([x, a.out, b.out, ...a.w0.values(), ...b.w0.values()]);
  });
});
