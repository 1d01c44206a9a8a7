/** The architecture parameters of a gradient search: softmax(α) per mixed op and epoch. */
import type { AlphaPoint } from '../src/view.js';
import { h, section } from './dom.js';

/** softmax(α) per mixed op over epochs: one small heatmap per op (rows: candidates, columns: epochs). */
export function alphaHeatmaps(parent: HTMLElement, alpha: AlphaPoint[]): void {
  if (alpha.length === 0) return;
  const params = [...new Set(alpha.flatMap((a) => a.ops.map((o) => o.param)))];
  const grid = h('div', { class: 'heatmaps', id: 'alpha' });
  for (const p of params) {
    const cols = alpha.map((a) => ({ label: `${a.estim} ${a.epoch}`, op: a.ops.find((o) => o.param === p) })).filter((c) => c.op);
    const cands = cols[cols.length - 1].op?.candidates ?? [];
    const rows = cands.map((name, ci) =>
      h(
        'tr',
        {},
        h('th', {}, name),
        ...cols.map((c) => {
          const pr = c.op?.probs[ci] ?? 0;
          return h('td', { style: `background: rgba(31,119,180,${pr.toFixed(3)}); color: ${pr > 0.55 ? '#fff' : '#222'}`, title: `${p} ${name} epoch ${c.label}: ${pr.toFixed(4)}`, 'data-p': pr }, pr.toFixed(2));
        }),
      ),
    );
    grid.append(h('table', { class: 'heatmap', 'data-param': p }, h('caption', {}, p), h('thead', {}, h('tr', {}, h('th', {}, ''), ...cols.map((c) => h('th', {}, c.label)))), h('tbody', {}, ...rows)));
  }
  parent.append(section('Architecture parameters: softmax(α) per mixed op and epoch', grid));
}
