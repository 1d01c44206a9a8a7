/** Runs side by side (#/compare?runs=dir:run,..): best so far overlaid, mean ± std per optimizer, epoch metrics. */
import type { RunView, WireView } from '../src/view.js';
import { bestSoFar, meanStd, unpackView } from '../src/view.js';
import { COLORS, app, duration, fmt, getJson, h, statusBadge, where } from './dom.js';
import type { LineSpec } from './charts.js';
import { clearCharts, lineChart } from './charts.js';

export async function showCompare(keys: string[]): Promise<void> {
  const views = await Promise.all(
    keys.map((k) => {
      const i = k.lastIndexOf(':');
      return getJson<WireView>(`/api/run?dir=${encodeURIComponent(k.slice(0, i))}&run=${encodeURIComponent(k.slice(i + 1))}`).then(unpackView);
    }),
  );
  renderCompare(views);
}

function renderCompare(views: RunView[]): void {
  clearCharts();
  where.textContent = ' / compare';
  const label = (v: RunView): string => `${v.run.experiment} ${v.run.id}`;
  const head = h('tr', {}, ...['run', 'status', 'optimizer', 'backend', 'duration', 'trials', 'best score'].map((t) => h('th', {}, t)));
  const rows = views.map((v) => h('tr', {}, h('td', {}, label(v)), h('td', {}, statusBadge(v.run.status)), h('td', {}, v.run.optim ?? '–'), h('td', {}, v.run.backend ?? '–'), h('td', { class: 'num' }, duration(v.run.seconds)), h('td', { class: 'num' }, v.trials.length), h('td', { class: 'num' }, fmt(v.run.best))));
  const grid = h('div', { class: 'grid' });
  app.replaceChildren(h('h1', {}, `${views.length} runs side by side`), h('table', { id: 'compare-table' }, h('thead', {}, head), h('tbody', {}, ...rows)), grid);
  // best so far by trial, one line per run
  const best = views.map((v) => bestSoFar(v.trials));
  const n = Math.max(0, ...best.map((b) => b.length));
  if (n > 0) {
    lineChart(grid, { name: 'compare:best', title: 'best score so far, by trial', xLabel: 'trial', intX: true, x: Array.from({ length: n }, (_, i) => i + 1), series: views.map((v, i) => ({ label: label(v), values: best[i] })) });
    // mean ± std of best-so-far per optimizer (repeated runs: seeds of one search)
    const groups = new Map<string, Array<Array<number | null>>>();
    views.forEach((v, i) => groups.set(v.run.optim ?? v.run.experiment, [...(groups.get(v.run.optim ?? v.run.experiment) ?? []), best[i]]));
    const series: LineSpec['series'] = [];
    const bands: Array<[number, number]> = [];
    const summary: HTMLElement[] = [];
    let gi = 0;
    for (const [name, ss] of groups) {
      const { mean, std } = meanStd(ss);
      // in numbers: where every run of the group still contributes (after its shortest run's trials)
      const k = Math.min(...ss.map((x) => x.length)) - 1;
      if (k >= 0) summary.push(h('tr', { 'data-optim': name }, h('td', {}, name), h('td', { class: 'num' }, ss.length), h('td', { class: 'num' }, k + 1), h('td', { class: 'num', 'data-mean': mean[k] ?? '', 'data-std': std[k] ?? '' }, `${fmt(mean[k])} ± ${fmt(std[k])}`)));
      const color = COLORS[gi++ % COLORS.length];
      const at = series.length;
      series.push({ label: `${name} mean (${ss.length} runs)`, values: mean, color });
      series.push({ label: `${name} +std`, values: mean.map((m, j) => (m === null ? null : m + (std[j] ?? 0))), color, dash: true });
      series.push({ label: `${name} −std`, values: mean.map((m, j) => (m === null ? null : m - (std[j] ?? 0))), color, dash: true });
      bands.push([at + 1, at + 2]);
    }
    const sumHead = h('tr', {}, ...['optimizer', 'runs', 'after trials', 'best so far, mean ± std'].map((t) => h('th', {}, t)));
    grid.before(h('table', { id: 'compare-summary' }, h('thead', {}, sumHead), h('tbody', {}, ...summary)));
    lineChart(grid, { name: 'compare:mean', title: 'best score so far: mean ± std per optimizer', xLabel: 'trial', intX: true, x: Array.from({ length: n }, (_, i) => i + 1), series, bands });
  }
  // one epoch metric overlaid (epochs numbered through the estimators)
  const keys = [...new Set(views.flatMap((v) => v.metrics.flatMap((m) => Object.keys(m.values))))];
  for (const k of keys.filter((x) => /acc|loss/i.test(x)).slice(0, 4)) {
    const len = Math.max(0, ...views.map((v) => v.metrics.length));
    if (len === 0) continue;
    lineChart(grid, { name: `compare:metric:${k}`, title: `${k} per epoch (all estimators in order)`, xLabel: 'epoch', intX: true, x: Array.from({ length: len }, (_, i) => i + 1), series: views.map((v) => ({ label: label(v), values: Array.from({ length: len }, (_, i) => v.metrics[i]?.values[k] ?? null) })) });
  }
}
