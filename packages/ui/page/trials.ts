/** The trial table of a run: sortable by any column, filtered as typed. */
import type { RunView, Trial } from '../src/view.js';
import { fmt, h } from './dom.js';

interface TableState {
  sort: string;
  desc: boolean;
  filter: string;
}
const tableState: TableState = { sort: 'id', desc: false, filter: '' };

export function trialTable(parent: HTMLElement, v: RunView): void {
  if (v.trials.length === 0) {
    parent.append(h('p', { class: 'muted' }, 'no trial yet'));
    return;
  }
  const metricKeys = [...new Set(v.trials.flatMap((t) => Object.keys(t.metrics)))];
  const cols: Array<{ key: string; label: string; get: (t: Trial) => number | string | null }> = [
    { key: 'id', label: '#', get: (t) => v.trials.indexOf(t) + 1 },
    { key: 'estim', label: 'estim', get: (t) => t.estim },
    { key: 'index', label: 'index', get: (t) => t.index },
    { key: 'status', label: 'status', get: (t) => t.status },
    { key: 'score', label: 'score', get: (t) => t.score },
    ...metricKeys.map((k) => ({ key: `m:${k}`, label: k, get: (t: Trial) => t.metrics[k] ?? null })),
    { key: 'seconds', label: 'seconds', get: (t) => t.seconds ?? null },
    { key: 'arch', label: 'arch', get: (t) => JSON.stringify(t.arch) },
  ];
  const body = h('tbody');
  const filter = h('input', { type: 'search', id: 'trial-filter', placeholder: 'filter (arch, status, estim)', value: tableState.filter });
  const count = h('span', { class: 'muted', id: 'trial-count' });
  const headCells = cols.map((c) =>
    h(
      'th',
      {
        'data-key': c.key,
        class: 'sortable',
        onclick: () => {
          tableState.desc = tableState.sort === c.key ? !tableState.desc : c.key === 'score';
          tableState.sort = c.key;
          fill();
        },
      },
      c.label,
    ),
  );
  const fill = (): void => {
    const col = cols.find((c) => c.key === tableState.sort) ?? cols[0];
    const f = tableState.filter.toLowerCase();
    const rows = v.trials.filter((t) => !f || `${t.estim} ${t.status} ${JSON.stringify(t.arch)}`.toLowerCase().includes(f));
    rows.sort((a, b) => {
      const x = col.get(a);
      const y = col.get(b);
      const c = x === null ? (y === null ? 0 : 1) : y === null ? -1 : typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return tableState.desc && x !== null && y !== null ? -c : c;
    });
    for (const th of headCells) th.dataset.sorted = th.dataset.key === tableState.sort ? (tableState.desc ? 'desc' : 'asc') : '';
    body.replaceChildren(
      ...rows.map((t) =>
        h(
          'tr',
          { 'data-trial': t.id },
          ...cols.map((c) => {
            const val = c.get(t);
            return c.key === 'arch' ? h('td', { class: 'arch' }, String(val)) : h('td', { class: typeof val === 'number' ? 'num' : '', 'data-value': val ?? '' }, typeof val === 'number' ? fmt(val) : (val ?? '–'));
          }),
        ),
      ),
    );
    count.textContent = ` ${rows.length} of ${v.trials.length} trials`;
  };
  filter.addEventListener('input', () => {
    tableState.filter = filter.value;
    fill();
  });
  parent.append(h('p', {}, filter, count), h('div', { class: 'scroll' }, h('table', { id: 'trials' }, h('thead', {}, h('tr', {}, ...headCells)), body)));
  fill();
}
