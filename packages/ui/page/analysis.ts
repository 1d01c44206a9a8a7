/**
 * What the trials say about the search space (any run with two scored trials or more): the
 * importance of each choice for the score (src/analysis.ts: fANOVA main effects), parallel
 * coordinates over the choices, the metrics and the score, and the score per level of each choice
 * (slice plots). The plots are drawn on canvases, so 100,000 trials draw in a blink; what each got
 * is kept in window.__modnasCharts ('analysis:parallel', 'analysis:slice:<param>') for tests.
 */
import type { ColumnOptions, Importance, ParamColumn } from '../src/analysis.js';
import { importance, paramColumns } from '../src/analysis.js';
import { metricKeys } from '../src/filter.js';
import type { RunView, Trial } from '../src/view.js';
import { h, section } from './dom.js';
import { tickLabels } from './charts.js';

/** viridis at five stops: low scores dark blue, high ones yellow (readable for colour-blind eyes too). */
const VIRIDIS: Array<[number, number, number]> = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * f)).join(',')})`;
}

/** A spread in [-0.5, 0.5) that differs from trial to trial (golden-ratio sequence: even, no randomness). */
const jitter = (i: number): number => ((i * 0.6180339887498949) % 1) - 0.5;

function canvas(w: number, hgt: number, attrs: Record<string, string> = {}): { el: HTMLCanvasElement; g: CanvasRenderingContext2D } {
  const dpr = window.devicePixelRatio || 1;
  const el = h('canvas', { width: Math.round(w * dpr), height: Math.round(hgt * dpr), style: `width:${w}px;height:${hgt}px`, ...attrs });
  const g = el.getContext('2d')!;
  g.scale(dpr, dpr);
  g.font = '11px system-ui, sans-serif';
  return { el, g };
}

/** Text cut to fit `max` pixels. */
function fit(g: CanvasRenderingContext2D, s: string, max: number): string {
  if (g.measureText(s).width <= max) return s;
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (g.measureText(`${s.slice(0, mid)}…`).width <= max) lo = mid;
    else hi = mid - 1;
  }
  return `${s.slice(0, lo)}…`;
}

/** Text with a white halo, readable over the lines. */
function label(g: CanvasRenderingContext2D, s: string, x: number, y: number): void {
  g.lineWidth = 3;
  g.strokeStyle = 'rgba(255,255,255,0.85)';
  g.strokeText(s, x, y);
  g.fillStyle = '#222';
  g.fillText(s, x, y);
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
/** An axis' number in a few characters (FLOPs and learning rates alike). */
/** One number as the charts write their ticks (1.5M, 0.0012), to four significant digits. */
const tick = (v: number): string => tickLabels([v], v === 0 ? 1 : 10 ** (Math.floor(Math.log10(Math.abs(v))) - 3))[0];

/** Round values between lo and hi, about `n` of them, and their step. */
function niceTicks(lo: number, hi: number, n: number): { ticks: number[]; step: number } {
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return { ticks, step };
}

/**
 * The choices the run declared per parameter (its 'space' record, when the view has one), so the
 * plots list the parameters and their candidates in the space's order. Read structurally: a view
 * from a store written before the space was recorded has none.
 */
function declared(v: RunView): ColumnOptions['declared'] {
  const space = (v as { space?: { params?: unknown } }).space;
  if (!space || !Array.isArray(space.params)) return undefined;
  return (space.params as Array<{ name?: unknown; choices?: unknown }>).filter((p) => typeof p.name === 'string').map((p) => ({ name: p.name as string, ...(Array.isArray(p.choices) ? { choices: p.choices as unknown[] } : {}) }));
}

function importanceView(parent: HTMLElement, imp: Importance): void {
  // one scale for every bar, the rest's included
  const max = Math.max(1e-9, imp.rest, ...imp.params.map((p) => p.share));
  const rows = imp.params.map((p) =>
    h(
      'tr',
      { 'data-param': p.param, 'data-share': p.share, 'data-eta2': p.eta2 },
      h('td', {}, p.param, p.kind === 'numeric' ? h('span', { class: 'muted' }, ' (binned)') : null),
      h('td', { class: 'bar' }, h('div', { style: `width:${((100 * p.share) / max).toFixed(2)}%` })),
      h('td', { class: 'num' }, pct(p.share)),
      h('td', { class: 'num muted' }, pct(p.eta2)),
      h('td', { class: 'num muted' }, p.levels.length),
    ),
  );
  parent.append(
    h(
      'table',
      { id: 'importance', class: 'importance' },
      h(
        'caption',
        {},
        h('b', {}, 'Importance: the share of the score’s variance each choice explains alone. '),
        `Method: ${imp.method} (${imp.n} scored trials). `,
        h('span', { class: 'muted' }, 'Caveat: sound for a uniform random search; a search that sampled choices unevenly (evolution, Bayesian optimisation) biases the shares, as they weigh each level by how often it was tried: a choice settled early shows little variance. η² is each choice’s correlation ratio taken alone, which also credits it with what the choices sampled together with it do.'),
        imp.spare < 10 * Math.max(1, imp.params.length) ? h('span', { class: 'error' }, ` Only ${imp.n} scored trials for ${imp.n - 1 - imp.spare} fitted levels: these shares mean little yet.`) : null,
      ),
      h('thead', {}, h('tr', {}, h('th', {}, 'choice'), h('th', {}, 'main effect'), h('th', {}, 'share'), h('th', {}, 'η² alone'), h('th', {}, 'levels'))),
      h('tbody', {}, ...rows, h('tr', { class: 'rest' }, h('td', { class: 'muted' }, 'interactions and noise'), h('td', { class: 'bar rest' }, h('div', { style: `width:${((100 * imp.rest) / max).toFixed(2)}%` })), h('td', { class: 'num' }, pct(imp.rest)), h('td'), h('td'))),
    ),
  );
}

interface Axis {
  label: string;
  /** Level names of a choice (values are level indices); none for a number. */
  levels?: string[];
  values: Array<number | null>;
  min: number;
  max: number;
  /** Positive numbers over more than two decades (a learning rate, FLOPs from tiny to huge): drawn on a log scale. */
  log?: boolean;
}

function numberAxis(label: string, values: Array<number | null>): Axis {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v === null) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) [min, max] = Number.isFinite(min) ? [min - 0.5, min + 0.5] : [0, 1];
  return { label, values, min, max, ...(min > 0 && max / min > 100 ? { log: true } : {}) };
}

/** One polyline per trial across an axis per choice, per metric and the score, coloured by score (best drawn last, on top). */
function parallelCoordinates(parent: HTMLElement, trials: readonly Trial[], params: ParamColumn[]): void {
  const n = trials.length;
  const axes: Axis[] = [
    ...params.map((p): Axis => (p.kind === 'numeric' ? numberAxis(p.name, Array.from(p.values!, (x) => (Number.isNaN(x) ? null : x))) : { label: p.name, levels: p.levels, values: Array.from(p.codes), min: 0, max: p.levels.length - 1 })),
    ...metricKeys(trials).map((k) => numberAxis(k, trials.map((t) => t.metrics[k] ?? null))),
    numberAxis('score', trials.map((t) => t.score)),
  ];
  if (axes.length < 2) return; // the score alone: nothing to draw across
  window.__modnasCharts['analysis:parallel'] = { labels: axes.map((a) => a.label), data: axes.map((a) => a.values) };
  const width = Math.max(480, Math.min(1560, (parent.clientWidth || document.documentElement.clientWidth - 40) - 12));
  const height = 380;
  const { el, g } = canvas(width, height, {
    'data-chart': 'analysis:parallel',
    'data-lines': String(n),
    'data-axes': JSON.stringify(axes.map((a) => (a.levels ? { label: a.label, levels: a.levels } : { label: a.label, min: a.min, max: a.max, log: a.log ?? false }))),
    role: 'img',
    'aria-label': `parallel coordinates of ${n} trials over ${axes.map((a) => a.label).join(', ')}`,
  });
  const top = 34;
  const bottom = height - 22;
  const left = 70;
  const right = width - 70;
  const gap = axes.length > 1 ? (right - left) / (axes.length - 1) : 0;
  const xs = axes.map((_, j) => left + j * gap);
  // y of each trial on each axis, or NaN (missing: the line breaks there)
  const ys = axes.map((a) => {
    const out = new Float32Array(n);
    const band = a.levels ? (bottom - top) / a.levels.length : 0;
    for (let i = 0; i < n; i++) {
      const v = a.values[i];
      if (v === null) out[i] = NaN;
      else if (a.levels) out[i] = top + (v + 0.5) * band + 0.6 * band * jitter(i);
      else if (a.log) out[i] = bottom - (Math.log(v / a.min) / Math.log(a.max / a.min)) * (bottom - top);
      else out[i] = bottom - ((v - a.min) / (a.max - a.min)) * (bottom - top);
    }
    return out;
  });
  const score = axes[axes.length - 1];
  // one path per colour: 100,000 lines in 33 strokes
  const BUCKETS = 32;
  const bucket = new Int32Array(n);
  const counts = new Int32Array(BUCKETS + 1);
  for (let i = 0; i < n; i++) {
    const s = score.values[i];
    bucket[i] = s === null ? 0 : 1 + Math.min(BUCKETS - 1, Math.floor(((s - score.min) / (score.max - score.min)) * BUCKETS));
    counts[bucket[i]]++;
  }
  // the trials grouped by colour (a counting sort), lowest scores first
  const start = new Int32Array(BUCKETS + 2);
  for (let b = 0; b <= BUCKETS; b++) start[b + 1] = start[b] + counts[b];
  const order = new Int32Array(n);
  const next = start.slice();
  for (let i = 0; i < n; i++) order[next[bucket[i]]++] = i;
  g.lineWidth = 1;
  g.globalAlpha = Math.min(0.8, Math.max(0.03, 30 / Math.sqrt(n)));
  for (let b = 0; b <= BUCKETS; b++) {
    if (counts[b] === 0) continue;
    g.strokeStyle = b === 0 ? '#aaa' : viridis((b - 0.5) / BUCKETS);
    g.beginPath();
    for (let o = start[b]; o < start[b + 1]; o++) {
      const i = order[o];
      let pen = false;
      for (let j = 0; j < axes.length; j++) {
        const y = ys[j][i];
        if (Number.isNaN(y)) pen = false;
        else if (pen) g.lineTo(xs[j], y);
        else {
          g.moveTo(xs[j], y);
          pen = true;
        }
      }
    }
    g.stroke();
  }
  g.globalAlpha = 1;
  // the axes over the lines: names on top, levels or the range beside each
  axes.forEach((a, j) => {
    const x = xs[j];
    if (a === score) {
      const grad = g.createLinearGradient(0, bottom, 0, top);
      VIRIDIS.forEach((_, k) => grad.addColorStop(k / (VIRIDIS.length - 1), viridis(k / (VIRIDIS.length - 1))));
      g.fillStyle = grad;
      g.fillRect(x - 3, top, 6, bottom - top);
    }
    g.strokeStyle = '#444';
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(x, top);
    g.lineTo(x, bottom);
    g.stroke();
    g.textAlign = 'center';
    g.textBaseline = 'bottom';
    g.font = '600 12px system-ui, sans-serif';
    label(g, fit(g, a.log ? `${a.label} (log)` : a.label, Math.max(60, gap - 6)), x, top - 12);
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    g.textAlign = 'left';
    const room = Math.max(40, Math.min(gap, 140) - 10);
    if (a.levels) {
      const band = (bottom - top) / a.levels.length;
      const every = Math.ceil(14 / band); // keep the names from overlapping
      a.levels.forEach((name, r) => {
        if (r % every === 0) label(g, fit(g, name, room), x + 4, top + (r + 0.5) * band);
      });
    } else {
      label(g, tick(a.max), x + 4, top);
      label(g, tick(a.min), x + 4, bottom);
    }
  });
  parent.append(h('div', { class: 'chart parallel' }, h('div', { class: 'chart-title' }, `Parallel coordinates: ${n} trials, coloured by score (yellow best; grey: no score)`), el));
}

/** The score of each scored trial against the levels (or the value) of one choice, with the mean ± std per level. */
function slicePlot(parent: HTMLElement, name: string, share: number, col: ParamColumn, scores: number[]): void {
  const n = scores.length;
  const codes = col.codes;
  window.__modnasCharts[`analysis:slice:${name}`] = { labels: [name, 'score'], data: [col.kind === 'numeric' ? Array.from(col.values!, (x) => (Number.isNaN(x) ? null : x)) : Array.from(codes), scores] };
  const k = col.levels.length;
  const cnt = new Float64Array(k);
  const sum = new Float64Array(k);
  const sq = new Float64Array(k);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    cnt[c]++;
    sum[c] += scores[i];
    sq[c] += scores[i] ** 2;
    if (scores[i] < lo) lo = scores[i];
    if (scores[i] > hi) hi = scores[i];
  }
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  const means = Array.from(sum, (s, c) => (cnt[c] ? s / cnt[c] : null));
  const width = 300;
  const height = 230;
  const { el, g } = canvas(width, height, { 'data-levels': JSON.stringify(col.levels), 'data-means': JSON.stringify(means), role: 'img', 'aria-label': `score against ${name}` });
  const left = 52;
  const right = width - 10;
  const top = 8;
  const band = (right - left) / k;
  // the levels' names below: slanted when one would not fit its band flat (then with more room)
  const slant = band < 44 || col.levels.some((l) => g.measureText(l).width > band - 4);
  const bottom = height - (slant ? 64 : 46);
  const y = (s: number): number => bottom - ((s - lo) / (hi - lo)) * (bottom - top);
  const xOf = (c: number): number => left + (c + 0.5) * band;
  // a numeric choice: its bins stand for where its values are; each point at its value within the bin
  let xPoint = (i: number): number => xOf(codes[i]) + 0.6 * band * jitter(i);
  if (col.kind === 'numeric') {
    const v = col.values!;
    const binLo = new Float64Array(k).fill(Infinity);
    const binHi = new Float64Array(k).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(v[i])) continue;
      binLo[codes[i]] = Math.min(binLo[codes[i]], v[i]);
      binHi[codes[i]] = Math.max(binHi[codes[i]], v[i]);
    }
    xPoint = (i) => (Number.isNaN(v[i]) || !(binHi[codes[i]] > binLo[codes[i]]) ? xOf(codes[i]) : left + (codes[i] + 0.1 + (0.8 * (v[i] - binLo[codes[i]])) / (binHi[codes[i]] - binLo[codes[i]])) * band);
  }
  g.fillStyle = '#1f77b4';
  const stride = Math.max(1, Math.ceil(n / 5000)); // the means use every trial; 5,000 points show the spread
  g.globalAlpha = Math.min(0.7, Math.max(0.05, 15 / Math.sqrt(n / stride / k)));
  for (let i = 0; i < n; i += stride) g.fillRect(xPoint(i) - 1.5, y(scores[i]) - 1.5, 3, 3);
  g.globalAlpha = 1;
  g.strokeStyle = '#d62728';
  g.fillStyle = '#d62728';
  g.lineWidth = 2;
  for (let c = 0; c < k; c++) {
    const m = means[c];
    if (m === null) continue;
    const sd = Math.sqrt(Math.max(0, sq[c] / cnt[c] - m * m));
    g.beginPath();
    g.moveTo(xOf(c), y(Math.min(hi, m + sd)));
    g.lineTo(xOf(c), y(Math.max(lo, m - sd)));
    g.moveTo(xOf(c) - Math.min(12, band / 3), y(m));
    g.lineTo(xOf(c) + Math.min(12, band / 3), y(m));
    g.stroke();
  }
  // axes: score on the left, the levels below (slanted when they would not fit)
  g.strokeStyle = '#888';
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(left, top);
  g.lineTo(left, bottom);
  g.lineTo(right, bottom);
  g.stroke();
  g.fillStyle = '#333';
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  const yt = niceTicks(lo, hi, 3);
  tickLabels(yt.ticks, yt.step).forEach((s, i) => g.fillText(s, left - 4, y(yt.ticks[i])));
  const every = Math.ceil(12 / band);
  for (let c = 0; c < k; c += every) {
    g.save();
    g.translate(xOf(c), bottom + 6);
    if (slant) {
      g.rotate(-Math.PI / 5);
      g.textAlign = 'right';
    } else g.textAlign = 'center';
    g.textBaseline = 'top';
    g.fillText(fit(g, col.levels[c], slant ? 72 : band - 4), 0, 0);
    g.restore();
  }
  parent.append(h('div', { class: 'chart slice', 'data-chart': `analysis:slice:${name}`, 'data-param': name }, h('div', { class: 'chart-title' }, `score by ${name} (${pct(share)} of variance)`), el));
}

/** The Analysis section, when the run has two scored trials or more. */
export function analysisSection(parent: HTMLElement, v: RunView): void {
  const scored = v.trials.filter((t) => t.score !== null && Number.isFinite(t.score));
  if (scored.length < 2) return;
  const sec = section('Analysis');
  sec.id = 'analysis';
  parent.append(sec);
  // drawn after the rest of the run's view is on screen (a large run's analysis takes a moment); a
  // view redrawn meanwhile (live) replaces this section, which then draws nothing
  const wait = h('p', { class: 'muted' }, `weighing the choices of ${scored.length.toLocaleString('en')} trials…`);
  sec.append(wait);
  requestAnimationFrame(() =>
    window.setTimeout(() => {
      if (!sec.isConnected) return;
      wait.remove();
      draw(sec, v, scored.length);
      performance.mark('modnas:analysis-drawn');
    }, 0),
  );
}

function draw(sec: HTMLElement, v: RunView, nScored: number): void {
  const opts: ColumnOptions = { declared: declared(v) };
  const imp = importance(v.trials, opts);
  if (imp.params.length) importanceView(sec, imp);
  else sec.append(h('p', { class: 'muted' }, 'the trials hold no architecture choices to weigh'));
  parallelCoordinates(sec, v.trials, nScored === v.trials.length ? imp.columns : paramColumns(v.trials, opts));
  if (imp.params.length === 0) return;
  const cols = new Map(imp.columns.map((c) => [c.name, c]));
  const scores = imp.scored.map((t) => t.score as number);
  const grid = h('div', { class: 'grid slices' });
  sec.append(h('h3', {}, 'Score per choice'), grid);
  for (const p of imp.params) slicePlot(grid, p.param, p.share, cols.get(p.param)!, scores);
}
