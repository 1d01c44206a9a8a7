/**
 * The runs page (#/): every experiment's runs, refreshed every 5 s (new experiments and runs
 * appear), with boxes to pick runs to compare and, for an experiment of several runs (the seeds
 * of modnas bench), a link comparing them all.
 */
import type { ExperimentEntry } from '../src/view.js';
import { app, duration, fmt, getJson, h, section, session, statusBadge, where } from './dom.js';

/** '/', '/run' or '/compare'. */
export function routePath(): string {
  const p = location.hash.replace(/^#/, '').split('?')[0];
  return p === '/run' || p === '/compare' ? p : '/';
}

/** Runs ticked for comparison (kept across the list's refreshes). */
const selected = new Set<string>();

export async function showRuns(refresh = false): Promise<void> {
  where.textContent = '';
  const exps = await getJson<ExperimentEntry[]>('/api/experiments');
  if (refresh && routePath() !== '/') return; // navigated away meanwhile
  const compare = h('button', { disabled: selected.size < 2, id: 'compare', onclick: () => (location.hash = `#/compare?runs=${encodeURIComponent([...selected].join(','))}`) }, 'Compare selected runs');
  const rows: HTMLElement[] = [];
  for (const e of exps) {
    if (e.error) {
      // its store cannot be read: listed with the reason, the other experiments as usual
      rows.push(h('tr', { 'data-run': `${e.dir}:`, class: 'unreadable' }, h('td', {}, ''), h('td', {}, e.experiment, e.dir && e.dir !== e.experiment ? h('span', { class: 'muted' }, ` ${e.dir}`) : ''), h('td', {}, '–'), h('td', {}, statusBadge('unreadable')), h('td', { colspan: 6, class: 'error' }, `${e.error.code}: ${e.error.message}`)));
      continue;
    }
    // on the experiment's first row (its newest run): all its runs side by side, mean ± std per optimizer
    const all = e.runs.map((r) => `${e.dir}:${r.id}`).join(',');
    const compareAll = e.runs.length >= 2 ? h('a', { class: 'compare-all', 'data-compare': e.dir, href: `#/compare?runs=${encodeURIComponent(all)}` }, `compare all ${e.runs.length} runs`) : '';
    for (const [i, r] of [...e.runs].reverse().entries()) {
      const key = `${e.dir}:${r.id}`;
      const box = h('input', {
        type: 'checkbox',
        checked: selected.has(key),
        'aria-label': `select ${key}`,
        onchange: (ev: Event) => {
          if ((ev.target as HTMLInputElement).checked) selected.add(key);
          else selected.delete(key);
          compare.disabled = selected.size < 2;
        },
      });
      rows.push(
        h(
          'tr',
          { 'data-run': key },
          h('td', {}, box),
          h('td', {}, e.experiment, e.dir && e.dir !== e.experiment ? h('span', { class: 'muted' }, ` ${e.dir}`) : '', i === 0 && compareAll ? ' ' : '', i === 0 && compareAll),
          h('td', {}, h('a', { href: `#/run?dir=${encodeURIComponent(e.dir)}&run=${encodeURIComponent(r.id)}` }, r.id)),
          h('td', {}, statusBadge(r.status)),
          h('td', {}, r.backend ?? '–'),
          h('td', {}, r.optim ?? '–'),
          h('td', {}, new Date(r.start).toLocaleString()),
          h('td', { class: 'num' }, duration(r.seconds)),
          h('td', { class: 'num' }, r.trials),
          h('td', { class: 'num', 'data-best': r.best ?? '' }, fmt(r.best)),
        ),
      );
    }
  }
  const head = h('tr', {}, ...['', 'experiment', 'run', 'status', 'backend', 'optimizer', 'start', 'duration', 'trials', 'best score'].map((t) => h('th', {}, t)));
  app.replaceChildren(section('Experiments and runs', h('table', { id: 'runs' }, h('thead', {}, head), h('tbody', {}, ...rows)), h('p', {}, compare)));
  // statuses and durations change while runs run: refresh the list every 5 s
  if (!refresh) session.pollTimer = window.setInterval(() => void showRuns(true).catch(() => undefined), 5000);
}
