/**
 * One trial of a run, in a panel of the run view (#trial-detail): its score, metrics, status, time
 * and architecture. Opened by clicking it in the Pareto scatter, or by the URL
 * (#/run?dir=..&run=..&trial=<record id>); in the HTML report too, where all it shows is already in
 * the page (nothing is fetched).
 */
import type { RunView } from '../src/view.js';
import { app, duration, fmt, h, statusBadge } from './dom.js';
import { archPicture } from './arch.js';

const PANEL = 'trial-detail';
/** The trial the panel last scrolled to: live redraws keep the reader's place instead. */
let scrolledTo: number | null = null;

/** The record id of the trial the URL names, or null. */
export function trialInUrl(): number | null {
  const v = new URLSearchParams(location.hash.split('?')[1] ?? '').get('trial');
  const n = v === null || v === '' ? NaN : Number(v);
  return Number.isInteger(n) ? n : null;
}

/** Name the trial in the URL (or none), without navigating: the view on screen stays as it is. */
function setTrialInUrl(id: number | null): void {
  const [path, query] = location.hash.split('?');
  const q = new URLSearchParams(query ?? '');
  if (id === null) q.delete('trial');
  else q.set('trial', String(id));
  const s = q.toString();
  try {
    history.replaceState(history.state, '', `${path || '#/run'}${s ? `?${s}` : ''}`);
  } catch {
    // a page that may not rewrite its URL still shows the panel
  }
}

function closeTrial(panel: HTMLElement): void {
  setTrialInUrl(null);
  scrolledTo = null;
  panel.hidden = true;
  delete panel.dataset.trial;
  panel.replaceChildren();
}

function fill(panel: HTMLElement, v: RunView, id: number): void {
  const pos = v.trials.findIndex((t) => t.id === id);
  const close = h('button', { class: 'trial-close', title: 'close', 'aria-label': 'close', onclick: () => closeTrial(panel) }, '×');
  panel.hidden = false;
  panel.dataset.trial = String(id);
  if (pos < 0) {
    panel.replaceChildren(h('h2', {}, `Trial (record ${id}) `, close), h('p', { class: 'muted' }, `this run has no trial with record id ${id}`));
    return;
  }
  const t = v.trials[pos];
  const facts: Array<[string, Node | string]> = [
    ['status', statusBadge(t.status)],
    ['score', h('span', { class: 'trial-score', 'data-value': t.score ?? '' }, fmt(t.score))],
    ['estimator', t.estim || '–'],
    ['index', String(t.index)],
    ['record', h('span', { class: 'trial-id' }, String(t.id))],
    ['took', t.seconds === undefined ? '–' : duration(t.seconds)],
    ['time', t.time ?? '–'],
  ];
  const metrics = Object.entries(t.metrics);
  panel.replaceChildren(
    h('h2', {}, `Trial #${pos + 1} `, h('span', { class: 'muted' }, `record ${t.id}`), close),
    h('div', { class: 'facts' }, ...facts.map(([k, val]) => h('div', {}, h('span', { class: 'muted' }, k), h('b', {}, val)))),
    metrics.length
      ? h('table', { class: 'trial-metrics' }, h('tbody', {}, ...metrics.map(([k, val]) => h('tr', { 'data-metric': k }, h('th', {}, k), h('td', { class: 'num', 'data-value': val }, fmt(val))))))
      : h('p', { class: 'muted' }, 'no metrics'),
    h('h3', {}, 'Architecture'),
    archPicture(v, t.arch, `trial:${t.id}`),
  );
}

/**
 * The panel, in its place in the run view: filled when the URL names a trial (scrolled to the
 * first time), empty and hidden otherwise.
 */
export function trialDetail(parent: HTMLElement, v: RunView): void {
  const panel = h('section', { id: PANEL, class: 'trial-detail', hidden: true });
  parent.append(panel);
  const id = trialInUrl();
  if (id === null) return;
  fill(panel, v, id);
  if (scrolledTo !== id) {
    scrolledTo = id;
    requestAnimationFrame(() => panel.scrollIntoView({ block: 'start' }));
  }
}

/** Open a trial: the URL names it and the panel shows it (brought into view). */
export function openTrial(v: RunView, id: number): void {
  setTrialInUrl(id);
  let panel = document.getElementById(PANEL);
  if (!panel) {
    panel = h('section', { id: PANEL, class: 'trial-detail' });
    app.append(panel);
  }
  fill(panel, v, id);
  scrolledTo = id;
  panel.scrollIntoView({ block: 'nearest' });
}
