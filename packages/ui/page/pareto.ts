/** Score against each cost the trials have (FLOPs, params, latency), with the Pareto front marked. */
import type { RunView } from '../src/view.js';
import { costKeys, paretoFront } from '../src/view.js';
import { h } from './dom.js';
import { lineChart } from './charts.js';

export function scatters(parent: HTMLElement, v: RunView): void {
  const keys = costKeys(v.trials);
  if (keys.length === 0) return;
  const grid = h('div', { class: 'grid' });
  parent.append(grid);
  for (const k of keys) {
    const pts = v.trials.filter((t) => t.score !== null && Number.isFinite(t.metrics[k])).map((t) => ({ cost: t.metrics[k], score: t.score as number }));
    if (pts.length === 0) continue;
    const front = new Set(paretoFront(pts));
    const order = pts.map((_, i) => i).sort((a, b) => pts[a].cost - pts[b].cost);
    lineChart(grid, {
      name: `pareto:${k}`,
      title: `score against ${k} (Pareto front: ${front.size} of ${pts.length})`,
      xLabel: k,
      yLabel: 'score',
      x: order.map((i) => pts[i].cost),
      series: [
        { label: 'trial', values: order.map((i) => pts[i].score), points: true, color: '#7f7f7f' },
        { label: 'Pareto front', values: order.map((i) => (front.has(i) ? pts[i].score : null)), color: '#d62728' },
      ],
    });
  }
}
