/**
 * The trial table's columns, the filter language over them, and the table's export (CSV, JSON).
 * Plain data in and out (no node, no DOM): the page imports it as it does view.ts.
 *
 * The filter: terms joined by `and` (or juxtaposition), `or`, `not` and parentheses. A term is either
 * a comparison `column op value` with op one of `= == != < <= > >= ~` (contains) `!~` (does not
 * contain), e.g. `score>0.92`, `flops<=3e6 and t_0=conv3`, `status!=done`, `score=null`; or bare
 * text, kept when it is a substring of the trial's estimator, status or arch JSON (ignoring case),
 * e.g. `"t_0":"NIL"`. Quotes make one term of text with spaces or operators: `status="not run"`.
 */
import type { Trial } from './view.js';

export type Cell = number | string | null;

/** A column of the trial table; `pos` is the trial's place in the run (1-based, the '#' column). */
export interface Column {
  key: string;
  label: string;
  get: (t: Trial, pos: number) => Cell;
}

const archText = (v: unknown): Cell => (v === undefined || v === null ? null : typeof v === 'number' || typeof v === 'string' ? v : typeof v === 'boolean' ? String(v) : JSON.stringify(v));

export const metricKeys = (trials: readonly Trial[]): string[] => {
  const keys = new Set<string>();
  for (const t of trials) for (const k in t.metrics) keys.add(k);
  return [...keys];
};

export const archKeys = (trials: readonly Trial[]): string[] => {
  const keys = new Set<string>();
  for (const t of trials) for (const k in t.arch) keys.add(k);
  return [...keys];
};

/** What the table shows: '#', estim, index, status, score, each metric, seconds, and the arch as JSON. */
export function tableColumns(trials: readonly Trial[]): Column[] {
  return [
    { key: 'id', label: '#', get: (_t, pos) => pos },
    { key: 'estim', label: 'estim', get: (t) => t.estim },
    { key: 'index', label: 'index', get: (t) => t.index },
    { key: 'status', label: 'status', get: (t) => t.status },
    { key: 'score', label: 'score', get: (t) => t.score },
    ...metricKeys(trials).map((k): Column => ({ key: `m:${k}`, label: k, get: (t) => t.metrics[k] ?? null })),
    { key: 'seconds', label: 'seconds', get: (t) => t.seconds ?? null },
    { key: 'arch', label: 'arch', get: (t) => JSON.stringify(t.arch) },
  ];
}

/** Each arch parameter as a column of its own (key `a:<name>`). */
export const archColumns = (trials: readonly Trial[]): Column[] => archKeys(trials).map((k) => ({ key: `a:${k}`, label: k, get: (t) => archText(t.arch[k]) }));

/**
 * What a filter may name: the table's columns by their label, then each arch parameter by its name.
 * A name taken twice goes to the first; the others are reached as `m:<metric>` and `arch.<param>`.
 */
export class FilterColumns {
  private readonly byName = new Map<string, Column>();
  private readonly lower = new Map<string, Column>();
  readonly names: string[] = [];

  constructor(trials: readonly Trial[]) {
    const table = tableColumns(trials);
    const arch = archColumns(trials);
    for (const c of [...table, ...arch]) this.add(c.label, c);
    for (const c of table) if (c.key.startsWith('m:')) this.add(c.key, c, false);
    for (const c of arch) this.add(`arch.${c.label}`, c, false);
  }

  private add(name: string, c: Column, listed = true): void {
    if (this.byName.has(name)) return;
    this.byName.set(name, c);
    if (!this.lower.has(name.toLowerCase())) this.lower.set(name.toLowerCase(), c);
    if (listed) this.names.push(name);
  }

  get(name: string): Column | undefined {
    return this.byName.get(name) ?? this.lower.get(name.toLowerCase());
  }

  /** Names within two edits of `name`, nearest first. */
  near(name: string): string[] {
    return [...this.byName.keys()]
      .map((k) => [k, editDistance(name.toLowerCase(), k.toLowerCase())] as const)
      .filter(([, d]) => d <= 2)
      .sort((a, b) => a[1] - b[1])
      .map(([k]) => k)
      .slice(0, 3);
  }
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}

// ---- parsing

export type Op = '=' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '~' | '!~';
const OPS: Op[] = ['<=', '>=', '!=', '==', '!~', '=', '<', '>', '~'];

export type FilterNode =
  | { kind: 'and' | 'or'; a: FilterNode; b: FilterNode }
  | { kind: 'not'; a: FilterNode }
  | { kind: 'cmp'; column: string; op: Op; value: string; quoted: boolean; at: number }
  | { kind: 'text'; text: string };

interface Token {
  type: '(' | ')' | 'op' | 'word' | 'and' | 'or' | 'not';
  /** A word's text (a term wholly in quotes: without them), or the operator. */
  text: string;
  quoted: boolean;
  /** Where it starts in the filter (0-based). */
  at: number;
}

export class FilterError extends Error {
  constructor(
    message: string,
    /** Where in the filter (0-based). */
    readonly at: number,
  ) {
    super(message);
    this.name = 'FilterError';
  }
}

const opAt = (s: string, i: number): Op | undefined => OPS.find((o) => s.startsWith(o, i));
const KEYWORDS: Record<string, Token['type']> = { and: 'and', '&&': 'and', or: 'or', '||': 'or', not: 'not' };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ type: c, text: c, quoted: false, at: i++ });
      continue;
    }
    const op = opAt(s, i);
    if (op) {
      out.push({ type: 'op', text: op, quoted: false, at: i });
      i += op.length;
      continue;
    }
    // a word runs to a space, a parenthesis or an operator; a quoted span inside it is taken whole
    // (an unclosed quote is a plain character: `"t_0` still matches the arch JSON while typing)
    const start = i;
    let spans = 0;
    while (i < s.length && !/\s/.test(s[i]) && s[i] !== '(' && s[i] !== ')' && !opAt(s, i)) {
      if (s[i] === '"' || s[i] === "'") {
        const end = s.indexOf(s[i], i + 1);
        if (end > 0) {
          i = end + 1;
          spans++;
          continue;
        }
      }
      i++;
    }
    const raw = s.slice(start, i);
    const wholly = spans === 1 && raw.length >= 2 && (raw[0] === '"' || raw[0] === "'") && raw.indexOf(raw[0], 1) === raw.length - 1;
    const kw = KEYWORDS[raw.toLowerCase()];
    if (kw) out.push({ type: kw, text: raw, quoted: false, at: start });
    else out.push({ type: 'word', text: wholly ? raw.slice(1, -1) : raw, quoted: wholly, at: start });
  }
  return out;
}

/** The filter as a tree (null when it is empty); throws FilterError, with where, on a malformed one. */
export function parseFilter(text: string): FilterNode | null {
  const toks = tokenize(text);
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const end = text.length;
  const or = (): FilterNode => {
    let a = and();
    while (peek()?.type === 'or') {
      const t = toks[p++];
      if (!peek() || peek()?.type === ')') throw new FilterError(`'${t.text}' at ${t.at + 1} needs a term after it`, t.at);
      a = { kind: 'or', a, b: and() };
    }
    return a;
  };
  const and = (): FilterNode => {
    let a = unary();
    for (let t = peek(); t && t.type !== 'or' && t.type !== ')'; t = peek()) {
      if (t.type === 'and') {
        p++;
        if (!peek() || peek()?.type === ')' || peek()?.type === 'or') throw new FilterError(`'${t.text}' at ${t.at + 1} needs a term after it`, t.at);
      }
      a = { kind: 'and', a, b: unary() };
    }
    return a;
  };
  const unary = (): FilterNode => {
    const t = peek();
    if (t?.type === 'not') {
      p++;
      if (!peek()) throw new FilterError(`'not' at ${t.at + 1} needs a term after it`, t.at);
      return { kind: 'not', a: unary() };
    }
    return primary();
  };
  const primary = (): FilterNode => {
    const t = toks[p++];
    if (!t) throw new FilterError('the filter ends where a term should be', end);
    switch (t.type) {
      case '(': {
        if (peek()?.type === ')') throw new FilterError(`empty parentheses at ${t.at + 1}`, t.at);
        const e = or();
        if (peek()?.type !== ')') throw new FilterError(`the '(' at ${t.at + 1} is not closed: add ')'`, t.at);
        p++;
        return e;
      }
      case ')':
        throw new FilterError(`unexpected ')' at ${t.at + 1}: no '(' before it`, t.at);
      case 'op':
        throw new FilterError(`'${t.text}' at ${t.at + 1} needs a column before it, e.g. score${t.text}0.9`, t.at);
      case 'and':
      case 'or':
        throw new FilterError(`'${t.text}' at ${t.at + 1} needs a term before it`, t.at);
      default:
        break;
    }
    const op = peek();
    if (op?.type !== 'op') return { kind: 'text', text: t.text };
    p++;
    const v = toks[p];
    if (v?.type !== 'word') throw new FilterError(`'${t.text}${op.text}' needs a value after '${op.text}' (at ${op.at + 1}), e.g. ${t.text}${op.text}${/[<>]/.test(op.text) ? '0.9' : 'done'}`, op.at);
    p++;
    return { kind: 'cmp', column: t.text, op: op.text as Op, value: v.text, quoted: v.quoted, at: t.at };
  };
  if (toks.length === 0) return null;
  const tree = or();
  const rest = peek();
  if (rest) throw new FilterError(`unexpected ')' at ${rest.at + 1}: no '(' before it`, rest.at);
  return tree;
}

// ---- evaluation

export type TrialTest = (t: Trial, pos: number) => boolean;
export type CompiledFilter = { ok: true; test: TrialTest | null } | { ok: false; error: string; at: number };

// a bare term searches these; kept per trial (the table filters 100,000 trials on each key pressed)
const hay = new WeakMap<Trial, string>();
const haystack = (t: Trial): string => {
  let s = hay.get(t);
  if (s === undefined) {
    s = `${t.estim} ${t.status} ${JSON.stringify(t.arch)}`.toLowerCase();
    hay.set(t, s);
  }
  return s;
};

const asNumber = (c: Cell): number => (typeof c === 'number' ? c : typeof c === 'string' && c.trim() !== '' ? Number(c) : NaN);

function comparison(n: Extract<FilterNode, { kind: 'cmp' }>, cols: FilterColumns): TrialTest {
  const col = cols.get(n.column);
  if (!col) {
    const near = cols.near(n.column);
    throw new FilterError(`unknown column '${n.column}' at ${n.at + 1}${near.length ? `: did you mean ${near.map((x) => `'${x}'`).join(' or ')}?` : ''} (columns: ${cols.names.join(', ')})`, n.at);
  }
  const get = col.get;
  const v = n.value;
  if (n.op === '<' || n.op === '<=' || n.op === '>' || n.op === '>=') {
    const x = Number(v);
    if (v.trim() === '' || Number.isNaN(x)) throw new FilterError(`'${n.column}${n.op}' compares numbers: '${v}' is not one (e.g. ${n.column}${n.op}0.9, 3e6)`, n.at);
    const op = n.op;
    return (t, pos) => {
      const c = asNumber(get(t, pos));
      if (Number.isNaN(c)) return false;
      return op === '<' ? c < x : op === '<=' ? c <= x : op === '>' ? c > x : c >= x;
    };
  }
  if (n.op === '~' || n.op === '!~') {
    const needle = v.toLowerCase();
    const neg = n.op === '!~';
    return (t, pos) => {
      const c = get(t, pos);
      return (c !== null && String(c).toLowerCase().includes(needle)) !== neg;
    };
  }
  const neg = n.op === '!=';
  // `=null` (unquoted) is a missing value; a number equals a number however written (1e3 = 1000)
  if (!n.quoted && v.toLowerCase() === 'null') return (t, pos) => (get(t, pos) === null) !== neg;
  const x = v.trim() === '' ? NaN : Number(v);
  const s = v.toLowerCase();
  return (t, pos) => {
    const c = get(t, pos);
    const eq = c !== null && ((typeof c === 'number' && c === x) || String(c).toLowerCase() === s);
    return eq !== neg;
  };
}

function compileNode(n: FilterNode, cols: FilterColumns): TrialTest {
  switch (n.kind) {
    case 'and': {
      const a = compileNode(n.a, cols);
      const b = compileNode(n.b, cols);
      return (t, pos) => a(t, pos) && b(t, pos);
    }
    case 'or': {
      const a = compileNode(n.a, cols);
      const b = compileNode(n.b, cols);
      return (t, pos) => a(t, pos) || b(t, pos);
    }
    case 'not': {
      const a = compileNode(n.a, cols);
      return (t, pos) => !a(t, pos);
    }
    case 'text': {
      const needle = n.text.toLowerCase();
      return (t) => haystack(t).includes(needle);
    }
    case 'cmp':
      return comparison(n, cols);
  }
}

/** The filter as a test of a trial (null: keep every trial), or what is wrong with it: never throws. */
export function compileFilter(text: string, cols: FilterColumns): CompiledFilter {
  try {
    const tree = parseFilter(text);
    return { ok: true, test: tree ? compileNode(tree, cols) : null };
  } catch (e) {
    if (e instanceof FilterError) return { ok: false, error: e.message, at: e.at };
    return { ok: false, error: String(e), at: 0 };
  }
}

// ---- export

/** A row of the (filtered, sorted) table: the trial and its place in the run. */
export interface Row {
  t: Trial;
  pos: number;
}

/** The export's columns: the table's, with the arch as one column per parameter (named `arch.<p>` where the bare name is taken). */
export function exportColumns(trials: readonly Trial[]): Column[] {
  const table = tableColumns(trials).filter((c) => c.key !== 'arch');
  const taken = new Set(table.map((c) => c.label));
  return [...table, ...archColumns(trials).map((c) => ({ ...c, label: taken.has(c.label) ? `arch.${c.label}` : c.label }))];
}

/**
 * One CSV field (RFC 4180). Text a spreadsheet would run as a formula (starting with = + - @, a tab
 * or a carriage return: a store's strings are anyone's) gets a leading apostrophe, as OWASP advises.
 */
export function csvField(c: Cell): string {
  if (c === null) return '';
  if (typeof c === 'number') return Number.isFinite(c) ? String(c) : '';
  const s = /^[=+\-@\t\r]/.test(c) ? `'${c}` : c;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: readonly Row[], cols: readonly Column[]): string {
  const lines = [cols.map((c) => csvField(c.label)).join(',')];
  for (const { t, pos } of rows) lines.push(cols.map((c) => csvField(c.get(t, pos))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The trials as the dashboard holds them, each with its '#'. */
export const toJson = (rows: readonly Row[]): string => `${JSON.stringify(rows.map(({ t, pos }) => ({ '#': pos, ...t })), null, 1)}\n`;
