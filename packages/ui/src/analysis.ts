/**
 * What the trials of a run say about its search space, for the dashboard's analysis views: each
 * choice as a column of levels, and how much of the score's variance each choice explains alone.
 * Plain data in and out (no node, no DOM): the page imports it as it does view.ts.
 */
import type { Trial } from './view.js';

/** One arch parameter over the trials. */
export interface ParamColumn {
  name: string;
  /**
   * 'choice': each distinct value is a level (a candidate op, a channel count); 'numeric': a number
   * with more distinct values than `maxLevels` (a hyperparameter), whose levels are quantile bins.
   */
  kind: 'choice' | 'numeric';
  /** The levels' names, in order (as declared, else numbers ascending and others as first seen; bins as their ranges; ABSENT last when some trial lacks the parameter). */
  levels: string[];
  /** Each trial's level (an index into `levels`). */
  codes: Int32Array;
  /** numeric only: each trial's value (NaN where it has none). */
  values?: Float64Array;
}

/** The level of a trial whose arch lacks the parameter (a conditional choice that was not active). */
export const ABSENT = '(absent)';

export interface ColumnOptions {
  /** A numeric parameter with more distinct values than this is binned (default 12). */
  maxLevels?: number;
  /** Quantile bins of a numeric parameter (default 10). */
  bins?: number;
  /**
   * The choices each parameter was declared with (the run's search space), in their order: the
   * parameters come in this order, and their levels in their choices' (values not declared after).
   */
  declared?: ReadonlyArray<{ name: string; choices?: readonly unknown[] }>;
}

const label = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
const short = (x: number): string => String(Number(x.toPrecision(3)));

/** The trials' arch parameters (as declared, then as first seen), each as levels and a level per trial. O(trials · params), plus a sort per numeric parameter. */
export function paramColumns(trials: readonly Trial[], opts: ColumnOptions = {}): ParamColumn[] {
  const maxLevels = opts.maxLevels ?? 12;
  const bins = opts.bins ?? 10;
  const seenNames = new Set<string>();
  for (const t of trials) for (const k in t.arch) seenNames.add(k);
  const declared = new Map((opts.declared ?? []).map((d) => [d.name, (d.choices ?? []).map(label)]));
  const names = [...[...declared.keys()].filter((k) => seenNames.has(k)), ...[...seenNames].filter((k) => !declared.has(k))];
  const n = trials.length;
  return names.map((name): ParamColumn => {
    // a number with many values is binned: found without indexing its values
    let numeric = true;
    const distinct = new Set<number>();
    for (let i = 0; i < n && numeric; i++) {
      const v = trials[i].arch[name];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) numeric = false;
      else if (distinct.size <= maxLevels) distinct.add(v);
    }
    if (numeric && distinct.size > maxLevels) return binned(name, trials, bins);
    // levels keyed by the value itself (strings and numbers: no string made per trial), else by its JSON
    const index = new Map<unknown, number>();
    const seen: unknown[] = [];
    const codes = new Int32Array(n);
    let absent = false;
    for (let i = 0; i < n; i++) {
      const v = trials[i].arch[name];
      if (v === undefined) {
        absent = true;
        codes[i] = -1;
        continue;
      }
      const key = typeof v === 'string' || typeof v === 'number' ? v : label(v);
      let c = index.get(key);
      if (c === undefined) {
        c = seen.length;
        index.set(key, c);
        seen.push(v);
      }
      codes[i] = c;
    }
    // as declared; else numbers ascending (a channel count reads left to right), others as first seen
    const order = seen.map((_, i) => i);
    const choices = declared.get(name);
    if (choices?.length) {
      const at = seen.map((v) => choices.indexOf(label(v)) + 1 || Infinity);
      order.sort((a, b) => at[a] - at[b] || a - b);
    } else if (numeric) order.sort((a, b) => (seen[a] as number) - (seen[b] as number));
    const rank = new Int32Array(seen.length);
    order.forEach((o, r) => (rank[o] = r));
    const levels = order.map((o) => label(seen[o]));
    if (absent) levels.push(ABSENT);
    for (let i = 0; i < n; i++) codes[i] = codes[i] < 0 ? levels.length - 1 : rank[codes[i]];
    return { name, kind: 'choice', levels, codes };
  });
}

/** A numeric parameter in quantile bins: edges at the distinct values nearest each quantile, so equal values share a bin. */
function binned(name: string, trials: readonly Trial[], bins: number): ParamColumn {
  const n = trials.length;
  const values = new Float64Array(n);
  const present: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = trials[i].arch[name];
    values[i] = typeof v === 'number' ? v : NaN;
    if (typeof v === 'number') present.push(v);
  }
  const absent = present.length < n;
  const sorted = Float64Array.from(present).sort();
  // upper edges: a bin holds the values <= its edge (and > the previous one)
  const edges: number[] = [];
  for (let b = 1; b <= bins; b++) {
    const e = sorted[Math.min(sorted.length - 1, Math.ceil((b * sorted.length) / bins) - 1)];
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  const levels = edges.map((e, b) => (b === 0 ? `[${short(sorted[0])}, ${short(e)}]` : `(${short(edges[b - 1])}, ${short(e)}]`));
  if (absent) levels.push(ABSENT);
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      codes[i] = levels.length - 1;
      continue;
    }
    let lo = 0;
    let hi = edges.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v <= edges[mid]) hi = mid;
      else lo = mid + 1;
    }
    codes[i] = lo;
  }
  return { name, kind: 'numeric', levels, codes, values };
}

/** One level of a parameter over the scored trials. */
export interface LevelStat {
  name: string;
  n: number;
  /** The mean score of the trials at this level, and its spread (what the slice plots show). */
  mean: number;
  std: number;
  /** The level's fitted main effect: how much it adds to the score, the other choices held at their average. */
  effect: number;
}

export interface ParamImportance {
  param: string;
  kind: ParamColumn['kind'];
  /**
   * The fraction of the score's variance this parameter's main effect explains: the variance of its
   * fitted main effect over the trials, less what fitting its levels to noise gives by chance (as
   * ε² does for η²), over the scores' variance; about 0 for a parameter with no effect whatever its
   * number of levels. Clipped at 0.
   */
  share: number;
  /** The plain correlation ratio η² (between-level over total sum of squares of the raw scores): credits a parameter with what a correlated one does. */
  eta2: number;
  levels: LevelStat[];
}

export interface Importance {
  /** How the shares were estimated, for the view's caption. */
  method: string;
  /** Scored trials used. */
  n: number;
  /** The scores' (population) variance. */
  variance: number;
  /** Most important first. */
  params: ParamImportance[];
  /** 1 − the sum of the shares (at least 0): interactions between parameters, and noise. */
  rest: number;
  /** Scored trials beyond the levels fitted (n − 1 − Σ (levels − 1)): with few, the shares mean little. */
  spare: number;
  /** The parameters over the scored trials (in the trials' order, as first seen), for plots of the same levels. */
  columns: ParamColumn[];
  /** The scored trials, in the run's order. */
  scored: Trial[];
}

export const IMPORTANCE_METHOD =
  'fANOVA main effects (Hutter, Hoos & Leyton-Brown, ICML 2014) of an additive model fitted to the trials by backfitting: each choice’s share is the variance of its main effect over the trials divided by the score’s variance, less what its levels would fit of noise by chance; numeric choices with many values in 10 quantile bins';

/** Sweeps of backfitting at most (it stops sooner once no main effect moves). */
const MAX_SWEEPS = 50;

/**
 * How much of the score's variance each parameter explains alone: the fANOVA main-effect
 * decomposition (Hutter, Hoos & Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter
 * Importance", ICML 2014) of a model fitted to the trials. fANOVA fits a random forest and
 * marginalises it over the other parameters; here the model is the additive one (a main effect
 * per level of each parameter, fitted by least squares with backfitting: Hastie & Tibshirani,
 * Generalized Additive Models, 1990), whose marginal over the other parameters is exactly the main
 * effect. A sweep is one pass over the trials per parameter, O(trials · params); it converges in a
 * few sweeps unless the parameters were sampled together.
 *
 * Fitting the effects together (rather than the correlation ratio η² of each parameter alone)
 * keeps a parameter that happens to be sampled with a good choice from sharing its credit. What it
 * cannot undo: fANOVA weighs the levels uniformly, these shares weigh them as the optimizer sampled
 * them. They agree for a random search; an optimizer that concentrated its samples (evolution,
 * Bayesian optimisation) biases them: a choice it settled on early shows little variance, and
 * interactions it explored show as main effects. Trials without a score are left out.
 */
export function importance(trials: readonly Trial[], opts: ColumnOptions = {}): Importance {
  const scored = trials.filter((t) => t.score !== null && Number.isFinite(t.score));
  const n = scored.length;
  let mean = 0;
  for (const t of scored) mean += t.score as number;
  mean /= n || 1;
  // centred, so the sums of squares lose no precision
  const d = Float64Array.from(scored, (t) => (t.score as number) - mean);
  let ssTotal = 0;
  for (let i = 0; i < n; i++) ssTotal += d[i] * d[i];
  const cols = paramColumns(scored, opts);
  const counts = cols.map((col) => {
    const cnt = new Float64Array(col.levels.length);
    for (let i = 0; i < n; i++) cnt[col.codes[i]]++;
    return cnt;
  });
  // backfitting: each parameter's effects are the mean residual per level, the others' effects held
  const effects = cols.map((col) => new Float64Array(col.levels.length));
  const fit = new Float64Array(n);
  const tol = 1e-10 * Math.sqrt(ssTotal / (n || 1));
  for (let sweep = 0; sweep < MAX_SWEEPS && ssTotal > 0; sweep++) {
    let moved = 0;
    cols.forEach((col, p) => {
      const f = effects[p];
      const cnt = counts[p];
      const sum = new Float64Array(f.length);
      for (let i = 0; i < n; i++) {
        const c = col.codes[i];
        sum[c] += d[i] - fit[i] + f[c];
      }
      const next = new Float64Array(f.length);
      let centre = 0;
      for (let c = 0; c < f.length; c++) {
        next[c] = cnt[c] ? sum[c] / cnt[c] : 0;
        centre += cnt[c] * next[c];
      }
      centre /= n;
      for (let c = 0; c < f.length; c++) {
        next[c] = cnt[c] ? next[c] - centre : 0;
        moved = Math.max(moved, Math.abs(next[c] - f[c]));
      }
      for (let i = 0; i < n; i++) fit[i] += next[col.codes[i]] - f[col.codes[i]];
      effects[p] = next;
    });
    if (moved <= tol) break;
  }
  let ssResidual = 0;
  for (let i = 0; i < n; i++) ssResidual += (d[i] - fit[i]) ** 2;
  const used = counts.map((cnt) => cnt.reduce((u, c) => u + (c > 0 ? 1 : 0), 0));
  const dfModel = used.reduce((s, u) => s + u - 1, 0);
  // the residual variance per degree of freedom: what a level fits of noise, on average
  const noise = n - 1 - dfModel > 0 ? ssResidual / (n - 1 - dfModel) : 0;
  const params = cols.map((col, p): ParamImportance => {
    const cnt = counts[p];
    const f = effects[p];
    const sum = new Float64Array(f.length);
    const sq = new Float64Array(f.length);
    for (let i = 0; i < n; i++) {
      const c = col.codes[i];
      sum[c] += d[i];
      sq[c] += d[i] * d[i];
    }
    let ssEffect = 0;
    let ssBetween = 0;
    const levels: LevelStat[] = [];
    for (let c = 0; c < f.length; c++) {
      if (cnt[c] === 0) continue;
      const m = sum[c] / cnt[c];
      ssEffect += cnt[c] * f[c] * f[c];
      ssBetween += cnt[c] * m * m;
      levels.push({ name: col.levels[c], n: cnt[c], mean: mean + m, std: Math.sqrt(Math.max(0, sq[c] / cnt[c] - m * m)), effect: f[c] });
    }
    const eta2 = ssTotal > 0 ? Math.min(1, ssBetween / ssTotal) : 0;
    const share = ssTotal > 0 && noise > 0 ? Math.max(0, Math.min(1, (ssEffect - (used[p] - 1) * noise) / ssTotal)) : ssTotal > 0 ? Math.min(1, ssEffect / ssTotal) : 0;
    return { param: col.name, kind: col.kind, share, eta2, levels };
  });
  params.sort((a, b) => b.share - a.share || b.eta2 - a.eta2);
  const explained = params.reduce((s, p) => s + p.share, 0);
  return { method: IMPORTANCE_METHOD, n, variance: n ? ssTotal / n : 0, params, rest: Math.max(0, 1 - explained), spare: n - 1 - dfModel, columns: cols, scored };
}
