import type { ArchSpace, GradientAccess, Module, SearchFeedback, TensorParam } from '@modnas/core';
import type { MixedOp } from '@modnas/kit-mixed-op';
import { ModnasError, defineComponent, tf, z } from '@modnas/core';
import { MixedOp as MixedOpBase, opInputShapes } from '@modnas/kit-mixed-op';
import { GradientSearchOptimizer, adamArgsFields } from '@modnas/kit-optim';
import { countMacs } from '@modnas/nn';
import type { LatencyTable, LatencyTableConfig } from '@modnas/kit-latency';
import type * as LatencyKitModule from '@modnas/kit-latency';

/** @modnas/kit-latency, imported only when a latency term is configured (an optional peer). */
type LatencyKit = typeof LatencyKitModule;

async function latencyKit(): Promise<LatencyKit> {
  try {
    return await import('@modnas/kit-latency');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
    throw new ModnasError('MODNAS_E_OPTIM_COST', 'BinaryGateOptim: cost_metric latency needs @modnas/kit-latency, which is not installed', { fix: 'npm i @modnas/kit-latency (and the runtime of your target), or use cost_metric flops or params', where: 'optim.cost_metric', cause: e });
  }
}

/** The original's BinaryGateOptim Adam: lr 0.006, betas (0, 0.999), no weight decay. */
export const BINARY_GATE_ADAM_DEFAULTS = { lr: 0.006, betas: [0, 0.999] as const, weight_decay: 0, eps: 1e-8 };

export const binaryGateOptimSchema = z.strictObject({
  ...adamArgsFields(BINARY_GATE_ADAM_DEFAULTS),
  n_samples: z
    .number()
    .int()
    .min(0)
    .default(2)
    .describe('Candidates made active per binary-gate op for an arch step, drawn from softmax(α) (ProxylessNAS: 2); 0 = all'),
  renorm: z
    .boolean()
    .default(true)
    .describe('After the step, shift the active α so that the active candidates keep their total probability (only when sampling)'),
  cost_mode: z
    .enum(['none', 'mul_log', 'mul', 'add'])
    .default('none')
    .describe("Hardware-aware loss (ProxylessNAS): mul_log: α_c·CE·(log E[cost]/log target)^β; mul: α_c·CE·(E[cost]/target)^β; add: CE + λ·E[cost]/target; none: CE only"),
  cost_metric: z
    .enum(['flops', 'params', 'latency'])
    .default('flops')
    .describe("Per-candidate cost: multiply-accumulates on the input the op sees, weights, or milliseconds from the latency table of the target `latency` names (ProxylessNAS's latency loss)"),
  latency: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("Where cost_metric latency is measured: the latency options of @modnas/kit-latency (as LatencyTableMetrics takes them: target: engine, onnxruntime-node, tfjs-wasm, tfjs-webgl or onnxruntime-web; timing), checked when the optimizer is built; the table is built at the first arch step"),
  cost_target: z
    .number()
    .positive()
    .nullable()
    .default(null)
    .describe('Reference cost of the whole network (MACs, weights, or milliseconds for latency: the latency target); null: the expected cost of the supernet at the first step'),
  cost_alpha: z.number().positive().default(0.2).describe('α_c, scale of the loss in the mul modes (ProxylessNAS 0.2)'),
  cost_beta: z.number().positive().default(0.3).describe('β, exponent of the cost ratio in the mul modes (ProxylessNAS 0.3)'),
  cost_lambda: z.number().min(0).default(0.1).describe('λ, weight of the cost ratio in the add mode'),
});
export type BinaryGateOptimConfig = z.output<typeof binaryGateOptimSchema>;

/** What BinaryGateOptim needs of a binary-gate mixed op (BinGate, BinGateUniform). */
export interface BinaryGateLike {
  readonly alpha: TensorParam;
  archGrad: boolean;
  readonly activeOps: number[];
  sampleOps(n: number): number[];
  resetOps(): void;
}

export function isBinaryGateOp(m: unknown): m is MixedOp & BinaryGateLike {
  const b = m as Partial<BinaryGateLike> | null;
  return !!b && typeof b.sampleOps === 'function' && typeof b.resetOps === 'function' && typeof b.archGrad === 'boolean' && Array.isArray(b.activeOps);
}

/** Cost of each candidate of each tensor mixed op, plus the cost of everything else. */
export interface CostTable {
  ops: Array<{ alpha: TensorParam; costs: number[] }>;
  fixed: number;
}

/**
 * The costs of a network's candidates: MACs of each candidate on the input its mixed op sees (one
 * example, eval mode), or its weights; `fixed` is the rest of the network (stem, head, ...).
 */
export function measureCosts(model: Module, inputShape: readonly number[], metric: 'flops' | 'params'): CostTable {
  const ops = MixedOpBase.find(model).map(([, op]) => op).filter((op): op is MixedOp & { alpha: TensorParam } => (op as { alpha?: unknown }).alpha !== undefined);
  const wasTraining = model.training;
  model.eval();
  try {
    if (metric === 'params') {
      const table = ops.map((op) => ({ alpha: op.alpha, costs: op.candidates().map((c) => c.numParams()) }));
      const inOps = table.reduce((a, t) => a + t.costs.reduce((p, q) => p + q, 0), 0);
      return { ops: table, fixed: model.numParams() - inOps };
    }
    // One forward pass records the input shape of every mixed op; the MACs inside the ops are
    // counted apart (nested counts do not reach the outer one), so the outer count is the fixed part.
    let shapes = new Map<MixedOp, number[]>();
    const fixed = countMacs(() => {
      shapes = opInputShapes(model, inputShape, ops, (_, run) => void countMacs(run));
    });
    const table = ops.map((op) => {
      const shape = shapes.get(op);
      const costs = op.candidates().map((c) =>
        shape
          ? countMacs(() => {
              tf.tidy(() => {
                c.call(tf.zeros([1, ...shape.slice(1)]));
              });
            })
          : 0,
      );
      return { alpha: op.alpha, costs };
    });
    return { ops: table, fixed };
  } finally {
    model.train(wasTraining);
  }
}

/** `optim.latency` checked by @modnas/kit-latency's schema (a coded error that names the key). */
async function latencyOptions(raw: Record<string, unknown>): Promise<{ kit: LatencyKit; config: LatencyTableConfig }> {
  const kit = await latencyKit();
  const r = kit.latencyTableSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = ['optim', 'latency', ...issue.path.map(String)].join('.');
    throw new ModnasError('MODNAS_E_CONFIG_INVALID', `${key}: ${issue.message}`, { fix: 'see `modnas plugins info LatencyTableMetrics` for the options', where: key });
  }
  return { kit, config: r.data };
}

/**
 * The costs of a latency table as a cost table: milliseconds per candidate of each op with an α;
 * an op without one adds its chosen candidate's milliseconds to the fixed part.
 */
export function latencyCosts(model: Module, table: LatencyTable): CostTable {
  // the table's ops are the model's mixed ops in this order (kit-latency's tableOps)
  const ops = MixedOpBase.find(model);
  if (ops.length !== table.ops.length) throw new ModnasError('MODNAS_E_OPTIM_COST', `BinaryGateOptim: the latency table has ${table.ops.length} mixed ops, the model ${ops.length}`, { fix: 'rebuild the table for this model (the latency cache is keyed by shapes, so only the changed part is measured)' });
  const out: CostTable = { ops: [], fixed: table.fixed };
  ops.forEach(([, op], i) => {
    const alpha = (op as { alpha?: TensorParam }).alpha;
    if (alpha) out.ops.push({ alpha, costs: table.ops[i].ms });
    else out.fixed += table.ops[i].ms[op.chosenIndex()];
  });
  return out;
}

/** E[cost] = fixed + Σ_ops Σ_i softmax(α)_i cost_i, differentiable in α. */
export function expectedCost(table: CostTable): tf.Scalar {
  return tf.tidy(() => {
    let e: tf.Tensor = tf.scalar(table.fixed);
    for (const { alpha, costs } of table.ops) e = tf.add(e, tf.sum(tf.mul(tf.softmax(alpha.variable), tf.tensor1d(costs))));
    return e as tf.Scalar;
  });
}

/**
 * ProxylessNAS-G: for each arch step, every binary-gate mixed op restricts itself to `n_samples`
 * candidates drawn from softmax(α); the validation loss is back-propagated through the binary
 * gates (the mixed op supplies that gradient) and Adam updates α (lr 0.006, betas (0, 0.999));
 * then the active α are shifted so the active candidates keep their total probability (renorm)
 * and every op is made whole again. Optionally the loss carries ProxylessNAS' expected-cost term.
 */
export class BinaryGateOptim extends GradientSearchOptimizer {
  private costs?: CostTable;
  private target?: number;

  constructor(
    space: ArchSpace,
    readonly config: BinaryGateOptimConfig,
    /** The latency options, checked by @modnas/kit-latency (cost_metric latency). */
    private readonly latency?: { kit: LatencyKit; config: LatencyTableConfig },
  ) {
    super(space, { lr: config.lr, betas: config.betas, weight_decay: config.weight_decay, eps: config.eps }, 'BinaryGateOptim');
  }

  async step(feedback: SearchFeedback): Promise<void> {
    const g = this.gradAccess(feedback);
    const c = this.config;
    const ops = MixedOpBase.find(g.model)
      .map(([, op]) => op)
      .filter(isBinaryGateOp);
    const sample = c.n_samples > 0;
    const prevGrad = ops.map((op) => op.archGrad);
    try {
      if (sample) for (const op of ops) op.sampleOps(c.n_samples);
      for (const op of ops) op.archGrad = true;
      const batch = g.validBatch();
      if (c.cost_mode !== 'none') await this.ensureCosts(g, batch.x.shape.slice(1));
      // Per param (ops may share one), the active set whose probability mass renorm keeps.
      const renormSets = new Map<TensorParam, number[]>();
      if (sample && c.renorm) for (const op of ops) if (!renormSets.has(op.alpha) && op.activeOps.length < op.numCandidates) renormSets.set(op.alpha, op.activeOps);
      const before = new Map([...renormSets].map(([p, act]) => [p, inactiveOverActive(p.toArray(), act)]));
      this.update(this.archGrads(() => this.lossWithCost(g, batch)));
      for (const [p, act] of renormSets) {
        const a = await p.read();
        const shift = Math.log(inactiveOverActive(a, act)) - Math.log(before.get(p)!);
        if (!Number.isFinite(shift)) continue;
        for (const i of act) a[i] += shift;
        p.assign(a);
      }
    } finally {
      ops.forEach((op, i) => {
        op.archGrad = prevGrad[i];
        op.resetOps();
      });
    }
  }

  /** The validation loss with the configured cost term (a scalar, inside a gradient function). */
  lossWithCost(g: GradientAccess, batch: Parameters<GradientAccess['loss']>[0]): tf.Scalar {
    const c = this.config;
    const ce = g.loss(batch);
    if (c.cost_mode === 'none' || !this.costs || !this.target) return ce;
    const e = expectedCost(this.costs);
    if (c.cost_mode === 'add') return tf.add<tf.Scalar>(ce, tf.mul(tf.div(e, this.target), c.cost_lambda));
    const reg = c.cost_mode === 'mul' ? tf.pow(tf.div(e, this.target), c.cost_beta) : tf.pow(tf.div(tf.log(e), Math.log(this.target)), c.cost_beta);
    return tf.mul<tf.Scalar>(tf.mul(ce, reg), c.cost_alpha);
  }

  private async ensureCosts(g: GradientAccess, inputShape: readonly number[]): Promise<void> {
    if (this.costs) return;
    if (this.config.cost_metric === 'latency') {
      const { kit, config } = this.latency ?? (await latencyOptions(this.config.latency));
      this.latencyTable = await kit.tableFor(g.model, inputShape, config);
      this.costs = latencyCosts(g.model, this.latencyTable);
    } else this.costs = measureCosts(g.model, inputShape, this.config.cost_metric);
    const e = expectedCost(this.costs);
    this.target = this.config.cost_target ?? (await e.data())[0];
    e.dispose();
    if (!(this.target > 1) && this.config.cost_mode === 'mul_log') {
      throw new ModnasError('MODNAS_E_OPTIM_COST', `BinaryGateOptim: cost_mode mul_log needs a cost target above 1, got ${this.target}`, { fix: 'set cost_target, or use cost_mode: mul' });
    }
  }

  /** The latency table the latency term comes from (cost_metric latency, after the first step). */
  latencyTable?: LatencyTable;

  async close(): Promise<void> {
    if (this.latencyTable) await (this.latency?.kit ?? (await latencyKit())).closeRuntimes();
  }

  /** The cost table in use (after the first step with a cost term). */
  costTable(): CostTable | undefined {
    return this.costs;
  }

  protected override extraState(): unknown {
    return this.target === undefined ? undefined : { target: this.target };
  }

  protected override restoreExtra(extra: unknown): void {
    const t = (extra as { target?: unknown } | undefined)?.target;
    if (typeof t === 'number') this.target = t;
  }
}

/** Σ_inactive exp(α) / Σ_active exp(α) (the original's k), max-shifted. */
function inactiveOverActive(a: readonly number[], active: readonly number[]): number {
  const m = Math.max(...a);
  const on = new Set(active);
  let num = 0;
  let den = 0;
  a.forEach((v, i) => {
    if (on.has(i)) den += Math.exp(v - m);
    else num += Math.exp(v - m);
  });
  return num / den;
}

export const binaryGateOptim = defineComponent({
  kind: 'optim',
  id: 'BinaryGateOptim',
  description: 'ProxylessNAS-G: Adam on α with the binary-gate gradient of the validation loss over two sampled paths, optionally with an expected-cost term (FLOPs, weights, or latency on a target from its lookup table)',
  schema: binaryGateOptimSchema,
  async create(config, ctx) {
    return new BinaryGateOptim(ctx.space, config, config.cost_metric === 'latency' ? await latencyOptions(config.latency) : undefined);
  },
});
