/**
 * Small SVG charts the stats reporters write beside the dashboard (the original saved matplotlib
 * PNGs under plot/): lines over epochs, and a scatter of two metrics in two groups.
 */
const W = 640;
const H = 400;
const M = { l: 64, r: 16, t: 32, b: 48 };
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(4))));

interface Scale {
  at(v: number): number;
  ticks: number[];
}

function scale(values: number[], from: number, to: number): Scale {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const ticks = Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  return { at: (v) => from + ((v - lo) / (hi - lo)) * (to - from), ticks };
}

function frame(title: string, xLabel: string, yLabel: string, x: Scale, y: Scale, body: string[], legend: string[]): string {
  const axes = [
    `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/>`,
    `<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`,
    ...x.ticks.map((t) => `<text x="${x.at(t).toFixed(1)}" y="${H - M.b + 16}" font-size="11" text-anchor="middle">${num(t)}</text>`),
    ...y.ticks.map((t) => `<text x="${M.l - 6}" y="${(y.at(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${num(t)}</text>`),
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 10}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="14" y="${(M.t + H - M.b) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(M.t + H - M.b) / 2})">${esc(yLabel)}</text>`,
    `<text x="${W / 2}" y="20" font-size="14" text-anchor="middle">${esc(title)}</text>`,
  ];
  const keys = legend.map((l, i) => `<text x="${W - M.r - 4}" y="${M.t + 14 + 14 * i}" font-size="11" text-anchor="end" fill="${COLOURS[i % COLOURS.length]}">${esc(l)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><rect width="${W}" height="${H}" fill="#fff"/>${[...axes, ...body, ...keys].join('')}</svg>\n`;
}

/** One line per series over x. */
export function lineChart(title: string, xLabel: string, yLabel: string, x: number[], series: Array<{ label: string; values: number[] }>): string {
  const sx = scale(x, M.l, W - M.r);
  const sy = scale(series.flatMap((s) => s.values), H - M.b, M.t);
  const body = series.map((s, i) => {
    const pts = s.values.map((v, j) => `${sx.at(x[j]).toFixed(1)},${sy.at(v).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="1.5" points="${pts}"/>`;
  });
  return frame(title, xLabel, yLabel, sx, sy, body, series.map((s) => s.label));
}

/** Points of each group, in its colour. */
export function scatterChart(title: string, xLabel: string, yLabel: string, groups: Array<{ label: string; points: Array<[number, number]> }>): string {
  const all = groups.flatMap((g) => g.points);
  const sx = scale(all.map((p) => p[0]), M.l, W - M.r);
  const sy = scale(all.map((p) => p[1]), H - M.b, M.t);
  const body = groups.flatMap((g, i) => g.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])).map((p) => `<circle cx="${sx.at(p[0]).toFixed(1)}" cy="${sy.at(p[1]).toFixed(1)}" r="3" fill="${COLOURS[i % COLOURS.length]}"/>`));
  return frame(title, xLabel, yLabel, sx, sy, body, groups.map((g) => g.label));
}
