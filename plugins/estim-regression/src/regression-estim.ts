import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Assignment, DiscreteParam, EstimContext, EstimResult, StateEstimator, TrialResult } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { formatMetrics, isAborted, isBetterTrial, reportCandidate } from '@modnas/kit-estim';
import { adjacencyEncoder, fitEnsemble } from '@modnas/kit-optim';
import type { FittedEnsemble } from '@modnas/kit-optim';

const recordSchema = z.looseObject({
  arch: z.record(z.string(), z.union([z.string(), z.number()])).describe('The architecture: a value per discrete arch param'),
  score: z.number().nullable().optional().describe('Its measured score'),
  metrics: z.record(z.string(), z.unknown()).optional().describe('Its measured metrics (target with target: <metric name>)'),
  status: z.string().optional().describe("A run's candidate status: only 'done' records train the predictor"),
});
export type ScoreRecord = z.output<typeof recordSchema>;

export const predictorSchema = z.strictObject({
  records: z.array(recordSchema).default([]).describe('Training records given inline: [{ arch: {...}, score }]'),
  path: z
    .string()
    .nullable()
    .default(null)
    .describe("A file of training records: JSON lines or a JSON array of { arch, score } or { arch, metrics } (a run's logs/candidates.jsonl works), relative to the working directory"),
  from_estim: z
    .string()
    .nullable()
    .default(null)
    .describe("Train on the candidates an earlier estimator of this experiment evaluated for real (its name under estim:, read from the run's store)"),
  target: z.string().default('score').describe("What the predictor learns: 'score', or the name of a metric of the records (e.g. acc)"),
  ensemble_size: z.number().int().min(1).default(5).describe('MLPs in the ensemble (the prediction is their mean, their spread is reported as predicted_std)'),
  layers: z.number().int().min(1).default(1).describe('Hidden layers per MLP'),
  width: z.number().int().min(1).default(20).describe('Units per hidden layer'),
  steps: z.number().int().min(1).default(300).describe('Full-batch Adam steps of the fit'),
  lr: z.number().positive().default(0.01).describe('Adam learning rate'),
  weight_decay: z.number().nonnegative().default(0).describe('L2 penalty on the MLP weights'),
  loss: z.enum(['mse', 'mae', 'mape']).default('mse').describe('Training loss on the standardised targets'),
  seed: z.number().int().nonnegative().default(0).describe("Seed of the MLP initialisation, mixed with the experiment's seed"),
});
export type PredictorConfig = z.output<typeof predictorSchema>;

export const regressionEstimSchema = z.strictObject({
  predictor: predictorSchema
    .default(predictorSchema.parse({}))
    .describe('The score predictor: an MLP ensemble on the one-hot encoding of the arch, fitted on (arch, score) records of candidates evaluated for real (records, path or from_estim)'),
  epochs: z.number().int().min(0).default(10).describe('Rounds; each scores arch_update_batch candidates (0 = until the optimizer has none left)'),
  arch_update_batch: z.number().int().positive().default(1).describe('Candidates asked of the optimizer per round (optim.next(n))'),
  arch_update_epoch_start: z.number().int().min(0).default(0).describe('First round (0-based) after which results are fed to the optimizer'),
  arch_update_epoch_intv: z.number().int().positive().default(1).describe('Feed results every this many rounds (results in between are kept and fed later)'),
});
export type RegressionEstimConfig = z.output<typeof regressionEstimSchema>;

/** The target of a record, or undefined when it has none (or was not a finished evaluation). */
function targetOf(r: ScoreRecord, target: string): number | undefined {
  if (r.status !== undefined && r.status !== 'done') return undefined;
  const v = target === 'score' ? r.score : r.metrics?.[target];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Parse a records file: a JSON array, or one JSON object per line. */
export function readRecords(file: string): ScoreRecord[] {
  const full = resolve(file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    throw new ModnasError('MODNAS_E_ESTIM_PREDICTOR', `RegressionEstim: cannot read the predictor's records file ${full}: ${(e as Error).message}`, {
      fix: 'set predictor.path to a JSON or JSON-lines file of { arch, score } records (e.g. a finished run’s logs/candidates.jsonl)',
      where: 'estim.predictor.path',
      cause: e,
    });
  }
  const trimmed = text.trim();
  const rows: unknown[] = trimmed.startsWith('[') ? (JSON.parse(trimmed) as unknown[]) : trimmed.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
  return rows.map((row, i) => {
    const parsed = recordSchema.safeParse(row);
    if (!parsed.success) {
      throw new ModnasError('MODNAS_E_ESTIM_PREDICTOR', `RegressionEstim: record ${i + 1} of ${full} is not { arch, score }: ${parsed.error.issues[0].message} at ${parsed.error.issues[0].path.join('.')}`, {
        fix: 'each record needs an arch object (param name to value) and a score number or a metrics object',
        where: 'estim.predictor.path',
      });
    }
    return parsed.data;
  });
}

/** A fitted predictor of a candidate's score: mean and spread of the ensemble. */
export interface ScorePredictor {
  /** Records it was fitted on. */
  readonly size: number;
  predict(archs: Assignment[]): { mean: Float64Array; std: Float64Array };
  dispose(): void;
}

/** Fit the predictor on the usable records (those with the target, and every param value known to the space). */
export function fitPredictor(params: DiscreteParam[], records: ScoreRecord[], c: PredictorConfig, rng: Parameters<typeof fitEnsemble>[3]): ScorePredictor & { skipped: number } {
  const enc = adjacencyEncoder(params);
  const known = (a: Assignment): boolean => params.every((p) => p.indexOf(a[p.name] ?? p.value) >= 0);
  const xs: number[][] = [];
  const ys: number[] = [];
  let skipped = 0;
  for (const r of records) {
    const y = targetOf(r, c.target);
    if (y === undefined || !known(r.arch)) {
      skipped++;
      continue;
    }
    xs.push(enc.encode(r.arch));
    ys.push(y);
  }
  if (xs.length === 0) {
    throw new ModnasError('MODNAS_E_ESTIM_PREDICTOR', `RegressionEstim: none of the ${records.length} predictor records has a finite "${c.target}" and an arch of this space, so there is nothing to fit`, {
      fix: `give records whose arch uses this space's params (${params.map((p) => p.name).join(', ')}) and that carry ${c.target === 'score' ? 'a score' : `metrics.${c.target}`}, or set predictor.target`,
      where: 'estim.predictor',
    });
  }
  const model: FittedEnsemble = fitEnsemble(xs, ys, { size: c.ensemble_size, layers: c.layers, width: c.width, steps: c.steps, lr: c.lr, weightDecay: c.weight_decay, loss: c.loss }, rng);
  return {
    size: xs.length,
    skipped,
    predict: (archs) => model.predict(archs.map((a) => enc.encode(a))),
    dispose: () => model.dispose(),
  };
}

/**
 * Scores candidates by a predictor instead of training them (the original's RegressionEstim, whose
 * predictor was any object with predict(arch_desc)). Here the predictor is an MLP ensemble on the
 * one-hot encoding of the arch, fitted once per run on (arch, score) records of candidates that were
 * evaluated for real: given inline, read from a file, or taken from an earlier estimator of the same
 * experiment. Each round asks the optimizer for candidates, reports their predicted scores
 * (metrics: predicted, predicted_std) and feeds them back. Returns the best predicted candidate.
 */
export class RegressionEstim implements StateEstimator {
  constructor(readonly config: RegressionEstimConfig) {}

  private feeds(round: number): boolean {
    const c = this.config;
    return round >= c.arch_update_epoch_start && (round - c.arch_update_epoch_start) % c.arch_update_epoch_intv === 0;
  }

  /** Every training record the config names. */
  records(ctx: EstimContext): ScoreRecord[] {
    const p = this.config.predictor;
    const out: ScoreRecord[] = [...p.records];
    if (p.path) out.push(...readRecords(p.path));
    if (p.from_estim) {
      const rows = ctx.store.read('candidates').filter((r) => r.estim === p.from_estim);
      if (rows.length === 0) {
        throw new ModnasError('MODNAS_E_ESTIM_PREDICTOR', `RegressionEstim: estimator "${p.from_estim}" has no evaluated candidates in this run's store to fit the predictor on`, {
          fix: `run an estimator named ${p.from_estim} that evaluates candidates (e.g. SubNetEstimator) before ${ctx.name}, or set predictor.records / predictor.path`,
          where: 'estim.predictor.from_estim',
        });
      }
      for (const r of rows) {
        const parsed = recordSchema.safeParse(r);
        if (parsed.success) out.push(parsed.data);
      }
    }
    if (!p.path && !p.from_estim && p.records.length === 0) {
      throw new ModnasError('MODNAS_E_ESTIM_PREDICTOR', `RegressionEstim: the predictor has nothing to learn from (no predictor.records, path or from_estim)`, {
        fix: 'set estim.<name>.predictor.path to a file of { arch, score } records, or predictor.from_estim to an earlier estimator of this experiment that evaluates candidates',
        where: `estim.${ctx.name}.predictor`,
      });
    }
    return out;
  }

  async run(ctx: EstimContext): Promise<EstimResult> {
    const c = this.config;
    const optim = ctx.optim;
    const predictor = fitPredictor(ctx.space.discrete(), this.records(ctx), c.predictor, ctx.rng.fork(c.predictor.seed));
    ctx.logger.info(`${ctx.name}: predictor fitted on ${predictor.size} records${predictor.skipped > 0 ? ` (${predictor.skipped} without a finite ${c.predictor.target} or outside this space skipped)` : ''}`);
    const score = (arch: Assignment): TrialResult => {
      const { mean, std } = predictor.predict([arch]);
      return { arch, score: mean[0], metrics: { predicted: mean[0], predicted_std: std[0] } };
    };
    try {
      if (!optim) {
        const r = score(ctx.space.assignment());
        await reportCandidate(ctx, r, 0);
        return { best: r, metrics: r.metrics };
      }
      let best: TrialResult | undefined;
      let pending: TrialResult[] = [];
      let n = 0;
      for (let round = 0; c.epochs === 0 || round < c.epochs; round++) {
        if (isAborted(ctx) || !optim.hasNext()) break;
        const cands = optim.next(c.arch_update_batch);
        if (cands.length === 0) break;
        const { mean, std } = predictor.predict(cands);
        for (let i = 0; i < cands.length; i++) {
          const r: TrialResult = { arch: cands[i], score: mean[i], metrics: { predicted: mean[i], predicted_std: std[i] } };
          await reportCandidate(ctx, r, n);
          ctx.logger.debug(`${ctx.name} candidate ${n + 1}: ${JSON.stringify(r.arch)} ${formatMetrics(r.metrics)}`);
          n++;
          pending.push(r);
          if (isBetterTrial(r, best, (t) => optim.isFeasible?.(t) ?? true)) best = r;
        }
        if (this.feeds(round) && pending.length > 0) {
          await optim.step({ results: pending });
          pending = [];
        }
      }
      if (pending.length > 0) await optim.step({ results: pending });
      if (!best) return { metrics: { candidates: n } };
      ctx.space.apply(best.arch);
      ctx.logger.info(`${ctx.name}: best predicted ${JSON.stringify(best.arch)} ${formatMetrics(best.metrics)}`);
      return { best, metrics: { ...best.metrics, score: best.score, candidates: n, predictor_records: predictor.size } };
    } finally {
      predictor.dispose();
    }
  }
}

export const regressionEstim = defineComponent({
  kind: 'estim',
  id: 'RegressionEstim',
  aliases: ['RegressionEstimator'],
  description: 'Scores candidates by a predictor (an MLP ensemble fitted on candidates evaluated for real) instead of training them',
  schema: regressionEstimSchema,
  create(config) {
    return new RegressionEstim(config);
  },
});
