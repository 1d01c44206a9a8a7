/**
 * The trial table of a run: sortable by any column, filtered by the filter language of
 * src/filter.ts, exported as CSV or JSON as shown. Up to ALL_ROWS rows are all rendered; beyond,
 * only those in view (and a margin) are, between two spacer rows, so 100,000 trials stay quick.
 */
import type { Cell, Column, Row } from '../src/filter.js';
import { FilterColumns, compileFilter, exportColumns, tableColumns, toCsv, toJson } from '../src/filter.js';
import type { RunView } from '../src/view.js';
import { fmt, h } from './dom.js';

interface TableState {
  sort: string;
  desc: boolean;
  filter: string;
  /** The scroll box's offset, kept across live redraws of the same run. */
  scroll: number;
  run: string;
}
const tableState: TableState = { sort: 'id', desc: false, filter: '', scroll: 0, run: '' };

/** A table this long or shorter renders every row (tests and small runs read them all). */
const ALL_ROWS = 200;
/** Rows rendered above and below the visible ones. */
const MARGIN = 30;

const collator = new Intl.Collator(undefined, { numeric: true });
/** Beyond this many distinct texts (the arch JSON of 100,000 trials) they sort by code unit: the collator takes seconds there. */
const COLLATE_MAX = 10_000;

/**
 * A column's sort key per trial, NaN where it has no value: the number itself, or the rank of the
 * text among the column's distinct texts (so a sort compares numbers, not strings).
 */
function sortKeys(cells: Cell[]): Float64Array {
  const key = new Float64Array(cells.length);
  if (cells.every((c) => c === null || typeof c === 'number')) {
    cells.forEach((c, i) => (key[i] = c ?? NaN));
    return key;
  }
  const distinct = [...new Set(cells.filter((c) => c !== null).map(String))];
  distinct.sort(distinct.length <= COLLATE_MAX ? collator.compare : undefined);
  const rank = new Map(distinct.map((s, r) => [s, r]));
  cells.forEach((c, i) => (key[i] = c === null ? NaN : (rank.get(String(c)) ?? NaN)));
  return key;
}

/** The trials (0-based positions) of `keep` in the order of their keys: missing values last either way, ties in run order. */
function sortRows(keep: number[], key: Float64Array, desc: boolean): number[] {
  const present = keep.filter((i) => !Number.isNaN(key[i]));
  const missing = keep.filter((i) => Number.isNaN(key[i]));
  const sign = desc ? -1 : 1;
  present.sort((a, b) => sign * (key[a] - key[b]) || a - b);
  return present.concat(missing);
}

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const fileName = (v: RunView, ext: string): string => `${`${v.run.experiment}-${v.run.id}-trials`.replace(/[^\w.-]+/g, '_')}.${ext}`;

function cell(c: Column, val: Cell): HTMLTableCellElement {
  if (c.key === 'arch') return h('td', { class: 'arch', title: String(val) }, String(val));
  return h('td', { class: typeof val === 'number' ? 'num' : '', 'data-value': val ?? '' }, typeof val === 'number' ? fmt(val) : (val ?? '–'));
}

export function trialTable(parent: HTMLElement, v: RunView): void {
  if (v.trials.length === 0) {
    parent.append(h('p', { class: 'muted' }, 'no trial yet'));
    return;
  }
  const runKey = `${v.dir}\n${v.run.id}`;
  if (tableState.run !== runKey) Object.assign(tableState, { run: runKey, scroll: 0 });
  const trials = v.trials;
  const cols = tableColumns(trials);
  const names = new FilterColumns(trials);
  // each column's sort keys, made when first sorted by (then each filter sorts numbers)
  const keyCache = new Map<string, Float64Array>();
  const keysOf = (c: Column): Float64Array => {
    let key = keyCache.get(c.key);
    if (!key) {
      key = sortKeys(trials.map((t, i) => c.get(t, i + 1)));
      keyCache.set(c.key, key);
    }
    return key;
  };

  const body = h('tbody');
  const table = h('table', { id: 'trials' }, h('thead'), body);
  const box = h('div', { class: 'scroll trials-box' }, table);
  const filter = h('input', {
    type: 'search',
    id: 'trial-filter',
    placeholder: 'filter: score>0.9 and t_0=conv3, or text',
    title: 'column op value (op: = != < <= > >= ~ contains, !~), joined by and / or / not and parentheses; bare text matches the estimator, status or arch',
    value: tableState.filter,
    spellcheck: 'false',
    autocomplete: 'off',
  });
  const count = h('span', { class: 'muted', id: 'trial-count' });
  const error = h('p', { class: 'error filter-error', id: 'trial-filter-error', role: 'alert', hidden: true });
  let rows: number[] = [];
  const shown = (): Row[] => rows.map((i) => ({ t: trials[i], pos: i + 1 }));
  const csv = h('button', { type: 'button', id: 'export-csv', title: 'the rows shown, in this order, one column per arch parameter', onclick: () => download(fileName(v, 'csv'), 'text/csv;charset=utf-8', toCsv(shown(), exportColumns(trials))) }, 'CSV');
  const json = h('button', { type: 'button', id: 'export-json', title: 'the rows shown, in this order, as the dashboard holds them', onclick: () => download(fileName(v, 'json'), 'application/json', toJson(shown())) }, 'JSON');

  const headCells = cols.map((c) =>
    h(
      'th',
      {
        'data-key': c.key,
        class: 'sortable',
        onclick: () => {
          tableState.desc = tableState.sort === c.key ? !tableState.desc : c.key === 'score';
          tableState.sort = c.key;
          fill(true);
        },
      },
      c.label,
    ),
  );
  table.tHead!.append(h('tr', {}, ...headCells));

  let rowHeight = 0;
  let drawn = '';
  const row = (i: number): HTMLTableRowElement => h('tr', { 'data-trial': trials[i].id }, ...cols.map((c) => cell(c, c.get(trials[i], i + 1))));
  const spacer = (px: number): HTMLTableRowElement => h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td', { colspan: cols.length, style: `height:${px}px` }));
  /** Render the rows in view (all of them when there are few), the box scrolled to `scroll` (default: where it is). */
  const draw = (scroll = box.scrollTop): void => {
    if (rows.length <= ALL_ROWS) {
      body.replaceChildren(...rows.map(row));
      box.classList.remove('virtual');
      drawn = '';
      return;
    }
    box.classList.add('virtual');
    if (rowHeight === 0) {
      body.replaceChildren(row(rows[0]));
      rowHeight = body.rows[0].getBoundingClientRect().height || 24;
    }
    const first = Math.max(0, Math.floor(scroll / rowHeight) - MARGIN);
    const last = Math.min(rows.length, Math.ceil((scroll + (box.clientHeight || 420)) / rowHeight) + MARGIN);
    const key = `${first}:${last}`;
    if (key === drawn) return;
    drawn = key;
    const tail = (rows.length - last) * rowHeight;
    body.replaceChildren(...(first > 0 ? [spacer(first * rowHeight)] : []), ...rows.slice(first, last).map(row), ...(tail > 0 ? [spacer(tail)] : []));
  };
  let frame = 0;
  box.addEventListener('scroll', () => {
    tableState.scroll = box.scrollTop;
    if (frame === 0) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        draw();
      });
    }
  });

  /** Filter and sort, then draw from the top (or from where the reader was, on a live redraw). */
  const fill = (fromTop: boolean): void => {
    const compiled = compileFilter(tableState.filter, names);
    error.textContent = compiled.ok ? '' : `filter not applied: ${compiled.error}`;
    error.hidden = compiled.ok;
    filter.classList.toggle('invalid', !compiled.ok);
    const test = compiled.ok ? compiled.test : null;
    const keep: number[] = [];
    for (let i = 0; i < trials.length; i++) if (!test || test(trials[i], i + 1)) keep.push(i);
    const col = cols.find((c) => c.key === tableState.sort) ?? cols[0];
    rows = col.key === 'id' && !tableState.desc ? keep : sortRows(keep, keysOf(col), tableState.desc);
    for (const th of headCells) th.dataset.sorted = th.dataset.key === tableState.sort ? (tableState.desc ? 'desc' : 'asc') : '';
    count.textContent = ` ${rows.length} of ${trials.length} trials`;
    drawn = '';
    if (fromTop) tableState.scroll = 0;
    // the rows first (they make the box as tall as the table), then the place in it
    const scroll = tableState.scroll;
    draw(scroll);
    box.scrollTop = scroll;
  };
  filter.addEventListener('input', () => {
    tableState.filter = filter.value;
    fill(true);
  });
  parent.append(h('p', { class: 'trial-tools' }, filter, count, h('span', { class: 'export' }, 'export ', csv, json)), error, box);
  fill(false);
}
