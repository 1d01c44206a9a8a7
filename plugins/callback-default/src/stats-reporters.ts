import type { AlphaProbs, Callback, EventBus, Logger } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { safeName, writeOutput, writePlot } from './files.js';
import { lineChart, scatterChart } from './svg.js';

// ---------------------------------------------------------------- MixedOpStatsReporter

/**
 * softmax(α) of every mixed op after each epoch of an estimator; at its end, one SVG chart per
 * mixed op (plot/probs_<estim>_<param>.svg) and the values (outputs/probs_<estim>.json; the
 * original's probs.pkl and prob_<i>.png).
 */
export class MixedOpStatsReporter implements Callback {
  /** Per estimator running: per epoch, the probabilities of each param. */
  probs: AlphaProbs[][] = [];
  readonly files: string[] = [];

  attach(events: EventBus, { logger, outputDir }: { logger: Logger; outputDir: string }): void {
    events.on('estim:begin', () => {
      this.probs = [];
    });
    events.on('epoch:end', ({ alpha }) => {
      if (alpha?.length) this.probs.push(alpha);
    });
    events.on('estim:end', ({ estim }) => {
      if (!this.probs.length) return;
      const params = this.probs[this.probs.length - 1];
      const epochs = this.probs.map((_, i) => i + 1);
      const out: Record<string, { candidates: string[]; probs: number[][] }> = {};
      for (const p of params) {
        const rows = this.probs.map((ep) => ep.find((q) => q.param === p.param)?.probs ?? p.candidates.map(() => NaN));
        out[p.param] = { candidates: p.candidates, probs: rows };
        const svg = lineChart(`softmax(α): ${p.param}`, 'epoch', 'probability', epochs, p.candidates.map((c, i) => ({ label: c, values: rows.map((r) => r[i]) })));
        this.files.push(writePlot(outputDir, `probs_${safeName(estim)}_${safeName(p.param)}.svg`, svg));
      }
      this.files.push(writeOutput(outputDir, `probs_${safeName(estim)}.json`, { estim, epochs: epochs.length, params: out }));
      logger.info(`mixed op stats: ${estim}: ${epochs.length} epochs, ${params.length} mixed ops; saved to outputs/probs_${safeName(estim)}.json and plot/`);
    });
  }
}

export const mixedOpStatsReporter = defineComponent({
  kind: 'callback',
  id: 'MixedOpStatsReporter',
  description: "Saves softmax(α) of every mixed op per epoch at each estimator's end: a chart per op (plot/) and the values (outputs/probs_<estim>.json)",
  schema: z.strictObject({}),
  create() {
    return new MixedOpStatsReporter();
  },
});

// ---------------------------------------------------------------- MetricsStatsReporter

export const metricsStatsReporterSchema = z.strictObject({
  axis_list: z
    .array(z.tuple([z.string(), z.string()]))
    .nullable()
    .default(null)
    .describe('Pairs of metrics to plot against each other (null: every pair of the first candidate\'s metrics)'),
});

/** The metrics of every candidate of an estimator; at its end, a scatter per pair of metrics (plot/) and the results (outputs/metrics_results_<estim>.json). */
export class MetricsStatsReporter implements Callback {
  results: Array<{ arch: Record<string, unknown>; metrics: Record<string, number> }> = [];
  readonly files: string[] = [];

  constructor(readonly config: z.output<typeof metricsStatsReporterSchema>) {}

  attach(events: EventBus, { logger, outputDir }: { logger: Logger; outputDir: string }): void {
    events.on('estim:begin', () => {
      this.results = [];
    });
    events.on('candidate:end', ({ arch, metrics }) => void this.results.push({ arch, metrics }));
    events.on('estim:end', ({ estim }) => {
      if (!this.results.length) return;
      const keys = Object.keys(this.results[0].metrics);
      const axes = this.config.axis_list ?? keys.flatMap((a, i) => keys.slice(i + 1).map((b) => [a, b] as [string, string]));
      for (const [a, b] of axes) {
        const svg = scatterChart(`metrics: ${a}-${b}`, a, b, [{ label: `${this.results.length} candidates`, points: this.results.map((r) => [r.metrics[a], r.metrics[b]]) }]);
        this.files.push(writePlot(outputDir, `metrics_${safeName(estim)}_${safeName(a)}-${safeName(b)}.svg`, svg));
      }
      this.files.push(writeOutput(outputDir, `metrics_results_${safeName(estim)}.json`, { estim, results: this.results }));
      logger.info(`metrics stats: ${estim}: ${this.results.length} candidates, axes ${axes.map((x) => x.join('-')).join(', ') || 'none'}; saved to outputs/metrics_results_${safeName(estim)}.json and plot/`);
    });
  }
}

export const metricsStatsReporter = defineComponent({
  kind: 'callback',
  id: 'MetricsStatsReporter',
  description: "Saves every candidate's metrics at each estimator's end: a scatter per pair of metrics (plot/) and the results (outputs/metrics_results_<estim>.json)",
  schema: metricsStatsReporterSchema,
  create(config) {
    return new MetricsStatsReporter(config);
  },
});
