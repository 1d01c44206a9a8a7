import type { Callback, EventBus, Logger } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { formatMetrics } from '@modnas/kit-estim';
import { safeName, writeOutput, writePlot } from './files.js';
import type { Result } from './optimum.js';
import { ParetoSet } from './optimum.js';
import { dueEvery } from './reporters.js';
import { scatterChart } from './svg.js';

export const optimumReporterSchema = z.strictObject({
  cmp_keys: z.array(z.string()).nullable().default(null).describe("Metrics the optimum is taken over (null: every metric of the first candidate)"),
  cmp_fn: z.record(z.string(), z.enum(['max', 'min'])).default({}).describe('Direction of each key (max unless said), e.g. { flops: min }'),
  cmp_th: z.record(z.string(), z.number().min(0)).default({}).describe('A key counts as better or worse only beyond this difference'),
  stat_epoch: z.boolean().default(true).describe("Also log each epoch's own optimum"),
});

/** The Pareto-optimal candidates of each estimator (over cmp_keys), logged after each epoch and at the end. */
export class OptimumReporter implements Callback {
  /** The optimum of the estimator running now, and of its current epoch. */
  run: ParetoSet;
  epoch: ParetoSet;
  results: Result[] = [];
  protected logger?: Logger;
  protected outputDir = '';

  constructor(readonly config: z.output<typeof optimumReporterSchema>) {
    this.run = this.fresh();
    this.epoch = this.fresh();
  }

  protected fresh(): ParetoSet {
    return new ParetoSet(this.config.cmp_keys, this.config.cmp_fn, this.config.cmp_th);
  }

  attach(events: EventBus, ctx: { logger: Logger; outputDir: string }): void {
    this.logger = ctx.logger;
    this.outputDir = ctx.outputDir;
    events.on('estim:begin', () => {
      this.run = this.fresh();
      this.epoch = this.fresh();
      this.results = [];
    });
    events.on('candidate:end', ({ index, arch, score, metrics }) => {
      if (Object.keys(metrics).length === 0) return;
      const r = { index, arch, score, metrics };
      this.results.push(r);
      this.run.add(r);
      if (this.config.stat_epoch) this.epoch.add(r);
    });
    events.on('epoch:end', (e) => {
      if (this.config.stat_epoch && this.epoch.results.length) {
        this.log(`${e.estim} epoch ${e.epoch + 1}/${e.epochs} optimum`, this.epoch.results);
        this.epoch = this.fresh();
      }
      this.onEpoch(e.estim, e.epoch, e.epochs);
    });
    events.on('estim:end', ({ estim }) => {
      if (this.run.results.length) this.log(`${estim} optimum of ${this.results.length} candidates`, this.run.results);
      this.onEnd(estim);
    });
  }

  protected log(title: string, results: readonly Result[]): void {
    const keys = this.run.compared;
    const pick = (m: Record<string, number>): Record<string, number> => Object.fromEntries(keys.filter((k) => k in m).map((k) => [k, m[k]]));
    this.logger?.info(`${title} (${keys.join(', ')}): ${results.map((r) => `${JSON.stringify(r.arch)} ${formatMetrics(pick(r.metrics))}`).join(' | ')}`);
  }

  protected onEpoch(_estim: string, _epoch: number, _epochs: number): void {}
  protected onEnd(_estim: string): void {}
}

export const optimumReporter = defineComponent({
  kind: 'callback',
  id: 'OptimumReporter',
  description: 'Logs the Pareto-optimal candidates of each estimator (over chosen metrics and directions) after every epoch and at its end',
  schema: optimumReporterSchema,
  create(config) {
    return new OptimumReporter(config);
  },
});

export const paretoReporterSchema = optimumReporterSchema.extend({
  plot_keys: z.array(z.string()).nullable().default(null).describe('The two metrics of the plot (null: the first two of cmp_keys, or of the first candidate)'),
  plot_intv: z.number().min(0).nullable().default(0.2).describe('Plot every this many epochs (a fraction below 1: of the total; 0: only at the end)'),
});

/**
 * OptimumReporter, and an SVG scatter of the candidates with the Pareto front on two metrics
 * (plot/pareto_<estim>.svg); at the estimator's end the front itself, each point with its candidate
 * index, architecture, score and metrics (outputs/pareto_<estim>.json).
 */
export class ParetoReporter extends OptimumReporter {
  declare readonly config: z.output<typeof paretoReporterSchema>;
  readonly plots: string[] = [];

  protected override onEpoch(estim: string, epoch: number, epochs: number): void {
    const every = dueEvery(this.config.plot_intv, epochs);
    if (every > 0 && (epoch + 1) % every === 0 && epoch + 1 < epochs) this.plot(estim, epoch + 1);
  }

  protected override onEnd(estim: string): void {
    this.plot(estim);
    this.writeFront(estim);
  }

  /** The front over the compared keys, as data: outputs/pareto_<estim>.json. */
  writeFront(estim: string): void {
    if (!this.run.results.length) return;
    const keys = this.run.compared;
    const path = writeOutput(this.outputDir, `pareto_${safeName(estim)}.json`, {
      estim,
      keys,
      directions: Object.fromEntries(keys.map((k) => [k, this.config.cmp_fn[k] ?? 'max'])),
      candidates: this.results.length,
      front: this.run.results.map((r) => ({ index: r.index ?? null, arch: r.arch, score: r.score ?? null, metrics: r.metrics })),
    });
    this.logger?.info(`Pareto front (${this.run.results.length} of ${this.results.length} candidates) saved to ${path}`);
  }

  plot(estim: string, epoch?: number): void {
    if (!this.results.length) return;
    const keys = (this.config.plot_keys ?? this.config.cmp_keys ?? Object.keys(this.results[0].metrics)).slice(0, 2);
    if (keys.length < 2) {
      this.logger?.warn(`ParetoReporter: ${estim}: a Pareto plot needs two metrics, the candidates have ${keys.join(', ') || 'none'}`);
      return;
    }
    const front = new Set(this.run.results);
    const pts = (rs: Result[]): Array<[number, number]> => rs.map((r) => [r.metrics[keys[0]], r.metrics[keys[1]]]);
    const svg = scatterChart(`Pareto optimum: ${estim}${epoch ? `, epoch ${epoch}` : ''}`, keys[0], keys[1], [
      { label: 'dominated', points: pts(this.results.filter((r) => !front.has(r))) },
      { label: 'Pareto optimal', points: pts(this.run.results) },
    ]);
    const path = writePlot(this.outputDir, `pareto_${safeName(estim)}${epoch ? `_${epoch}` : ''}.svg`, svg);
    this.plots.push(path);
    this.logger?.info(`Pareto plot saved to ${path}`);
  }
}

export const paretoReporter = defineComponent({
  kind: 'callback',
  id: 'ParetoReporter',
  description: 'OptimumReporter, an SVG scatter of the candidates with their Pareto front on two metrics (plot/pareto_<estim>.svg), and the front as data (outputs/pareto_<estim>.json)',
  schema: paretoReporterSchema,
  create(config) {
    return new ParetoReporter(config);
  },
});
