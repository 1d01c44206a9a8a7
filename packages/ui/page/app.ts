/**
 * The dashboard page. Routes (in the URL hash): the runs of every experiment (#/), one run
 * (#/run?dir=..&run=..), runs side by side (#/compare?runs=dir:run,dir:run). Served by `modnas ui`
 * it reads /api/* and follows a running run by server-sent events; written by
 * `modnas report --html` it renders the one run inlined in window.__MODNAS_STATIC__ (no server).
 */
import uPlot from 'uplot';
import type { SlotRecord } from '@modnas/services';
import type { AlphaPoint, ExperimentEntry, RecordIn, RunState, RunView, Trial } from '../src/view.js';
import { bestSoFar, costKeys, foldRecord, meanStd, paretoFront } from '../src/view.js';

interface StaticData {
  view: RunView;
}
interface ChartRecord {
  labels: string[];
  data: Array<Array<number | null>>;
}
declare global {
  interface Window {
    __MODNAS_STATIC__?: StaticData;
    /** What each chart was given (name -> series labels and data), for tests and debugging. */
    __modnasCharts: Record<string, ChartRecord>;
  }
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const app = document.getElementById('app') as HTMLElement;
const where = document.getElementById('where') as HTMLElement;
window.__modnasCharts = {};
let charts: uPlot[] = [];
let live: EventSource | undefined;
let pollTimer: number | undefined;

// ---------------------------------------------------------------- small DOM helpers

type Child = Node | string | number | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | EventListener | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    // through the CSSOM: the Content-Security-Policy refuses style attributes
    else if (k === 'style') el.style.cssText = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

const fmt = (v: number | null | undefined, d = 4): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(d));
function duration(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
const statusBadge = (s: string): HTMLElement => h('span', { class: `status status-${s}`, 'data-status': s }, s);
const section = (title: string, ...children: Child[]): HTMLElement => h('section', {}, h('h2', {}, title), ...children);

function clearCharts(): void {
  for (const c of charts) c.destroy();
  charts = [];
  window.__modnasCharts = {};
}

function stopLive(): void {
  live?.close();
  live = undefined;
  if (pollTimer !== undefined) window.clearInterval(pollTimer);
  pollTimer = undefined;
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  const body = (await r.json()) as T & { error?: string };
  if (!r.ok) throw new Error(body.error ?? `${url}: HTTP ${r.status}`);
  return body;
}

// ---------------------------------------------------------------- charts (uPlot)

interface LineSpec {
  name: string;
  title: string;
  xLabel: string;
  yLabel?: string;
  x: number[];
  series: Array<{ label: string; values: Array<number | null>; points?: boolean; dash?: boolean; color?: string; hidden?: boolean }>;
  bands?: Array<[number, number]>;
  time?: boolean;
  /** x is a count (epochs, trials): integer ticks only. */
  intX?: boolean;
}

const INT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

function lineChart(parent: HTMLElement, spec: LineSpec): void {
  const box = h('div', { class: 'chart', 'data-chart': spec.name });
  parent.append(box);
  // two charts a row on a wide window
  const avail = parent.clientWidth || document.documentElement.clientWidth - 40;
  const width = Math.max(320, Math.min(640, avail >= 1000 ? Math.floor(avail / 2) - 22 : avail - 12));
  const data = [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData;
  window.__modnasCharts[spec.name] = { labels: spec.series.map((s) => s.label), data: [spec.x, ...spec.series.map((s) => s.values)] };
  const opts: uPlot.Options = {
    title: spec.title,
    width,
    height: 260,
    scales: { x: { time: spec.time ?? false } },
    axes: [{ label: spec.xLabel, ...(spec.intX ? { incrs: INT_INCRS } : {}) }, { label: spec.yLabel ?? '', size: 60 }],
    series: [
      { label: spec.xLabel },
      ...spec.series.map((s, i): uPlot.Series => {
        const color = s.color ?? COLORS[i % COLORS.length];
        return {
          label: s.label,
          stroke: s.hidden ? 'transparent' : color,
          width: s.points ? 0 : 2,
          dash: s.dash ? [6, 4] : undefined,
          spanGaps: true,
          points: s.points ? { show: true, size: 6, fill: color, stroke: color } : { show: spec.x.length < 40 },
          ...(s.points ? { paths: () => null } : {}),
          value: (_u: uPlot, v: number | null) => fmt(v),
        };
      }),
    ],
    bands: spec.bands?.map(([hi, lo]) => ({ series: [hi + 1, lo + 1], fill: 'rgba(31,119,180,0.15)' })),
    legend: { live: true },
  };
  charts.push(new uPlot(opts, data, box));
}

// ---------------------------------------------------------------- the runs page

/** Runs ticked for comparison (kept across the list's refreshes). */
const selected = new Set<string>();

async function showRuns(refresh = false): Promise<void> {
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
    for (const r of [...e.runs].reverse()) {
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
          h('td', {}, e.experiment, e.dir && e.dir !== e.experiment ? h('span', { class: 'muted' }, ` ${e.dir}`) : ''),
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
  if (!refresh) pollTimer = window.setInterval(() => void showRuns(true).catch(() => undefined), 5000);
}

// ---------------------------------------------------------------- one run

interface TableState {
  sort: string;
  desc: boolean;
  filter: string;
}
const tableState: TableState = { sort: 'id', desc: false, filter: '' };

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
    parent.append(h('p', { class: 'muted' }, 'no epoch finished yet'));
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
        x: pts.map((p) => p.epoch),
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

function scatters(parent: HTMLElement, v: RunView): void {
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

function trialTable(parent: HTMLElement, v: RunView): void {
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

/** softmax(α) per mixed op over epochs: one small heatmap per op (rows: candidates, columns: epochs). */
function alphaHeatmaps(parent: HTMLElement, alpha: AlphaPoint[]): void {
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

/** The last two parts of a module path (the full path is the tooltip). */
const shortPath = (p: string): string => p.split('.').slice(-2).join('.');

/** The candidate an arch desc picks for a Slot: by its param name (a map), or by position (a list). */
function chosenFor(desc: unknown, slot: SlotRecord, i: number): string | undefined {
  if (Array.isArray(desc)) return desc[i] === undefined ? undefined : typeof desc[i] === 'string' ? desc[i] : JSON.stringify(desc[i]);
  if (desc && typeof desc === 'object') {
    const m = desc as Record<string, unknown>;
    const v = (slot.param && m[slot.param]) ?? m[slot.path];
    return v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
  }
  return undefined;
}

function archView(parent: HTMLElement, v: RunView, link: (name: string) => string): void {
  if (v.arch.length === 0 && v.slots.length === 0) return;
  const sec = section('Architecture found');
  for (const f of v.arch) {
    const list = Array.isArray(f.desc) ? f.desc : f.desc && typeof f.desc === 'object' ? Object.entries(f.desc as Record<string, unknown>) : [];
    const blocks: HTMLElement[] =
      v.slots.length > 0
        ? v.slots.map((s, i) =>
            h(
              'div',
              { class: 'block', 'data-slot': s.path },
              h('div', { class: 'cand' }, chosenFor(f.desc, s, i) ?? '?'),
              h('div', { class: 'shape' }, `${s.chnIn}→${s.chnOut}${s.stride > 1 ? ` /${s.stride}` : ''}`),
              h('div', { class: 'path muted', title: s.path }, shortPath(s.path)),
            ),
          )
        : list.map((e, i) => {
            const [k, val] = Array.isArray(e) && e.length === 2 && !Array.isArray(f.desc) ? (e as [string, unknown]) : [String(i), e];
            return h('div', { class: 'block', 'data-slot': k }, h('div', { class: 'cand' }, typeof val === 'string' ? val : JSON.stringify(val)), h('div', { class: 'path muted' }, k));
          });
    sec.append(h('h3', {}, `${f.estim}: `, h('a', { href: link(f.name), download: f.name, class: 'arch-link' }, f.name)), h('div', { class: 'blocks', 'data-arch': f.name }, h('div', { class: 'block io' }, 'input'), ...blocks, h('div', { class: 'block io' }, 'output')));
  }
  if (v.arch.length === 0) {
    sec.append(h('p', { class: 'muted' }, 'the search space (no architecture file yet):'), h('div', { class: 'blocks' }, ...v.slots.map((s) => h('div', { class: 'block', 'data-slot': s.path }, h('div', { class: 'cand' }, (s.candidates ?? []).join(' | ') || '?'), h('div', { class: 'shape' }, `${s.chnIn}→${s.chnOut}${s.stride > 1 ? ` /${s.stride}` : ''}`), h('div', { class: 'path muted', title: s.path }, shortPath(s.path))))));
  }
  parent.append(sec);
}

function renderRun(v: RunView, opts: { link: (name: string) => string }): void {
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
  app.append(tableSec);
  trialTable(tableSec, v);
  alphaHeatmaps(app, v.alpha);
  archView(app, v, opts.link);
}

async function showRun(dir: string, run: string): Promise<void> {
  const view = await getJson<RunView>(`/api/run?dir=${encodeURIComponent(dir)}&run=${encodeURIComponent(run)}`);
  const link = (name: string): string => `/api/arch?dir=${encodeURIComponent(dir)}&name=${encodeURIComponent(name)}`;
  renderRun(view, { link });
  // live: the server streams the run's new records; redraw at most twice a second
  let dirty = false;
  let status = view.run.status;
  live = new EventSource(`/api/events?dir=${encodeURIComponent(dir)}&run=${encodeURIComponent(run)}&after=${view.lastId}`);
  // resumed: the records after its checkpoint were written again, so the view is read afresh
  live.addEventListener('reset', () => {
    stopLive();
    void showRun(dir, run);
  });
  live.onmessage = (ev: MessageEvent<string>) => {
    const u = JSON.parse(ev.data) as { records: RecordIn[]; run: RunState };
    for (const r of u.records) foldRecord(view, r);
    Object.assign(view.run, u.run);
    dirty = true;
    if (u.run.status !== status && status === 'running') {
      // finished: reload once for the files it wrote (outputs/arch_*_best.yaml)
      status = u.run.status;
      stopLive();
      void showRun(dir, run);
    }
  };
  pollTimer = window.setInterval(() => {
    if (!dirty) return;
    dirty = false;
    // keep the reader's place: scroll position, and the filter box if they are typing in it
    const y = window.scrollY;
    const typing = document.activeElement?.id === 'trial-filter' ? (document.activeElement as HTMLInputElement).selectionStart : null;
    renderRun(view, { link });
    window.scrollTo(0, y);
    if (typing !== null) {
      const f = document.getElementById('trial-filter') as HTMLInputElement;
      f.focus();
      f.setSelectionRange(typing, typing);
    }
  }, 500);
}

// ---------------------------------------------------------------- runs side by side

async function showCompare(keys: string[]): Promise<void> {
  const views = await Promise.all(
    keys.map((k) => {
      const i = k.lastIndexOf(':');
      return getJson<RunView>(`/api/run?dir=${encodeURIComponent(k.slice(0, i))}&run=${encodeURIComponent(k.slice(i + 1))}`);
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
    let gi = 0;
    for (const [name, ss] of groups) {
      const { mean, std } = meanStd(ss);
      const color = COLORS[gi++ % COLORS.length];
      const at = series.length;
      series.push({ label: `${name} mean (${ss.length} runs)`, values: mean, color });
      series.push({ label: `${name} +std`, values: mean.map((m, j) => (m === null ? null : m + (std[j] ?? 0))), color, dash: true });
      series.push({ label: `${name} −std`, values: mean.map((m, j) => (m === null ? null : m - (std[j] ?? 0))), color, dash: true });
      bands.push([at + 1, at + 2]);
    }
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

// ---------------------------------------------------------------- routing

/** '/', '/run' or '/compare'. */
function routePath(): string {
  const p = location.hash.replace(/^#/, '').split('?')[0];
  return p === '/run' || p === '/compare' ? p : '/';
}

async function route(): Promise<void> {
  stopLive();
  const data = window.__MODNAS_STATIC__;
  try {
    if (data) {
      const archLink = (name: string): string => {
        const f = data.view.arch.find((a) => a.name === name);
        return `data:text/yaml;charset=utf-8,${encodeURIComponent(f?.text ?? '')}`;
      };
      renderRun(data.view, { link: archLink });
      return;
    }
    const path = routePath();
    const q = new URLSearchParams(location.hash.split('?')[1] ?? '');
    if (path === '/run') await showRun(q.get('dir') ?? '', q.get('run') ?? '');
    else if (path === '/compare') await showCompare((q.get('runs') ?? '').split(',').filter(Boolean));
    else await showRuns();
  } catch (e) {
    app.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
