/** The architecture found (the candidate chosen per Slot), or the search space before there is one. */
import type { SlotRecord } from '@modnas/services';
import type { RunView } from '../src/view.js';
import { h, section } from './dom.js';

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

/**
 * The picture of one architecture of the run's space: `desc` is an arch desc (the file's) or a
 * trial's arch (param -> choice). Chains for Slot spaces; the trial views use it too.
 */
export function archPicture(v: RunView, desc: unknown, name?: string): HTMLElement {
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
          return h('div', { class: 'block', 'data-slot': k }, h('div', { class: 'cand' }, typeof val === 'string' ? val : JSON.stringify(val)), h('div', { class: 'path muted' }, k));
        });
  return h('div', { class: 'blocks', 'data-arch': name }, h('div', { class: 'block io' }, 'input'), ...blocks, h('div', { class: 'block io' }, 'output'));
}

export function archView(parent: HTMLElement, v: RunView, link: (name: string) => string): void {
  if (v.arch.length === 0 && v.slots.length === 0) return;
  const sec = section('Architecture found');
  for (const f of v.arch) sec.append(h('h3', {}, `${f.estim}: `, h('a', { href: link(f.name), download: f.name, class: 'arch-link' }, f.name)), archPicture(v, f.desc, f.name));
  if (v.arch.length === 0) {
    sec.append(h('p', { class: 'muted' }, 'the search space (no architecture file yet):'), h('div', { class: 'blocks' }, ...v.slots.map((s) => h('div', { class: 'block', 'data-slot': s.path }, h('div', { class: 'cand' }, (s.candidates ?? []).join(' | ') || '?'), h('div', { class: 'shape' }, `${s.chnIn}→${s.chnOut}${s.stride > 1 ? ` /${s.stride}` : ''}`), h('div', { class: 'path muted', title: s.path }, shortPath(s.path))))));
  }
  parent.append(sec);
}
