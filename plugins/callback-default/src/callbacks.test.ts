import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@modnas/core';
import { EventBus } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { EarlyStopping, earlyStoppingSchema } from './early-stopping.js';
import { EstimResultsExporter, estimResultsExporterSchema } from './estim-results-exporter.js';
import { ParetoSet } from './optimum.js';
import { OptimumReporter, ParetoReporter, optimumReporterSchema, paretoReporterSchema } from './optimum-reporter.js';
import { ETAReporter, EstimReporter, TrainerReporter, estimReporterSchema, trainerReporterSchema } from './reporters.js';
import { MetricsStatsReporter, MixedOpStatsReporter, metricsStatsReporterSchema } from './stats-reporters.js';

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string): void => void lines.push(m);
  return { lines, debug: push, info: push, warn: push, error: push };
}
const outDir = (): string => mkdtempSync(join(tmpdir(), 'modnas-callbacks-'));

/** An estimator's events: begin, then per epoch its candidates and the epoch's end. */
async function drive(events: EventBus, epochs: Array<Array<{ arch: Record<string, unknown>; score: number; metrics: Record<string, number> }>>, extra: (e: number) => Record<string, unknown> = () => ({})): Promise<string[]> {
  const stops: string[] = [];
  await events.emit('estim:begin', { estim: 'search', type: 'X', stop: (r) => void stops.push(r) });
  for (const [e, cands] of epochs.entries()) {
    await events.emit('epoch:begin', { estim: 'search', epoch: e, epochs: epochs.length });
    for (const [index, c] of cands.entries()) await events.emit('candidate:end', { estim: 'search', index, ...c });
    await events.emit('epoch:end', { estim: 'search', epoch: e, epochs: epochs.length, metrics: { acc: 0.5 + e / 100 }, ...extra(e) });
  }
  await events.emit('estim:end', { estim: 'search', type: 'X' });
  return stops;
}

describe('the reporters', () => {
  it('ETAReporter logs the time left after every epoch', async () => {
    const events = new EventBus();
    const log = capture();
    new ETAReporter().attach(events, { logger: log, outputDir: outDir() });
    await drive(events, [[], [], []]);
    expect(log.lines.filter((l) => /^search epoch \d\/3: ETA /.test(l))).toHaveLength(3);
  });

  it('EstimReporter logs every `interval` epochs and the last', async () => {
    const events = new EventBus();
    const log = capture();
    new EstimReporter(estimReporterSchema.parse({ interval: 2 })).attach(events, { logger: log, outputDir: outDir() });
    await drive(events, [[], [], [], [], []]);
    expect(log.lines.map((l) => /\[\s*(\d)\/5\]/.exec(l)?.[1])).toEqual(['2', '4', '5']);
    expect(log.lines[0]).toContain('acc=0.51');
  });

  it("TrainerReporter logs the running means of an epoch's steps every interval (a fraction of the steps) and at the last", async () => {
    const events = new EventBus();
    const log = capture();
    new TrainerReporter(trainerReporterSchema.parse({ interval: 0.5 })).attach(events, { logger: log, outputDir: outDir() });
    for (let step = 1; step <= 4; step++) await events.emit('step:end', { estim: 'w', epoch: 0, step, steps: 4, metrics: { loss: step, acc: 0.25 * step, lr: 0.1 / step } });
    expect(log.lines).toHaveLength(2);
    expect(log.lines[0]).toMatch(/\[\s*2\/4\] loss=1\.500 acc=0\.3750 lr=0\.05000/);
    expect(log.lines[1]).toMatch(/\[\s*4\/4\] loss=2\.500 acc=0\.6250 lr=0\.02500/);
  });
});

describe('OptimumReporter and ParetoReporter', () => {
  const cands = [
    { arch: { a: 1 }, score: 0.7, metrics: { acc: 0.7, flops: 10 } },
    { arch: { a: 2 }, score: 0.8, metrics: { acc: 0.8, flops: 30 } },
    { arch: { a: 3 }, score: 0.6, metrics: { acc: 0.6, flops: 20 } }, // dominated by 1
    { arch: { a: 4 }, score: 0.75, metrics: { acc: 0.75, flops: 25 } },
    { arch: { a: 5 }, score: 0.8, metrics: { acc: 0.8, flops: 12 } }, // dominates 2 and 4
  ];

  it('keeps the Pareto front over the compared keys and directions (brute force agrees), and logs it', async () => {
    const events = new EventBus();
    const log = capture();
    const r = new OptimumReporter(optimumReporterSchema.parse({ cmp_keys: ['acc', 'flops'], cmp_fn: { flops: 'min' } }));
    r.attach(events, { logger: log, outputDir: outDir() });
    await drive(events, [cands.slice(0, 3), cands.slice(3)]);
    const dominated = (x: (typeof cands)[number]): boolean => cands.some((y) => y !== x && y.metrics.acc >= x.metrics.acc && y.metrics.flops <= x.metrics.flops && (y.metrics.acc > x.metrics.acc || y.metrics.flops < x.metrics.flops));
    expect(r.run.results.map((x) => x.arch.a).sort()).toEqual(cands.filter((x) => !dominated(x)).map((x) => x.arch.a).sort());
    expect(r.run.results.map((x) => x.arch.a).sort()).toEqual([1, 5]);
    expect(log.lines.some((l) => l.startsWith('search epoch 1/2 optimum (acc, flops)'))).toBe(true);
    expect(log.lines.at(-1)).toMatch(/^search optimum of 5 candidates \(acc, flops\): .*"a":1.*\| .*"a":5/);
  });

  it('a threshold makes a small difference count as none', () => {
    const p = new ParetoSet(['acc'], {}, { acc: 0.05 });
    expect(p.add({ arch: { a: 1 }, metrics: { acc: 0.8 } })).toBe(true);
    expect(p.add({ arch: { a: 2 }, metrics: { acc: 0.83 } })).toBe(false);
    expect(p.add({ arch: { a: 3 }, metrics: { acc: 0.9 } })).toBe(true);
    expect(p.results.map((r) => r.arch.a)).toEqual([3]);
  });

  it('ParetoReporter writes an SVG scatter of every candidate with the front apart (plot/pareto_<estim>.svg)', async () => {
    const events = new EventBus();
    const dir = outDir();
    const r = new ParetoReporter(paretoReporterSchema.parse({ cmp_keys: ['acc', 'flops'], cmp_fn: { flops: 'min' }, plot_intv: 0 }));
    r.attach(events, { logger: capture(), outputDir: dir });
    await drive(events, [cands]);
    const svg = readFileSync(join(dir, 'plot', 'pareto_search.svg'), 'utf8');
    expect(svg.match(/<circle /g)).toHaveLength(5);
    // two colours: three dominated, two on the front
    const fills = [...svg.matchAll(/<circle [^>]*fill="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(fills).size).toBe(2);
    expect(fills.filter((f) => f === fills.at(-1))).toHaveLength(2);
    // the front as data: each point with its candidate index, arch, score and metrics
    const saved = JSON.parse(readFileSync(join(dir, 'outputs', 'pareto_search.json'), 'utf8')) as { keys: string[]; directions: Record<string, string>; candidates: number; front: Array<{ index: number; arch: { a: number }; score: number; metrics: Record<string, number> }> };
    expect(saved.keys).toEqual(['acc', 'flops']);
    expect(saved.directions).toEqual({ acc: 'max', flops: 'min' });
    expect(saved.candidates).toBe(5);
    expect(saved.front.map((p) => [p.index, p.arch.a, p.score]).sort()).toEqual([
      [0, 1, 0.7],
      [4, 5, 0.8],
    ]);
    expect(saved.front.find((p) => p.index === 4)?.metrics).toEqual({ acc: 0.8, flops: 12 });
  });
});

describe('the stats reporters and the results exporter', () => {
  it("MixedOpStatsReporter saves softmax(α) of each op per epoch (outputs/probs_<estim>.json) and a chart per op", async () => {
    const events = new EventBus();
    const dir = outDir();
    new MixedOpStatsReporter().attach(events, { logger: capture(), outputDir: dir });
    await drive(events, [[], [], []], (e) => ({ alpha: [{ param: 'cell.e0', candidates: ['IDT', 'SC3'], probs: [0.5 - e / 10, 0.5 + e / 10] }] }));
    const saved = JSON.parse(readFileSync(join(dir, 'outputs', 'probs_search.json'), 'utf8')) as { params: Record<string, { candidates: string[]; probs: number[][] }> };
    expect(saved.params['cell.e0'].candidates).toEqual(['IDT', 'SC3']);
    expect(saved.params['cell.e0'].probs).toEqual([[0.5, 0.5], [0.4, 0.6], [0.3, 0.7]]);
    expect(readFileSync(join(dir, 'plot', 'probs_search_cell.e0.svg'), 'utf8').match(/<polyline /g)).toHaveLength(2);
  });

  it('MetricsStatsReporter saves every candidate and a scatter per pair of metrics', async () => {
    const events = new EventBus();
    const dir = outDir();
    new MetricsStatsReporter(metricsStatsReporterSchema.parse({})).attach(events, { logger: capture(), outputDir: dir });
    await drive(events, [[{ arch: { a: 1 }, score: 1, metrics: { acc: 1, flops: 2, params: 3 } }, { arch: { a: 2 }, score: 2, metrics: { acc: 2, flops: 1, params: 5 } }]]);
    expect(JSON.parse(readFileSync(join(dir, 'outputs', 'metrics_results_search.json'), 'utf8')).results).toHaveLength(2);
    for (const pair of ['acc-flops', 'acc-params', 'flops-params']) expect(existsSync(join(dir, 'plot', `metrics_search_${pair}.svg`)), pair).toBe(true);
  });

  it('EstimResultsExporter writes the best arch when a candidate beats it, and the results at the end', async () => {
    const events = new EventBus();
    const dir = outDir();
    const x = new EstimResultsExporter(estimResultsExporterSchema.parse({}));
    x.attach(events, { logger: capture(), outputDir: dir });
    await drive(events, [[{ arch: { a: 1 }, score: 0.5, metrics: {} }, { arch: { a: 2 }, score: 0.9, metrics: {} }, { arch: { a: 3 }, score: 0.7, metrics: {} }]]);
    expect(parseYaml(readFileSync(join(dir, 'outputs', 'best_search.yaml'), 'utf8'))).toEqual({ a: 2 });
    expect(x.files.filter((f) => f.endsWith('best_search.yaml'))).toHaveLength(2); // a=1, then a=2
    expect(parseYaml(readFileSync(join(dir, 'outputs', 'results_search.yaml'), 'utf8'))).toEqual({ estim: 'search', candidates: 3, best_arch_desc: { a: 2 }, best_score: 0.9 });
  });
});

describe('EarlyStopping', () => {
  const c = (score: number) => ({ arch: {}, score, metrics: {} });

  it('stops an estimator after `threshold` epochs without a better candidate, and not while candidates improve', async () => {
    const events = new EventBus();
    const log = capture();
    new EarlyStopping(earlyStoppingSchema.parse({ threshold: 2 })).attach(events, { logger: log, outputDir: outDir() });
    expect(await drive(events, [[c(0.1)], [c(0.2)], [c(0.3)], [c(0.35)], [c(0.4)]])).toEqual([]);
    const stops = await drive(events, [[c(0.1)], [c(0.5)], [c(0.2)], [c(0.3)], [c(0.4)], [c(0.1)]]);
    expect(stops).toEqual(['EarlyStopping: no better candidate score in 2 epochs (threshold 2)']);
    expect(log.lines.at(-1)).toBe('search: early stopped at epoch 4/6: no better candidate score in 2 epochs (threshold 2)');
  });

  it("watches an epoch metric instead ('-loss': lower is better)", async () => {
    const events = new EventBus();
    new EarlyStopping(earlyStoppingSchema.parse({ threshold: 1, metric: '-loss' })).attach(events, { logger: capture(), outputDir: outDir() });
    const losses = [1, 0.8, 0.9, 0.7];
    const stops = await drive(events, losses.map(() => []), (e) => ({ metrics: { loss: losses[e] } }));
    expect(stops).toHaveLength(1);
  });
});
