/** Line and scatter charts (uPlot); what each chart was given is kept in window.__modnasCharts for tests. */
import uPlot from 'uplot';
import { COLORS, fmt, h } from './dom.js';

interface GivenRecord {
  labels: string[];
  data: Array<Array<number | null>>;
}
/** A chart with x and y axes also records its scales as drawn ([min, max]) and its axes' tick labels as last drawn. */
interface AxesRecord extends GivenRecord {
  scales: Record<string, [number, number]>;
  ticks: { x: string[]; y: string[] };
}
type ChartRecord = AxesRecord | (GivenRecord & { scales?: undefined; ticks?: undefined });
declare global {
  interface Window {
    /** What each chart was given and drew (name -> series labels, data, scales and tick labels), for tests and debugging. */
    __modnasCharts: Record<string, ChartRecord>;
  }
}
window.__modnasCharts = {};
let charts: uPlot[] = [];

export function clearCharts(): void {
  for (const c of charts) c.destroy();
  charts = [];
  window.__modnasCharts = {};
}

/** From this many points on, a scatter series is drawn by `dots`. */
const DOTS_FROM = 2000;

/**
 * A scatter series as small squares in one path, a square per device pixel at most (100,000 circles
 * rasterise slowly): the path builder of a uPlot series, reading x from data[0] and y from its own.
 */
export const dots: uPlot.Series.PathBuilder = (self, si, i0, i1) => {
  const xs = self.data[0];
  const ys = self.data[si];
  const r = Math.max(1, Math.round(2 * uPlot.pxRatio));
  const left = Math.floor(self.bbox.left);
  const top = Math.floor(self.bbox.top);
  const w = Math.ceil(self.bbox.width) + 2;
  const seen = new Uint8Array(w * (Math.ceil(self.bbox.height) + 2));
  const p = new Path2D();
  for (let i = i0; i <= i1; i++) {
    const yv = ys[i];
    if (yv === null || yv === undefined) continue;
    const x = Math.round(self.valToPos(xs[i], 'x', true));
    const y = Math.round(self.valToPos(yv, 'y', true));
    const at = (y - top) * w + (x - left);
    if (x >= left && x - left < w && at >= 0 && at < seen.length) {
      if (seen[at]) continue;
      seen[at] = 1;
    }
    p.rect(x - r, y - r, 2 * r, 2 * r);
  }
  return { fill: p, flags: 0 };
};

export interface LineSpec {
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
/** Pixels per character of the axes' 12px font, and what an axis needs besides its values (ticks and gap). */
const CHAR_PX = 7;
const AXIS_PAD = 14;

/** Decimals that write every multiple of `incr` exactly (0.0005 -> 4, 2.5e-5 -> 6, 20 -> 0). */
export function decimalsOf(incr: number): number {
  if (!(incr > 0) || !Number.isFinite(incr)) return 0;
  let d = 0;
  for (; d < 15; d++) {
    const x = incr * 10 ** d;
    // a whole number, give or take the float error of the product
    if (x >= 1 - 1e-9 && Math.abs(x - Math.round(x)) <= 1e-6 * x) break;
  }
  return d;
}

/**
 * Tick labels as many digits as the tick spacing needs, so that ticks apart are labelled apart
 * (uPlot's default keeps 3 decimals: 0.0011 and 0.0012 both read "0.001"); large values in k, M,
 * G; tiny ones in exponent notation.
 */
export function tickLabels(splits: readonly number[], incr: number): string[] {
  const big = Math.max(0, ...splits.map((v) => Math.abs(v)));
  const [div, unit] = big >= 1e9 ? [1e9, 'G'] : big >= 1e6 ? [1e6, 'M'] : big >= 1e4 ? [1e3, 'k'] : [1, ''];
  const d = decimalsOf(incr / div);
  if (unit === '' && d > 5 && big > 0) {
    // 0.0000012: the digits after the leading zeros, as 1.2e-6
    const mag = Math.floor(Math.log10(big));
    return splits.map((v) => (v === 0 ? '0' : v.toExponential(Math.max(0, Math.min(14, d + mag)))));
  }
  return splits.map((v) => {
    const t = (v / div).toFixed(Math.min(d, 15));
    return `${/^-0(\.0*)?$/.test(t) ? t.slice(1) : t}${unit}`;
  });
}

/**
 * The x scale of a chart whose x values are all one (one epoch, one trial): fixed around it. uPlot
 * would pad a single x to a "nice" range itself (0-100 for 0, 0-2 for 1, with ticks at 0 and 2
 * that no data has); a count gets half a step each side, so its one tick is the value.
 */
function singleXScale(spec: LineSpec): uPlot.Scale | undefined {
  const xs = spec.x.filter((v) => Number.isFinite(v));
  if (spec.time || xs.length === 0 || xs.some((v) => v !== xs[0])) return undefined;
  const pad = spec.intX ? 0.5 : Math.abs(xs[0]) / 10 || 1;
  return { auto: false, min: xs[0] - pad, max: xs[0] + pad };
}

export function lineChart(parent: HTMLElement, spec: LineSpec): void {
  const box = h('div', { class: 'chart', 'data-chart': spec.name });
  parent.append(box);
  // two charts a row on a wide window
  const avail = parent.clientWidth || document.documentElement.clientWidth - 40;
  const width = Math.max(320, Math.min(640, avail >= 1000 ? Math.floor(avail / 2) - 22 : avail - 12));
  const data = [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData;
  const scales: Record<string, [number, number]> = {};
  const ticks = { x: [] as string[], y: [] as string[] };
  window.__modnasCharts[spec.name] = { labels: spec.series.map((s) => s.label), data: [spec.x, ...spec.series.map((s) => s.values)], scales, ticks };
  const values =
    (axis: 'x' | 'y'): uPlot.Axis.DynamicValues =>
    (_u, splits, _i, _space, incr) => {
      const labels = tickLabels(splits, incr);
      ticks[axis] = labels;
      return labels;
    };
  // the y axis as wide as its longest label (long labels overlapped the axis title at a fixed 60 px)
  const ySize: uPlot.Axis.Size = (_u, vals) => AXIS_PAD + CHAR_PX * Math.max(3, ...(vals ?? []).map((v) => String(v).length));
  // x ticks far enough apart for their labels to not run into each other
  const xSpace: uPlot.Axis.Space = (_u, _i, min, max) => Math.max(50, 16 + CHAR_PX * Math.max(...tickLabels([min, max], Math.abs(max - min) / 10 || 1).map((l) => l.length)));
  const opts: uPlot.Options = {
    title: spec.title,
    width,
    height: 260,
    scales: { x: { time: spec.time ?? false, ...singleXScale(spec) } },
    axes: [
      { label: spec.xLabel, space: xSpace, ...(spec.time ? {} : { values: values('x') }), ...(spec.intX ? { incrs: INT_INCRS } : {}) },
      { label: spec.yLabel ?? '', size: ySize, values: values('y') },
    ],
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
          // a scatter series: its points as one path of small squares (DOTS_FROM and more points: as circles they rasterise slowly)
          points: s.points && spec.x.length < DOTS_FROM ? { show: true, size: 6, fill: color, stroke: color } : { show: !s.points && spec.x.length < 40 },
          ...(s.points ? { paths: spec.x.length < DOTS_FROM ? () => null : dots, fill: color } : {}),
          // legend: four decimals, or four significant digits for what four decimals would show as 0.0000
          value: (_u: uPlot, v: number | null) => (v !== null && v !== 0 && Math.abs(v) < 1e-3 ? v.toPrecision(4) : fmt(v)),
        };
      }),
    ],
    bands: spec.bands?.map(([hi, lo]) => ({ series: [hi + 1, lo + 1], fill: 'rgba(31,119,180,0.15)' })),
    legend: { live: true },
    hooks: {
      setScale: [
        (u, key) => {
          const { min, max } = u.scales[key];
          if (typeof min === 'number' && typeof max === 'number') scales[key] = [min, max];
        },
      ],
    },
  };
  charts.push(new uPlot(opts, data, box));
}
