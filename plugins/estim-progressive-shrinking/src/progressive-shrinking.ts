import type { Batch, BatchOptions, DataSplit, EstimContext, EstimResult, Loss, Module, StateEstimator, TrialResult } from '@modnas/core';
import { Module as ModuleBase, ModnasError, defineComponent, tf, z } from '@modnas/core';
import { applyCandidate, buildCriterion, criterionField, evaluate, formatMetrics, isAborted, recalibrateBatchNorm, reportCandidate, reportEpoch, scoreOf, startLosses, trainEpoch, validateWithMetrics } from '@modnas/kit-estim';
import type { ElasticMBConv, ElasticStage } from '@modnas/kit-elastic';
import { elasticBlocks, elasticStages, resetElastic, syncElastic } from '@modnas/kit-elastic';


const valuesSchema = z.union([z.array(z.number().positive()).min(1), z.array(z.array(z.number().positive()).min(1)).min(1)]);

export const stageSchema = z
  .strictObject({
    sequential: valuesSchema.optional().describe('Depths per stage to sample (ratios of each stage\'s depth with use_ratio)'),
    spatial: valuesSchema.optional().describe('Expansion ratios per block to sample (ratios of the block\'s largest width with use_ratio)'),
    kernel: valuesSchema.optional().describe('Depthwise kernel sizes per block to sample'),
  })
  .describe('One phase of progressive shrinking: the values each elastic dimension samples from (a dimension left out stays at its largest)');
export type PSStage = z.output<typeof stageSchema>;

/** Once-for-All's order: the largest network, then elastic kernel, then depth, then width. */
export const DEFAULT_PS_STAGES: PSStage[] = [
  {},
  { kernel: [7, 5, 3] },
  { kernel: [7, 5, 3], sequential: [4, 3, 2] },
  { kernel: [7, 5, 3], sequential: [4, 3, 2], spatial: [6, 4, 3] },
];

export const progressiveShrinkingSchema = z.strictObject({
  epochs: z.number().int().min(0).default(1).describe('Training epochs of each stage'),
  stages: z
    .array(stageSchema)
    .default(() => DEFAULT_PS_STAGES.map((s) => ({ ...s })))
    .describe('The shrinking stages in order; each lists the elastic dimensions it samples (keys sequential, spatial, kernel)'),
  use_ratio: z.boolean().default(false).describe('Read sequential and spatial values as ratios of each group\'s largest depth / width (int(max x ratio), at least 1)'),
  n_subnet_batch: z.number().int().positive().default(1).describe('Subnets sampled per training batch (duplicates dropped); their losses are averaged into one weight step'),
  stage_rerank_spatial: z.boolean().default(true).describe('Re-rank the hidden channels of every width-elastic block by importance at the start of each stage'),
  reset_stage_training: z.boolean().default(true).describe('Fresh optimizer slots, warmup and LR schedule for every stage'),
  subnet_valid_freq: z.number().int().min(0).default(25).describe('Every this many epochs of a stage, validate the stage\'s grid of uniform subnets (0 = never)'),
  num_bn_batch: z.number().int().min(0).default(100).describe('Training batches that recalibrate batch-norm statistics before a subnet is validated'),
  clear_subnet_bn: z.boolean().default(true).describe('Reset batch-norm statistics before recalibrating them'),
  save_stage: z.boolean().default(false).describe('Append each finished stage (its subnet results) to the results store, stream "ps_stages" (the original saved a checkpoint)'),
  valid_batches: z.number().int().min(0).default(0).describe('Validation batches per subnet (0 = the whole valid split)'),
  search_rounds: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('After training, rounds of subnet search with the experiment\'s optimizer (e.g. EvolutionOptim) over the elastic arch params (0 = none; a SubNetEstimator can search instead)'),
  search_batch: z.number().int().positive().default(8).describe('Candidates asked of the optimizer per search round'),
  score: z.string().default('acc').describe("Metric that scores a searched subnet (a leading '-' means lower is better)"),
  criterion: criterionField,
});
export type ProgressiveShrinkingConfig = z.output<typeof progressiveShrinkingSchema>;

/** A subnet: the size of every elastic group, in group order. */
export interface SubnetConfig {
  width: number[];
  kernel: number[];
  depth: number[];
}

interface Groups {
  spatial: ElasticMBConv[];
  kernel: ElasticMBConv[];
  sequential: ElasticStage[];
}

/** Per group, the distinct allowed values of one dimension (largest when the stage leaves it out). */
interface Candidates {
  width: number[][];
  kernel: number[][];
  depth: number[][];
}

export const subnetKey = (c: SubnetConfig): string => JSON.stringify(c);

/**
 * Runs several subnets on the same input and stacks their logits along the batch axis; with the
 * labels repeated as often, one trainer step then averages the subnets' losses (and gradients).
 */
export class SubnetBatch extends ModuleBase {
  configs: SubnetConfig[] = [];

  constructor(
    readonly net: Module,
    private readonly applyConfig: (c: SubnetConfig) => void,
  ) {
    super();
    this.addModule('net', net);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.configs.length <= 1) {
      if (this.configs[0]) this.applyConfig(this.configs[0]);
      return this.net.call(x);
    }
    return tf.concat(
      this.configs.map((c) => {
        this.applyConfig(c);
        return this.net.call(x);
      }),
      0,
    );
  }

  /** The network is not this module's to free. */
  override dispose(): void {}
}

/** A split whose batches carry their labels repeated `times()` times (read when each batch is drawn). */
export class RepeatLabelsSplit implements DataSplit {
  constructor(
    private readonly inner: DataSplit,
    private readonly times: () => number,
  ) {}

  get size(): number {
    return this.inner.size;
  }

  *batches(batchSize: number, opts?: BatchOptions): Iterable<Batch> {
    for (const b of this.inner.batches(batchSize, opts)) {
      const k = this.times();
      if (k <= 1) {
        yield b;
        continue;
      }
      const y = tf.tile(b.y, [k]);
      b.y.dispose();
      yield { x: b.x, y };
    }
  }

  subset(indices: readonly number[]): DataSplit {
    return new RepeatLabelsSplit(this.inner.subset(indices), this.times);
  }
}

/**
 * Once-for-All's progressive shrinking on an elastic supernet (MobileNetV2ElasticConstructor):
 * stage by stage, each training batch trains `n_subnet_batch` subnets sampled from the stage's
 * sizes (the largest network first, then elastic kernel, depth and width), with the channels
 * re-ranked by importance at each stage start. Optionally the stage's uniform subnets are validated
 * with recalibrated batch norm, and a subnet search with the experiment's optimizer follows.
 */
export class ProgressiveShrinkingEstimator implements StateEstimator {
  /** Distinct subnets trained in each stage (by key), for reports and tests. */
  readonly trained: Array<Map<string, SubnetConfig>> = [];
  /** Best validation accuracy of each uniform subnet seen (the original's subnet_results). */
  readonly subnetResults = new Map<string, number>();

  constructor(
    readonly config: ProgressiveShrinkingConfig,
    /** Its criterion, built (loss components). */
    readonly losses: readonly Loss[] = [],
  ) {}

  groups(model: Module): Groups {
    const blocks = elasticBlocks(model);
    return { spatial: blocks.filter((b) => b.widthElastic), kernel: blocks.filter((b) => b.kernelSizes.length > 1), sequential: elasticStages(model) };
  }

  /** The allowed sizes of every group in a stage (values resolved, out-of-range ones dropped). */
  candidates(stage: PSStage, g: Groups, warn: (msg: string) => void = () => {}): Candidates {
    const ratio = this.config.use_ratio;
    const perGroup = (vals: number[] | number[][] | undefined, i: number): number[] | undefined => {
      if (vals === undefined) return undefined;
      if (typeof vals[0] === 'number') return vals as number[];
      const l = (vals as number[][])[i];
      if (!l) throw new ModnasError('MODNAS_E_PS_STAGE', `a stage gives ${vals.length} per-group lists, but group ${i} needs one`, { fix: 'give one list per group, or a single list for every group' });
      return l;
    };
    const keep = (vals: number[], ok: (v: number) => boolean, max: number, what: string): number[] => {
      const good = [...new Set(vals.filter(ok))];
      if (good.length < new Set(vals).size) warn(`${what}: ${vals.filter((v) => !ok(v)).join(', ')} not possible here, left out`);
      return good.length ? good : [max];
    };
    return {
      width: g.spatial.map((b, i) => {
        const v = perGroup(stage.spatial, i);
        if (!v) return [b.maxWidth];
        const widths = v.map((x) => (ratio ? Math.max(1, Math.floor(b.maxWidth * x)) : Math.round(b.chnIn * x)));
        return keep(widths, (w) => w >= 1 && w <= b.maxWidth, b.maxWidth, `widths of a block of ${b.maxWidth}`);
      }),
      kernel: g.kernel.map((b, i) => {
        const v = perGroup(stage.kernel, i);
        return v ? keep(v, (k) => b.kernelSizes.includes(k), b.maxKernel, `kernel sizes of a block of ${b.maxKernel}`) : [b.maxKernel];
      }),
      depth: g.sequential.map((s, i) => {
        const v = perGroup(stage.sequential, i);
        if (!v) return [s.maxDepth];
        const depths = v.map((x) => (ratio ? Math.max(1, Math.floor(s.maxDepth * x)) : Math.round(x)));
        return keep(depths, (d) => d >= 1 && d <= s.maxDepth, s.maxDepth, `depths of a stage of ${s.maxDepth}`);
      }),
    };
  }

  static applySubnet(g: Groups, c: SubnetConfig): void {
    g.spatial.forEach((b, i) => b.setWidth(c.width[i]));
    g.kernel.forEach((b, i) => b.setKernel(c.kernel[i]));
    g.sequential.forEach((s, i) => s.setDepth(c.depth[i]));
  }

  async run(ctx: EstimContext): Promise<EstimResult> {
    const c = this.config;
    const model = ctx.model;
    const g = this.groups(model);
    if (g.spatial.length + g.kernel.length + g.sequential.length === 0) {
      throw new ModnasError('MODNAS_E_PS_NO_ELASTIC', `${ctx.name}: ProgressiveShrinkingEstimator found no elastic blocks or stages in the model`, {
        fix: 'add MobileNetV2ElasticConstructor to construct (after MobileNetV2PredefinedConstructor)',
        where: `estim.${ctx.name}`,
      });
    }
    ctx.logger.info(`${ctx.name}: ${g.sequential.length} depth, ${g.spatial.length} width, ${g.kernel.length} kernel groups; ${c.stages.length} stages of ${c.epochs} epochs`);
    const rng = ctx.rng.fork(7);
    const wrapper = new SubnetBatch(model, (cfg) => ProgressiveShrinkingEstimator.applySubnet(g, cfg));
    const split = new RepeatLabelsSplit(ctx.data.train, () => Math.max(wrapper.configs.length, 1));
    let last: Record<string, number> = {};
    ctx.trainer.reset();
    // the losses start from the network as it is now (a teacher's weights: the full network the estimators before trained)
    const endLosses = startLosses(ctx, this.losses, {
      fullNetwork: () => {
        resetElastic(model);
        return () => {}; // the wrapper applies each subnet again at its forward
      },
    });
    try {
      for (let s = 0; s < c.stages.length; s++) {
        if (isAborted(ctx)) break;
        const warned = new Set<string>();
        const cands = this.candidates(c.stages[s], g, (m) => {
          if (!warned.has(m)) ctx.logger.warn(`${ctx.name} stage ${s}: ${m}`);
          warned.add(m);
        });
        ctx.logger.info(`${ctx.name}: stage ${s + 1}/${c.stages.length} ${JSON.stringify(c.stages[s])}`);
        resetElastic(model);
        let reranked = false;
        if (c.stage_rerank_spatial) {
          for (const b of g.spatial) if ((await b.sortChannels()).some((v, i) => v !== i)) reranked = true;
        }
        // Re-ranking permutes weights, so optimizer slots (momentum) would no longer match them.
        if (c.reset_stage_training || reranked) ctx.trainer.reset();
        const seen = new Map<string, SubnetConfig>();
        this.trained.push(seen);
        for (let epoch = 0; epoch < c.epochs; epoch++) {
          if (isAborted(ctx)) break;
          await ctx.events.emit('epoch:begin', { estim: ctx.name, epoch, epochs: c.epochs });
          const tr = await trainEpoch(ctx, {
            epoch,
            epochs: c.epochs,
            model: wrapper,
            split,
            label: `${ctx.name} stage ${s + 1}/${c.stages.length} epoch ${epoch + 1}/${c.epochs}`,
            beforeStep: () => {
              wrapper.configs = this.sample(cands, c.n_subnet_batch, rng);
              for (const cfg of wrapper.configs) seen.set(subnetKey(cfg), cfg);
            },
          });
          const metrics: Record<string, number> = { stage: s, train_loss: tr.loss, train_acc: tr.acc, lr: tr.lr, subnets: seen.size };
          if (c.subnet_valid_freq > 0 && (epoch + 1) % c.subnet_valid_freq === 0) {
            const res = await this.validSubnets(ctx, g, c.stages[s]);
            for (const [k, v] of res) {
              this.subnetResults.set(k, Math.max(this.subnetResults.get(k) ?? 0, v));
              metrics[`acc_${k}`] = v;
            }
          }
          await reportEpoch(ctx, epoch, c.epochs, metrics);
          ctx.logger.info(`${ctx.name} stage ${s + 1} epoch ${epoch + 1}/${c.epochs}: ${formatMetrics(metrics)}`);
          last = metrics;
          if (tr.aborted) break;
        }
        resetElastic(model);
        if (c.save_stage) ctx.store.append('ps_stages', { estim: ctx.name, stage: s, config: c.stages[s], subnets: seen.size, results: Object.fromEntries(this.subnetResults), time: new Date().toISOString() });
      }
    } finally {
      endLosses();
      wrapper.configs = [];
      resetElastic(model);
      // The network follows its arch params again (what exporters and later estimators read).
      syncElastic(model);
    }
    const metrics: Record<string, number> = { ...last };
    if (this.subnetResults.size) {
      metrics.best_acc = Math.max(...this.subnetResults.values());
      for (const [k, v] of this.subnetResults) metrics[`subnet_acc_${k}`] = v;
    }
    const best = c.search_rounds > 0 && !isAborted(ctx) ? await this.search(ctx) : undefined;
    return best ? { best, metrics: { ...metrics, ...best.metrics } } : { metrics };
  }

  /** Up to n distinct subnets, each group's size drawn uniformly from its candidates. */
  sample(cands: Candidates, n: number, rng: EstimContext['rng']): SubnetConfig[] {
    const out = new Map<string, SubnetConfig>();
    for (let i = 0; i < n; i++) {
      const cfg: SubnetConfig = { width: cands.width.map((v) => rng.pick(v)), kernel: cands.kernel.map((v) => rng.pick(v)), depth: cands.depth.map((v) => rng.pick(v)) };
      out.set(subnetKey(cfg), cfg);
    }
    return [...out.values()];
  }

  /**
   * Validate the stage's uniform subnets (the same value in every group, over the grid of the
   * stage's values), each with recalibrated batch norm; the supernet's statistics are put back.
   */
  async validSubnets(ctx: EstimContext, g: Groups, stage: PSStage): Promise<Map<string, number>> {
    const first = (v: number[] | number[][] | undefined): Array<number | undefined> => (v === undefined ? [undefined] : typeof v[0] === 'number' ? (v as number[]) : (v as number[][])[0]);
    const out = new Map<string, number>();
    const saved = ctx.model.namedBuffers().map(([, b]) => [b, tf.clone(b)] as const);
    try {
      for (const sp of first(stage.spatial))
        for (const sq of first(stage.sequential))
          for (const ks of first(stage.kernel)) {
            const uniform: PSStage = {};
            if (sp !== undefined) uniform.spatial = [sp];
            if (sq !== undefined) uniform.sequential = [sq];
            if (ks !== undefined) uniform.kernel = [ks];
            const cands = this.candidates(uniform, g);
            ProgressiveShrinkingEstimator.applySubnet(g, { width: cands.width.map((v) => v[0]), kernel: cands.kernel.map((v) => v[0]), depth: cands.depth.map((v) => v[0]) });
            this.recalibrate(ctx);
            const v = await evaluate(ctx.model, ctx.trainer, ctx.data.valid, { maxBatches: this.config.valid_batches || undefined });
            const name = `sp_${sp ?? 'max'}_sq_${sq ?? 'max'}${ks !== undefined ? `_ks_${ks}` : ''}`;
            out.set(name, v.acc);
            ctx.logger.info(`${ctx.name}: subnet ${name}: acc ${(v.acc * 100).toFixed(2)}%`);
          }
    } finally {
      for (const [b, t] of saved) {
        b.assign(t);
        t.dispose();
      }
      resetElastic(ctx.model);
    }
    return out;
  }

  private recalibrate(ctx: EstimContext): void {
    const c = this.config;
    if (c.num_bn_batch > 0) recalibrateBatchNorm(ctx.model, ctx.data.train, { batches: c.num_bn_batch, batchSize: ctx.trainer.batchSize, rng: ctx.rng, reset: c.clear_subnet_bn });
  }

  /**
   * Subnet search over the elastic arch params with ctx.optim: each candidate is applied (the
   * params' listeners resize the modules), batch norm recalibrated, validated and scored; results
   * go back to the optimizer after each round. The best subnet is left applied.
   */
  async search(ctx: EstimContext): Promise<TrialResult | undefined> {
    const c = this.config;
    const optim = ctx.optim;
    if (!optim) {
      ctx.logger.warn(`${ctx.name}: search_rounds is set but the experiment has no optimizer; skipping the subnet search`);
      return undefined;
    }
    let best: TrialResult | undefined;
    let index = 0;
    const saved = ctx.model.namedBuffers().map(([, b]) => [b, tf.clone(b)] as const);
    try {
      for (let r = 0; r < c.search_rounds && optim.hasNext(); r++) {
        if (isAborted(ctx)) break;
        const results: TrialResult[] = [];
        for (const arch of optim.next(c.search_batch)) {
          applyCandidate(ctx, arch);
          this.recalibrate(ctx);
          const metrics = await validateWithMetrics(ctx, { maxBatches: c.valid_batches || undefined });
          const res: TrialResult = { arch, score: scoreOf(metrics, c.score), metrics };
          await reportCandidate(ctx, res, index++);
          results.push(res);
          if (!best || res.score > best.score) best = res;
        }
        await optim.step({ results });
        ctx.logger.info(`${ctx.name}: search round ${r + 1}/${c.search_rounds}: best ${best ? `${JSON.stringify(best.arch)} score ${best.score.toFixed(4)}` : '-'}`);
      }
    } finally {
      for (const [b, t] of saved) {
        b.assign(t);
        t.dispose();
      }
    }
    if (best) {
      applyCandidate(ctx, best.arch);
      this.recalibrate(ctx);
    }
    return best;
  }
}

export const progressiveShrinkingEstimator = defineComponent({
  kind: 'estim',
  id: 'ProgressiveShrinkingEstimator',
  aliases: ['ProgressiveShrinkingEstim'],
  description: 'Once-for-All progressive shrinking: trains an elastic supernet stage by stage on sampled subnets (kernel, depth, width), then optionally searches its subnets',
  schema: progressiveShrinkingSchema,
  async create(config, ctx) {
    return new ProgressiveShrinkingEstimator(config, await buildCriterion(config.criterion, ctx));
  },
});
