/** Line and scatter charts (uPlot); what each chart was given is kept in window.__modnasCharts for tests. */
import uPlot from 'uplot';
import { COLORS, fmt, h } from './dom.js';

interface ChartRecord {
  labels: string[];
  data: Array<Array<number | null>>;
}
declare global {
  interface Window {
    /** What each chart was given (name -> series labels and data), for tests and debugging. */
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

export function lineChart(parent: HTMLElement, spec: LineSpec): void {
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
