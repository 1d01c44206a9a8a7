/**
 * The architecture found (the candidate chosen per Slot, or per edge of the graph the space
 * declares), or the search space before there is one. The picture follows the space: a DAG when the
 * run recorded a declared graph (stream 'space', e.g. the NAS-Bench-201 cell), else a chain of Slots.
 */
import type { SlotRecord } from '@modnas/services';
import type { RunView } from '../src/view.js';
import { h, section } from './dom.js';

/** The last two parts of a module path (the full path is the tooltip). */
const shortPath = (p: string): string => p.split('.').slice(-2).join('.');

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The candidate an arch desc picks for a Slot: by its param name (a map), or by position (a list). */
function chosenFor(desc: unknown, slot: SlotRecord, i: number): string | undefined {
  if (Array.isArray(desc)) return desc[i] === undefined ? undefined : show(desc[i]);
  if (desc && typeof desc === 'object') {
    const m = desc as Record<string, unknown>;
    const v = (slot.param && m[slot.param]) ?? m[slot.path];
    return v === undefined ? undefined : show(v);
  }
  return undefined;
}

/**
 * The choice an arch desc makes for an arch param: by name (a map, as DefaultParamsExporter and the
 * trials write it), or by position in a list (the Slot the param fills, else the param's place in the
 * recorded space).
 */
export function choiceOf(v: Pick<RunView, 'slots' | 'space'>, desc: unknown, param: string): string | undefined {
  if (Array.isArray(desc)) {
    const bySlot = v.slots.findIndex((s) => s.param === param);
    const i = bySlot >= 0 ? bySlot : (v.space?.params.findIndex((p) => p.name === param) ?? -1);
    return i >= 0 && desc[i] !== undefined ? show(desc[i]) : undefined;
  }
  if (desc && typeof desc === 'object') {
    const val = (desc as Record<string, unknown>)[param];
    return val === undefined ? undefined : show(val);
  }
  return undefined;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; attributes through setAttribute (geometry and classes, never style: the CSP). */
function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: Array<Node | string>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, val] of Object.entries(attrs)) el.setAttribute(k, String(val));
  for (const c of children) el.append(c);
  return el;
}

/** Ops that carry nothing: their edges are drawn dashed and faded. */
const EMPTY_OPS = new Set(['none', 'zero', 'Zero', 'NIL', 'nil']);
let markerIds = 0;

/**
 * The declared graph with each edge's op: nodes in columns by their longest path from an input,
 * an edge joining neighbouring columns straight, one that skips columns as an arc (alternately above
 * and below, higher the more it skips), its op written at its middle. Without a desc each edge says
 * how many ops it chooses among.
 */
function dagPicture(v: RunView, graph: NonNullable<NonNullable<RunView['space']>['graph']>, desc: unknown, name?: string): HTMLElement {
  const { nodes, edges } = graph;
  // columns: longest path from a node without inputs (the graph is acyclic: core validated it)
  const level = nodes.map(() => 0);
  for (let pass = 0; pass < nodes.length; pass++) for (const e of edges) level[e.to] = Math.max(level[e.to], level[e.from] + 1);
  const columns = Math.max(...level) + 1;
  const inCol = nodes.map((_, k) => nodes.filter((_n, j) => level[j] === level[k] && j < k).length);
  const colSize = Array.from({ length: columns }, (_, c) => level.filter((l) => l === c).length);
  const GAP_X = 170;
  const GAP_Y = 84;
  const R = 17;
  const pos = nodes.map((_, k) => ({ x: level[k] * GAP_X, y: (inCol[k] - (colSize[level[k]] - 1) / 2) * GAP_Y }));
  const hasIn = nodes.map((_, k) => edges.some((e) => e.to === k));
  const hasOut = nodes.map((_, k) => edges.some((e) => e.from === k));

  const marker = `arch-arrow-${++markerIds}`;
  const parts: SVGElement[] = [];
  let top = Math.min(...pos.map((p) => p.y)) - R - 22;
  let bottom = Math.max(...pos.map((p) => p.y)) + R + 22;
  let arc = 0;
  for (const e of edges) {
    const a = pos[e.from];
    const b = pos[e.to];
    const skip = level[e.to] - level[e.from];
    // a quadratic Bézier: the control point lifts the middle of an edge that skips columns
    const lift = skip > 1 ? (arc++ % 2 === 0 ? -1 : 1) * (36 + 40 * (skip - 1)) * 2 : 0;
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.hypot(dx, dy) || 1;
    const c = { x: (a.x + b.x) / 2 - (lift * dy) / len, y: (a.y + b.y) / 2 + (lift * dx) / len };
    // start and end on the circles, heading for the control point
    const toward = (p: { x: number; y: number }, q: { x: number; y: number }, r: number): { x: number; y: number } => {
      const l = Math.hypot(q.x - p.x, q.y - p.y) || 1;
      return { x: p.x + ((q.x - p.x) * r) / l, y: p.y + ((q.y - p.y) * r) / l };
    };
    const p0 = toward(a, c, R);
    const p1 = toward(b, c, R + 2);
    const mid = { x: (p0.x + 2 * c.x + p1.x) / 4, y: (p0.y + 2 * c.y + p1.y) / 4 };
    top = Math.min(top, mid.y - 18);
    bottom = Math.max(bottom, mid.y + 18);
    const param = v.space?.params.find((p) => p.name === e.param);
    const choices = param?.type === 'categorical' ? param.choices.map(String) : [];
    const op = choiceOf(v, desc, e.param);
    const label = op ?? (desc === undefined && choices.length ? `${choices.length} ops` : '?');
    const cls = `edge${op !== undefined && EMPTY_OPS.has(op) ? ' empty' : ''}`;
    const tip = `${e.param}: ${op ?? (choices.length ? choices.join(' | ') : '?')} (node ${nodes[e.from]} → node ${nodes[e.to]})`;
    const attrs: Record<string, string> = { class: cls, d: `M${p0.x.toFixed(1)},${p0.y.toFixed(1)} Q${c.x.toFixed(1)},${c.y.toFixed(1)} ${p1.x.toFixed(1)},${p1.y.toFixed(1)}`, 'data-edge': e.param, 'marker-end': `url(#${marker})` };
    if (op !== undefined) attrs['data-op'] = op;
    parts.push(svg('path', attrs, svg('title', {}, tip)));
    // the label sits on the edge, above a straight one
    const ly = lift === 0 ? mid.y - 6 : mid.y + (lift < 0 ? -4 : 12);
    parts.push(svg('text', { class: `edge-label${cls.includes('empty') ? ' empty' : ''}`, x: mid.x.toFixed(1), y: ly.toFixed(1), 'text-anchor': 'middle', 'data-label-of': e.param }, svg('title', {}, tip), label));
  }
  const nodeEls = nodes.map((n, k) => {
    const io = !hasIn[k] ? 'input' : !hasOut[k] ? 'output' : '';
    return svg(
      'g',
      { class: `node${io ? ' io' : ''}`, 'data-node': n },
      svg('circle', { cx: pos[k].x, cy: pos[k].y, r: R }),
      svg('text', { x: pos[k].x, y: pos[k].y + 4, 'text-anchor': 'middle' }, n),
      ...(io ? [svg('text', { class: 'io-label', x: pos[k].x, y: pos[k].y + R + 13, 'text-anchor': 'middle' }, io)] : []),
    );
  });
  const left = -R - 70;
  const width = (columns - 1) * GAP_X + 2 * (R + 70);
  const height = bottom - top;
  const defs = svg('defs', {}, svg('marker', { id: marker, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' })));
  const picture = svg('svg', { class: 'dag', width, height, viewBox: `${left} ${top.toFixed(1)} ${width} ${height.toFixed(1)}`, role: 'img', 'aria-label': `architecture ${name ?? ''}: ${nodes.length} nodes, ${edges.length} edges` }, defs, ...parts, ...nodeEls);
  return h('div', { class: 'arch-dag', 'data-arch': name, 'data-nodes': nodes.length, 'data-edges': edges.length }, picture);
}

/**
 * The picture of one architecture of the run's space: `desc` is an arch desc (the file's) or a
 * trial's arch (param -> choice). A DAG when the space declares a graph, else a chain of Slots (or
 * of the desc's entries); the trial views use it too.
 */
export function archPicture(v: RunView, desc: unknown, name?: string): HTMLElement {
  const graph = v.space?.graph;
  if (graph && graph.edges.length > 0) return dagPicture(v, graph, desc, name);
  const list = Array.isArray(desc) ? desc : desc && typeof desc === 'object' ? Object.entries(desc as Record<string, unknown>) : [];
  const blocks: HTMLElement[] =
    v.slots.length > 0
      ? v.slots.map((s, i) =>
          h(
            'div',
            { class: 'block', 'data-slot': s.path },
            h('div', { class: 'cand' }, chosenFor(desc, s, i) ?? '?'),
            h('div', { class: 'shape' }, `${s.chnIn}→${s.chnOut}${s.stride > 1 ? ` /${s.stride}` : ''}`),
            h('div', { class: 'path muted', title: s.path }, shortPath(s.path)),
          ),
        )
      : list.map((e, i) => {
          const [k, val] = Array.isArray(e) && e.length === 2 && !Array.isArray(desc) ? (e as [string, unknown]) : [String(i), e];
          return h('div', { class: 'block', 'data-slot': k }, h('div', { class: 'cand' }, show(val)), h('div', { class: 'path muted' }, k));
        });
  return h('div', { class: 'blocks', 'data-arch': name }, h('div', { class: 'block io' }, 'input'), ...blocks, h('div', { class: 'block io' }, 'output'));
}

export function archView(parent: HTMLElement, v: RunView, link: (name: string) => string): void {
  const graph = v.space?.graph;
  if (v.arch.length === 0 && v.slots.length === 0 && !graph) return;
  const sec = section(v.arch.length ? 'Architecture found' : 'Search space');
  for (const f of v.arch) sec.append(h('h3', {}, `${f.estim}: `, h('a', { href: link(f.name), download: f.name, class: 'arch-link' }, f.name)), archPicture(v, f.desc, f.name));
  if (v.arch.length === 0) {
    // (outputs/ holds the files of the folder's newest run only)
    sec.append(h('p', { class: 'muted' }, v.run.status === 'running' ? 'no architecture file yet; the space searched:' : 'no architecture file of this run in outputs/; the space searched:'));
    if (graph) sec.append(archPicture(v, undefined));
    else sec.append(h('div', { class: 'blocks' }, ...v.slots.map((s) => h('div', { class: 'block', 'data-slot': s.path }, h('div', { class: 'cand' }, (s.candidates ?? []).join(' | ') || '?'), h('div', { class: 'shape' }, `${s.chnIn}→${s.chnOut}${s.stride > 1 ? ` /${s.stride}` : ''}`), h('div', { class: 'path muted', title: s.path }, shortPath(s.path))))));
  }
  parent.append(sec);
}
