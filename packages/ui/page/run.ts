/** One run (#/run?dir=..&run=..): its facts, curves, best so far, costs, trials, α and architecture, live while it runs. */
import type { RecordIn, RunState, RunView, WireView } from '../src/view.js';
import { bestSoFar, costKeys, foldRecord, unpackView } from '../src/view.js';
import type { Child } from './dom.js';
import { app, duration, fmt, getJson, h, section, session, statusBadge, stopLive, where } from './dom.js';
import { clearCharts, lineChart } from './charts.js';
import { alphaHeatmaps } from './alpha.js';
import { analysisSection } from './analysis.js';
import { archView } from './arch.js';
import { scatters } from './pareto.js';
import { trialDetail } from './trial.js';
import { trialTable } from './trials.js';

function runHeader(v: RunView): HTMLElement {
  const r = v.run;
  const facts: Array<[string, Child]> = [
    ['status', statusBadge(r.status)],
    ['backend', r.backend ?? '–'],
    ['optimizer', r.optim ?? '–'],
    ['duration', duration(r.seconds)],
    ['trials', String(v.trials.length)],
    ['best score', h('span', { id: 'best' }, fmt(r.best))],
    ['epochs', String(v.metrics.length)],
  ];
  return h('div', { class: 'facts', id: 'facts' }, ...facts.map(([k, val]) => h('div', {}, h('span', { class: 'muted' }, k), h('b', {}, val))));
}

function curves(parent: HTMLElement, v: RunView): void {
  const estims = [...new Set(v.metrics.map((m) => m.estim))];
  if (estims.length === 0) {
    // a tabular or subnet search has trials and never an epoch: say so once it is over
    const text = v.run.status === 'running' ? 'no epoch finished yet' : v.trials.length ? 'this run has no epochs (trials only)' : 'no epoch recorded';
    parent.append(h('p', { class: 'muted', id: 'no-epochs' }, text));
    return;
  }
  const grid = h('div', { class: 'grid' });
  parent.append(grid);
  for (const estim of estims) {
    const pts = v.metrics.filter((m) => m.estim === estim);
    const keys = [...new Set(pts.flatMap((p) => Object.keys(p.values)))];
    // one chart per scale: losses, accuracies, and the rest (counters such as arch_updates); not the lr
    const isLoss = (k: string): boolean => /loss/i.test(k);
    const isAcc = (k: string): boolean => !isLoss(k) && /acc/i.test(k);
    const groups: Array<[string, string, string[]]> = [
      ['loss', 'loss', keys.filter(isLoss)],
      ['metrics', 'accuracy', keys.filter(isAcc)],
      ['other', 'other metrics', keys.filter((k) => !isLoss(k) && !isAcc(k) && !/(^|_)lr$/i.test(k))],
    ];
    for (const [id, g, ks] of groups) {
      if (ks.length === 0) continue;
      lineChart(grid, {
        name: `curves:${estim}:${id}`,
        title: `${estim}: ${g} per epoch`,
        xLabel: 'epoch', intX: true,
        // the store counts epochs from 0, the logs and progress bars from 1: shown as the logs count
        x: pts.map((p) => p.epoch + 1),
        series: ks.map((k) => ({ label: k, values: pts.map((p) => p.values[k] ?? null) })),
      });
    }
  }
}

function bestCharts(parent: HTMLElement, v: RunView): void {
  if (v.trials.length === 0) return;
  const grid = h('div', { class: 'grid' });
  parent.append(grid);
  const best = bestSoFar(v.trials);
  lineChart(grid, {
    name: 'best:trials',
    title: 'best score so far, by trial',
    xLabel: 'trial', intX: true,
    x: v.trials.map((_, i) => i + 1),
    series: [
      { label: 'score', values: v.trials.map((t) => t.score), points: true, color: '#999' },
      { label: 'best so far', values: best },
    ],
  });
  const t0 = Date.parse(v.run.start);
  const timed = v.trials.map((t, i) => [t.time ? (Date.parse(t.time) - t0) / 1000 : NaN, best[i]] as const).filter(([s]) => Number.isFinite(s));
  if (timed.length) {
    lineChart(grid, { name: 'best:time', title: 'best score so far, by time', xLabel: 'seconds since start', x: timed.map(([s]) => s), series: [{ label: 'best so far', values: timed.map(([, b]) => b) }] });
  }
}

export function renderRun(v: RunView, opts: { link: (name: string) => string }): void {
  clearCharts();
  where.textContent = ` / ${v.run.experiment} / ${v.run.id}`;
  const curvesSec = section('Curves per estimator and epoch');
  const bestSec = section('Best score so far');
  const scatterSec = section('Score against cost, Pareto front');
  const tableSec = section('Trials');
  app.replaceChildren(h('h1', {}, `${v.run.experiment} `, h('span', { class: 'muted' }, v.run.id)), runHeader(v), curvesSec, bestSec);
  curves(curvesSec, v);
  bestCharts(bestSec, v);
  if (v.trials.length === 0) bestSec.append(h('p', { class: 'muted' }, 'no trial yet'));
  if (costKeys(v.trials).length) {
    app.append(scatterSec);
    scatters(scatterSec, v);
  }
  trialDetail(app, v); // the trial the URL names (#/run?..&trial=<record id>), opened from the Pareto scatter
  app.append(tableSec);
  trialTable(tableSec, v);
  analysisSection(app, v);
  alphaHeatmaps(app, v.alpha, v);
  archView(app, v, opts.link);
  performance.mark('modnas:run-drawn'); // (bench/ui-page.mjs reads the marks)
}

/** How many times its own duration a live redraw leaves the page idle before the next (the analysis, drawn after, takes about as long again). */
const REDRAW_IDLE = 6;

export async function showRun(dir: string, run: string): Promise<void> {
  const asked = location.hash;
  let view: RunView;
  try {
    view = unpackView(await getJson<WireView>(`/api/run?dir=${encodeURIComponent(dir)}&run=${encodeURIComponent(run)}`));
  } catch (e) {
    if (location.hash !== asked) return; // navigated away meanwhile
    // a run only starting (its store or its record not written yet): say why, and look again
    app.replaceChildren(h('p', { class: 'error' }, (e as Error).message), h('p', { class: 'muted' }, 'looking again every 2 s'));
    session.pollTimer = window.setTimeout(() => void showRun(dir, run).catch(() => undefined), 2000);
    return;
  }
  if (location.hash !== asked) return;
  const link = (name: string): string => `/api/arch?dir=${encodeURIComponent(dir)}&name=${encodeURIComponent(name)}`;
  renderRun(view, { link });
  // live: the server streams the run's new records; redraw at most twice a second, and on a large
  // run (whose redraw takes long) leaving the page idle at least REDRAW_IDLE times the redraw's time
  let dirty = false;
  let nextAt = 0;
  let status = view.run.status;
  session.live = new EventSource(`/api/events?dir=${encodeURIComponent(dir)}&run=${encodeURIComponent(run)}&after=${view.lastId}`);
  // resumed: the records after its checkpoint were written again, so the view is read afresh
  session.live.addEventListener('reset', () => {
    stopLive();
    void showRun(dir, run);
  });
  session.live.onmessage = (ev: MessageEvent<string>) => {
    const u = JSON.parse(ev.data) as { records: RecordIn[]; run: RunState };
    for (const r of u.records) foldRecord(view, r);
    Object.assign(view.run, u.run);
    // new records redraw the view; a new state alone (a running run's duration) only its facts
    if (u.records.length > 0) dirty = true;
    else document.getElementById('facts')?.replaceWith(runHeader(view));
    if (u.run.status !== status && status === 'running') {
      // finished: reload once for the files it wrote (outputs/arch_*_best.yaml)
      status = u.run.status;
      stopLive();
      void showRun(dir, run);
    }
  };
  session.pollTimer = window.setInterval(() => {
    if (!dirty || performance.now() < nextAt) return;
    dirty = false;
    const t = performance.now();
    // keep the reader's place: scroll position, and the filter box if they are typing in it
    const y = window.scrollY;
    const typing = document.activeElement?.id === 'trial-filter' ? (document.activeElement as HTMLInputElement).selectionStart : null;
    renderRun(view, { link });
    nextAt = performance.now() + REDRAW_IDLE * (performance.now() - t);
    window.scrollTo(0, y);
    if (typing !== null) {
      const f = document.getElementById('trial-filter') as HTMLInputElement;
      f.focus();
      f.setSelectionRange(typing, typing);
    }
  }, 500);
}
