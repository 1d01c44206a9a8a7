/**
 * The Pareto scatter: any two of the trials' numbers (the score and every metric) as the axes, one
 * chart per cost key to begin with (score against flops, params, latency), the front for the chosen
 * pair marked. Hovering names the nearest trial; clicking it opens the trial (page/trial.ts). The
 * points are drawn on the chart's canvas and found by a search near the cursor, so 100,000 trials
 * make no element each.
 */
import uPlot from 'uplot';
import type { Direction, RunView, Trial } from '../src/view.js';
import { costKeys, metricDirection, paretoFront } from '../src/view.js';
import { fmt, h } from './dom.js';
import { dots, tickLabels } from './charts.js';
import { openTrial } from './trial.js';

/** The trial's score, as an axis beside its metrics. */
const SCORE = 'score';
const GREY = '#7f7f7f';
const RED = '#d62728';
/** How near the cursor (CSS pixels) a point must be to be hovered or clicked. */
const NEAR = 10;

interface Axes {
  x: string;
  y: string;
  xDir: Direction;
  yDir: Direction;
}
/** The axes chosen in each chart, kept across the live redraws. */
const chosen = new Map<string, Axes>();
/** The charts drawn here (charts.ts's clearCharts does not know them): destroyed before the next draw. */
let plots: uPlot[] = [];

const valueOf = (t: Trial, key: string): number | null | undefined => (key === SCORE ? t.score : t.metrics[key]);
/** Room each side of the x range, so the points at the ends can be pointed at whole. */
const margin = (min: number, max: number): number => (max - min) / 30 || Math.abs(min) / 10 || 1;
const axisLabel = (key: string, dir: Direction): string => `${key} (${dir === 'min' ? 'lower' : 'higher'} is better)`;

export function scatters(parent: HTMLElement, v: RunView): void {
  for (const u of plots) u.destroy();
  plots = [];
  const costs = costKeys(v.trials);
  if (costs.length === 0) return;
  const metricKeys = new Set<string>();
  for (const t of v.trials) for (const k in t.metrics) metricKeys.add(k);
  const keys = [SCORE, ...costs, ...[...metricKeys].filter((k) => k !== SCORE && !costs.includes(k)).sort()];
  const grid = h('div', { class: 'grid' });
  parent.append(grid);
  for (const k of costs) {
    if (!v.trials.some((t) => t.score !== null && Number.isFinite(t.metrics[k]))) continue;
    const name = `pareto:${k}`;
    const kept = chosen.get(name);
    const axes = kept && keys.includes(kept.x) && keys.includes(kept.y) ? { ...kept } : { x: k, y: SCORE, xDir: metricDirection(k), yDir: metricDirection(SCORE) };
    panel(grid, v, name, keys, axes);
  }
}

/** One chart with its two axis pickers and their directions. */
function panel(grid: HTMLElement, v: RunView, name: string, keys: string[], axes: Axes): void {
  const body = h('div');
  let plot: uPlot | null = null;
  const draw = (): void => {
    chosen.set(name, { ...axes });
    if (plot) {
      plot.destroy();
      plots = plots.filter((u) => u !== plot);
    }
    body.replaceChildren();
    plot = scatter(body, grid, v, name, axes);
    if (plot) plots.push(plot);
  };
  // the direction of each axis: a button that shows it and turns it around
  const dirButton = (which: 'x' | 'y'): { el: HTMLButtonElement; show: () => void } => {
    const el = h('button', { class: 'pareto-dir', 'data-axis': which, type: 'button' });
    const show = (): void => {
      const d = which === 'x' ? axes.xDir : axes.yDir;
      el.textContent = d === 'min' ? '↓ min' : '↑ max';
      el.title = `${d === 'min' ? 'lower' : 'higher'} is better on ${which}: click to turn around`;
      el.dataset.dir = d;
    };
    el.addEventListener('click', () => {
      if (which === 'x') axes.xDir = axes.xDir === 'min' ? 'max' : 'min';
      else axes.yDir = axes.yDir === 'min' ? 'max' : 'min';
      show();
      draw();
    });
    show();
    return { el, show };
  };
  const dirs = { x: dirButton('x'), y: dirButton('y') };
  const picker = (which: 'x' | 'y'): HTMLSelectElement => {
    const s = h('select', { 'data-axis': which, 'aria-label': `${which} axis` }, ...keys.map((k) => h('option', { value: k, selected: k === axes[which] }, k)));
    s.addEventListener('change', () => {
      axes[which] = s.value;
      // a new metric comes with its own direction (a cost minimised, the rest maximised)
      if (which === 'x') axes.xDir = metricDirection(s.value);
      else axes.yDir = metricDirection(s.value);
      dirs[which].show();
      draw();
    });
    return s;
  };
  grid.append(h('div', { class: 'pareto', 'data-panel': name }, h('div', { class: 'pareto-axes' }, 'x ', picker('x'), dirs.x.el, ' y ', picker('y'), dirs.y.el), body));
  draw();
}

/**
 * The scatter of one pair of axes. What the chart records (window.__modnasCharts, for tests) is
 * [x ascending, the trials' y, y where the trial is on the front else null].
 */
function scatter(body: HTMLElement, grid: HTMLElement, v: RunView, name: string, axes: Axes): uPlot | null {
  const at: number[] = [];
  const px: number[] = [];
  const py: number[] = [];
  v.trials.forEach((t, i) => {
    const x = valueOf(t, axes.x);
    const y = valueOf(t, axes.y);
    if (typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y)) {
      at.push(i);
      px.push(x);
      py.push(y);
    }
  });
  if (at.length === 0) {
    delete window.__modnasCharts[name];
    body.append(h('p', { class: 'muted' }, `no trial has both ${axes.x} and ${axes.y}`));
    return null;
  }
  // x ascending, ties better y first: the order paretoFront sorts into when x is minimised, so
  // its sort of the sorted points is one pass
  const ySign = axes.yDir === 'max' ? 1 : -1;
  const order = at.map((_, i) => i).sort((a, b) => px[a] - px[b] || ySign * (py[b] - py[a]));
  const xs = order.map((i) => px[i]);
  const ys = order.map((i) => py[i]);
  const front = new Set(paretoFront(order.map((i) => ({ cost: px[i], score: py[i] })), { cost: axes.xDir, score: axes.yDir }));
  const fs = ys.map((y, i) => (front.has(i) ? y : null));
  /** The trial at each point (its position in the run). */
  const trialAt = order.map((i) => at[i]);
  const record: Window['__modnasCharts'][string] = { labels: ['trial', 'Pareto front'], data: [xs, ys, fs], scales: {}, ticks: { x: [], y: [] } };
  window.__modnasCharts[name] = record;

  // the nearest point to a place on the plot (CSS pixels), or null: the points within NEAR
  // pixels in x are a binary search away (x ascends), and only those are measured
  let last: { left: number; top: number; i: number | null } | null = null;
  const nearest = (u: uPlot, left: number | undefined, top: number | undefined): number | null => {
    if (left === undefined || top === undefined || left < 0 || top < 0) return null;
    if (last && last.left === left && last.top === top) return last.i;
    const lo = u.posToVal(left - NEAR, 'x');
    const hi = u.posToVal(left + NEAR, 'x');
    let a = 0;
    let b = xs.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (xs[m] < lo) a = m + 1;
      else b = m;
    }
    let best = NEAR * NEAR;
    let found: number | null = null;
    for (let i = a; i < xs.length && xs[i] <= hi; i++) {
      const dx = u.valToPos(xs[i], 'x') - left;
      const dy = u.valToPos(ys[i], 'y') - top;
      const d = dx * dx + dy * dy;
      // of points on top of each other, the one on the front
      if (d < best || (d === best && fs[i] !== null)) {
        best = d;
        found = i;
      }
    }
    last = { left, top, i: found };
    return found;
  };

  const box = h('div', { class: 'chart', 'data-chart': name });
  const tip = h('div', { class: 'pareto-tip', hidden: true });
  body.append(box);
  const showTip = (u: uPlot): void => {
    const i = u.cursor.idxs?.[1] ?? null;
    u.over.style.cursor = i === null ? '' : 'pointer';
    if (i === null) {
      tip.hidden = true;
      return;
    }
    const pos = trialAt[i];
    const t = v.trials[pos];
    if (tip.dataset.trial !== String(t.id)) {
      tip.dataset.trial = String(t.id);
      tip.replaceChildren(
        h('div', {}, h('b', {}, `#${pos + 1}`), ' ', h('span', { class: 'muted' }, `${t.estim} ${t.index} · ${t.status}`)),
        h('div', {}, h('span', { class: 'muted' }, 'score '), fmt(t.score)),
        ...Object.entries(t.metrics).map(([k, val]) => h('div', { 'data-metric': k }, h('span', { class: 'muted' }, `${k} `), fmt(val))),
        ...(fs[i] !== null ? [h('div', { class: 'pareto-on' }, 'on the Pareto front')] : []),
        h('div', { class: 'muted' }, 'click to open'),
      );
    }
    const left = u.cursor.left ?? 0;
    const top = u.cursor.top ?? 0;
    tip.style.left = `${u.over.offsetLeft + left}px`;
    tip.style.top = `${u.over.offsetTop + top}px`;
    // beside the cursor, on the side with room
    tip.style.transform = `translate(${left > u.over.clientWidth / 2 ? 'calc(-100% - 12px)' : '12px'}, ${top > u.over.clientHeight / 2 ? 'calc(-100% - 12px)' : '12px'})`;
    tip.hidden = false;
  };

  // two charts a row on a wide window (as charts.ts's lineChart)
  const avail = grid.clientWidth || document.documentElement.clientWidth - 40;
  const width = Math.max(320, Math.min(640, avail >= 1000 ? Math.floor(avail / 2) - 22 : avail - 12));
  const value = (_u: uPlot, val: number | null): string => fmt(val);
  // tick labels written as the other charts write them (1.5M, 0.0012)
  const ticks =
    (axis: 'x' | 'y'): uPlot.Axis.DynamicValues =>
    (_u, splits, _i, _space, incr) =>
      (record.ticks[axis] = tickLabels(splits, incr));
  const u = new uPlot(
    {
      title: `${axes.y} against ${axes.x} (Pareto front: ${front.size} of ${xs.length})`,
      width,
      height: 260,
      scales: { x: { time: false, range: (_u, min, max) => [min - margin(min, max), max + margin(min, max)] } },
      axes: [
        { label: axisLabel(axes.x, axes.xDir), values: ticks('x') },
        { label: axisLabel(axes.y, axes.yDir), size: 60, values: ticks('y') },
      ],
      series: [
        { label: axes.x, value },
        { label: 'trial', stroke: GREY, fill: GREY, width: 0, paths: dots, points: { show: false }, value },
        { label: 'Pareto front', stroke: RED, width: 2, spanGaps: true, points: { show: true, size: 7, fill: RED, stroke: RED }, value },
      ],
      // the hovered point is the nearest one, not uPlot's nearest in x
      cursor: { dataIdx: (self) => nearest(self, self.cursor.left, self.cursor.top), points: { size: 12, width: 2, fill: 'transparent', stroke: (_u, si) => (si === 2 ? RED : '#222') } },
      legend: { live: true },
      hooks: {
        setCursor: [showTip],
        setScale: [
          (self, key) => {
            last = null;
            // the plot's edges in data units, as charts.ts records them (a test points at a trial with them)
            const { min, max } = self.scales[key];
            if (typeof min === 'number' && typeof max === 'number') record.scales[key] = [min, max];
          },
        ],
      },
    },
    [xs, ys, fs],
    box,
  );
  u.over.parentElement?.append(tip);
  u.over.addEventListener('click', (e) => {
    const i = nearest(u, e.offsetX, e.offsetY);
    if (i !== null) openTrial(v, v.trials[trialAt[i]].id);
  });
  return u;
}
