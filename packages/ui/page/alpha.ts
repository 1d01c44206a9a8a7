/**
 * The architecture parameters of a gradient search: softmax(α) per mixed op and epoch, as heatmaps
 * coloured by the deviation from uniform (after a DARTS search the probabilities often differ only
 * in the third decimal), the entropy of each op over the epochs, and the candidate each op chose.
 */
import type { AlphaPoint, RunView } from '../src/view.js';
import { h, section } from './dom.js';
import { lineChart } from './charts.js';
import { choiceOf } from './arch.js';

/** Shannon entropy in nats (0 · ln 0 = 0): ln k for a uniform choice among k, 0 for a sure one. */
export const entropy = (probs: readonly number[]): number => -probs.reduce((s, p) => (p > 0 ? s + p * Math.log(p) : s), 0);

/** The entropy of a mixed op at one α record (null when it was not recorded there). */
function entropyOf(a: AlphaPoint, param: string): number | null {
  const o = a.ops.find((x) => x.param === param);
  return o ? entropy(o.probs) : null;
}

/** Four significant digits (a tiny probability in exponent form). */
const sig4 = (p: number): string => (p === 0 ? '0' : Math.abs(p) >= 1e-3 ? p.toPrecision(4) : p.toExponential(1));

const ABOVE = [31, 119, 180];
const BELOW = [214, 39, 40];
/** White blended toward blue (above uniform) or red (below) by t in [0, 1]. */
function shade(dev: number, t: number): string {
  const c = dev >= 0 ? ABOVE : BELOW;
  return `rgb(${c.map((x) => Math.round(255 + (x - 255) * t)).join(', ')})`;
}

/** The candidate a mixed op chose: the run's arch file's, when it names one of the op's candidates, else the argmax at the last epoch. */
function chosen(param: string, estim: string, candidates: string[], last: number[], v?: Pick<RunView, 'arch' | 'slots' | 'space'>): { name: string; by: 'arch file' | 'argmax' } | undefined {
  const files = v ? [...v.arch].sort((a, b) => Number(b.estim === estim) - Number(a.estim === estim)) : [];
  for (const f of files) {
    const c = choiceOf(v!, f.desc, param);
    if (c !== undefined && candidates.includes(c)) return { name: c, by: 'arch file' };
  }
  if (last.length === 0) return undefined;
  let best = 0;
  for (let i = 1; i < last.length; i++) if (last[i] > last[best]) best = i;
  return candidates[best] === undefined ? undefined : { name: candidates[best], by: 'argmax' };
}

/**
 * softmax(α) per mixed op over epochs: one heatmap per op (rows: candidates, columns: epochs), each
 * cell coloured by p − 1/k scaled to the largest deviation of that op (blue above uniform, red below)
 * and showing p to four significant digits (the exact value in its title); the chosen candidate's
 * row is marked. Then the entropy of each op per epoch ('alpha:entropy'; one chart per estimator,
 * 'alpha:entropy:<estim>', when several recorded α). `v` gives the run's arch file, whose choice is
 * marked instead of the last epoch's argmax.
 */
export function alphaHeatmaps(parent: HTMLElement, alpha: AlphaPoint[], v?: Pick<RunView, 'arch' | 'slots' | 'space'>): void {
  if (alpha.length === 0) return;
  const params = [...new Set(alpha.flatMap((a) => a.ops.map((o) => o.param)))];
  const grid = h('div', { class: 'heatmaps', id: 'alpha' });
  for (const p of params) {
    const cols = alpha.map((a) => ({ label: `${a.estim} ${a.epoch + 1}`, estim: a.estim, op: a.ops.find((o) => o.param === p) })).filter((c) => c.op);
    const lastOp = cols[cols.length - 1].op;
    const cands = lastOp?.candidates ?? [];
    const u = cands.length > 0 ? 1 / cands.length : 0;
    const scale = Math.max(0, ...cols.flatMap((c) => cands.map((_, ci) => Math.abs((c.op?.probs[ci] ?? 0) - u))));
    const pick = chosen(p, cols[cols.length - 1].estim, cands, lastOp?.probs ?? [], v);
    const rows = cands.map((name, ci) => {
      const isChosen = pick?.name === name;
      return h(
        'tr',
        isChosen ? { class: 'chosen', 'data-chosen': pick.by, title: `chosen (${pick.by === 'argmax' ? 'largest at the last epoch' : "the run's arch file"})` } : {},
        h('th', {}, name),
        ...cols.map((c) => {
          const pr = c.op?.probs[ci] ?? 0;
          const dev = pr - u;
          const t = scale > 0 ? Math.abs(dev) / scale : 0;
          return h('td', { style: `background-color: ${shade(dev, t)}; color: ${t > 0.6 ? '#fff' : '#222'}`, title: `${p} ${name} epoch ${c.label}: ${pr} (1/k = ${sig4(u)}, ${dev >= 0 ? '+' : '−'}${sig4(Math.abs(dev))})`, 'data-p': pr }, sig4(pr));
        }),
      );
    });
    const legend = h(
      'div',
      { class: 'alpha-legend muted' },
      h('span', {}, `−${sig4(scale)}`),
      h('span', { class: 'alpha-scale' }),
      h('span', {}, `+${sig4(scale)}`),
      h('span', {}, ` p − 1/k (1/k = ${sig4(u)})`),
    );
    const caption = h('caption', {}, p, pick ? h('span', { class: 'muted' }, ` chosen: ${pick.name} (${pick.by})`) : null, legend);
    grid.append(h('div', { class: 'heatmap-box' }, h('table', { class: 'heatmap', 'data-param': p, ...(pick ? { 'data-chosen': pick.name } : {}) }, caption, h('thead', {}, h('tr', {}, h('th', {}, ''), ...cols.map((c) => h('th', {}, c.label)))), h('tbody', {}, ...rows))));
  }
  const charts = h('div', { class: 'grid' });
  parent.append(
    section(
      'Architecture parameters: softmax(α) per mixed op and epoch',
      h('p', { class: 'muted' }, 'colour: the deviation from uniform, p − 1/k, scaled per mixed op to its largest (blue above, red below); the chosen candidate is outlined'),
      grid,
      charts,
    ),
  );
  const estims = [...new Set(alpha.map((a) => a.estim))];
  for (const estim of estims) {
    const pts = alpha.filter((a) => a.estim === estim);
    const ops = params.filter((p) => pts.some((a) => a.ops.some((o) => o.param === p)));
    // a dashed line at ln k for each number of candidates k the ops have
    const ks = [...new Set(pts.flatMap((a) => a.ops.map((o) => o.probs.length)))].filter((x) => x > 1).sort((a, b) => a - b);
    lineChart(charts, {
      name: estims.length === 1 ? 'alpha:entropy' : `alpha:entropy:${estim}`,
      title: `${estim}: entropy of softmax(α) per mixed op (nats; uniform: ${ks.map((k) => `ln ${k} = ${sig4(Math.log(k))}`).join(', ')})`,
      xLabel: 'epoch',
      yLabel: 'entropy',
      intX: true,
      x: pts.map((a) => a.epoch + 1), // epochs from 1, as the logs and the curves count them
      series: [
        ...ops.map((p) => ({ label: p, values: pts.map((a) => entropyOf(a, p)) })),
        ...ks.map((k) => ({ label: `uniform (ln ${k})`, values: pts.map(() => Math.log(k)), dash: true, color: '#999' })),
      ],
    });
  }
}
