/**
 * The latency lookup table of a search space on one target (ProxylessNAS's latency model, the
 * original's StatsLUTMetrics). Every candidate of every mixed op is measured once in context: the
 * whole network at a base architecture (each op's first candidate) with only that op changed, so
 * the candidate's cost is what it adds to or saves from a real network on that runtime (its layout
 * changes, cache effects, the run's overhead counted once). The base candidates are also measured
 * alone, less an empty network of their input shape, which gives the entries an absolute scale
 * (it cancels out of every prediction). A network's predicted latency is `fixed + Σ blocks`, with
 * `fixed` the base network less its blocks. Each network is measured in `rounds` round-robin
 * passes and its median kept; measurements are cached on disk by target, runtime version,
 * machine, batch and graph signature, so another experiment on the same space and machine reuses them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger, Module } from '@modnas/core';
import { silentLogger } from '@modnas/core';
import { writeFileAtomic } from '@modnas/kit-io';
import type { MixedOp } from '@modnas/kit-mixed-op';
import { MixedOp as MixedOpBase, fixCandidates, opInputShapes } from '@modnas/kit-mixed-op';
import type { Graph } from '@modnas/model-export';
import type { LatencyRuntime, LatencyTarget, RuntimeInfo } from './runtimes.js';
import { Passthrough, inferenceGraph } from './runtimes.js';
import type { LatencyStats, Timing } from './timing.js';
import { summarize } from './timing.js';

export const TABLE_VERSION = 1;

export interface LatencyTable {
  version: number;
  target: LatencyTarget;
  runtime: string;
  machine: string;
  batch_size: number;
  /** One example's shape, [height, width, channels]. */
  input: number[];
  /** Milliseconds of everything outside the mixed ops (stem, head, the run's own overhead). */
  fixed: number;
  /** Per mixed op, in model order: its path, its candidates' names and entry keys, and their milliseconds (0 for a candidate that computes nothing). */
  ops: Array<{ path: string; candidates: string[]; keys: string[]; ms: number[] }>;
  /** Measured entries by graph signature (medians and interquartile ranges, ms; `empty` is the overhead already taken out). */
  entries: Record<string, { ms: number; iqr: number; shape: number[]; empty: number }>;
  /** The base network the entries are measured against (the fixed part is it less its blocks). */
  references: Array<{ choice: number[]; measured: number; iqr: number; blocks: number }>;
}

/** The shape of a network's computation (ops, attributes, shapes; not the weights). */
export function graphSignature(g: Graph): string {
  const shape = (id: string) => g.value(id).shape.slice(1).join('x') + (g.isConst(id) ? 'c' : '');
  const body = g.nodes.map((n) => [n.op, n.attrs, n.inputs.map(([k, id]) => [k, shape(id)]), shape(n.output)]);
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
}

/** The default cache folder: $XDG_CACHE_HOME/modnas/latency, or ~/.cache/modnas/latency. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'modnas', 'latency');
}

/**
 * Measured latencies kept on disk, one file per target, runtime, machine and timing, keyed by
 * graph signature. A damaged file is ignored (and rewritten).
 */
export class LatencyCache {
  private readonly map: Record<string, LatencyStats>;
  private readonly file: string | undefined;

  constructor(
    dir: string | false,
    private readonly info: RuntimeInfo,
    t: Timing,
  ) {
    if (dir === false) {
      this.map = {};
      return;
    }
    const id = createHash('sha256').update(JSON.stringify([info.target, info.runtime, info.machine, t.batch_size, t.rep, t.min_sample_ms])).digest('hex').slice(0, 16);
    this.file = join(dir, `${info.target}-${id}.json`);
    let map: Record<string, LatencyStats> = {};
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { version?: number; entries?: Record<string, LatencyStats> };
      if (parsed.version === TABLE_VERSION && parsed.entries && typeof parsed.entries === 'object') map = parsed.entries;
    } catch {
      // missing or unreadable: start empty
    }
    this.map = map;
  }

  get(key: string): LatencyStats | undefined {
    const v = this.map[key];
    return v && typeof v.median === 'number' && Number.isFinite(v.median) ? v : undefined;
  }

  set(key: string, v: LatencyStats): void {
    this.map[key] = v;
    if (!this.file) return;
    mkdirSync(join(this.file, '..'), { recursive: true });
    writeFileAtomic(this.file, JSON.stringify({ version: TABLE_VERSION, ...this.info, entries: this.map }));
  }

  get size(): number {
    return Object.keys(this.map).length;
  }
}

export interface TableOptions {
  timing: Timing;
  /** How long the base network runs before anything is measured (default 2000 ms; skipped when it is cached). */
  warmupMs?: number;
  /** Round-robin passes over the table's networks; each network's latency is the median of its rounds (default 5: a passing disturbance hits one round). */
  rounds?: number;
  cache?: LatencyCache;
  logger?: Logger;
}

/** A network the table measures: its module, input shape and graph, and its signature. */
interface Job {
  module: Module;
  inputShape: readonly number[];
  graph: Graph;
  key: string;
}

function job(module: Module, inputShape: readonly number[], graph = inferenceGraph(module, inputShape)): Job {
  return { module, inputShape, graph, key: graphSignature(graph) };
}

/**
 * The latency of each job: from the cache, or measured in `rounds` round-robin passes over the
 * jobs not cached (the median of the rounds' medians), then cached.
 */
async function measureJobs(runtime: LatencyRuntime, jobs: readonly Job[], t: Timing, rounds: number, cache: LatencyCache | undefined): Promise<{ stats: Map<string, LatencyStats>; fresh: number }> {
  const stats = new Map<string, LatencyStats>();
  const todo: Job[] = [];
  for (const j of jobs) {
    if (stats.has(j.key) || todo.some((x) => x.key === j.key)) continue;
    const hit = cache?.get(j.key);
    if (hit) stats.set(j.key, hit);
    else todo.push(j);
  }
  const runs = new Map<string, LatencyStats[]>(todo.map((j) => [j.key, []]));
  for (let r = 0; r < Math.max(1, rounds); r++) for (const j of todo) runs.get(j.key)!.push(summarize(await runtime.measure(j, t)));
  for (const j of todo) {
    const rs = runs.get(j.key)!;
    const s: LatencyStats = { median: summarize(rs.map((x) => x.median)).median, iqr: summarize(rs.map((x) => x.iqr)).median, samples: rs.reduce((a, x) => a + x.samples, 0) };
    stats.set(j.key, s);
    cache?.set(j.key, s);
  }
  return { stats, fresh: todo.length };
}

/** The mixed ops a table covers: every mixed op of the model, in order. */
export function tableOps(model: Module): Array<[string, MixedOp]> {
  return MixedOpBase.find(model);
}

/** The whole network's job with each mixed op fixed to the candidate `choice` names. */
function choiceJob(model: Module, inputShape: readonly number[], ops: Array<[string, MixedOp]>, choice: readonly number[]): Job {
  const undo = fixCandidates(new Map(ops.map(([, op], i) => [op, choice[i]])));
  try {
    return job(model, inputShape);
  } finally {
    undo();
  }
}

export async function buildLatencyTable(model: Module, inputShape: readonly number[], runtime: LatencyRuntime, opts: TableOptions): Promise<LatencyTable> {
  const t = opts.timing;
  const logger = opts.logger ?? silentLogger;
  const info = await runtime.info();
  const ops = tableOps(model);
  const shapes = opInputShapes(model, inputShape, ops.map(([, op]) => op));
  const t0 = Date.now();
  // The base architecture: each op's first candidate. Each other candidate is measured in context,
  // as the whole network at the base with that one op changed.
  const base = ops.map(() => 0);
  const baseJob = choiceJob(model, inputShape, ops, base);
  const variants = ops.map(([, op], i) => op.candidates().map((_, c) => (c === 0 ? baseJob : choiceJob(model, inputShape, ops, base.map((b, j) => (j === i ? c : b))))));
  // The base candidates alone (less an empty network of their input shape) give the entries an
  // absolute scale; they cancel out of every prediction.
  const alone = ops.map(([, op]) => {
    const shape = shapes.get(op)?.slice(1);
    if (!shape) return undefined;
    const j = job(op.candidates()[0], shape);
    return j.graph.nodes.length === 0 ? undefined : { job: j, empty: job(new Passthrough(), shape) };
  });
  const jobs = [baseJob, ...variants.flat(), ...alone.flatMap((a) => (a ? [a.job, a.empty] : []))];
  // the first seconds on a new network are slower (JIT tiers, the engine's caches): run the base until warm
  const warmEnd = performance.now() + (opts.warmupMs ?? 2000);
  while (performance.now() < warmEnd && !opts.cache?.get(baseJob.key)) await runtime.measure(baseJob, t);
  const { stats, fresh } = await measureJobs(runtime, jobs, t, opts.rounds ?? 5, opts.cache);
  const ms = (j: Job) => stats.get(j.key)!.median;
  const whole = ms(baseJob);

  const entries: LatencyTable['entries'] = {};
  const rows: LatencyTable['ops'] = ops.map(([path, op], i) => {
    const a = alone[i];
    const anchor = a ? Math.max(0, ms(a.job) - ms(a.empty)) : 0;
    const row = { path, candidates: op.candidateNames(), keys: [] as string[], ms: [] as number[] };
    variants[i].forEach((v, c) => {
      const key = `${path}:${c}`;
      const shape = shapes.get(op)?.slice(1) ?? [];
      const s = stats.get(v.key)!;
      entries[key] = { ms: anchor + (ms(v) - whole), iqr: s.iqr, shape, empty: a ? ms(a.empty) : 0 };
      row.keys.push(key);
      row.ms.push(entries[key].ms);
    });
    return row;
  });
  const blocks = rows.reduce((acc, r) => acc + r.ms[0], 0);
  const fixed = whole - blocks;
  const references = [{ choice: base, measured: whole, iqr: stats.get(baseJob.key)!.iqr, blocks }];
  const total = new Set(jobs.map((j) => j.key)).size;
  logger.info(`latency table ${info.target}: ${ops.length} mixed ops, ${Object.keys(entries).length} entries measured in context, fixed part ${fixed.toFixed(3)} ms; ${fresh} of ${total} networks measured, ${total - fresh} from the cache, in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${info.runtime}`);
  return { version: TABLE_VERSION, target: info.target, runtime: info.runtime, machine: info.machine, batch_size: t.batch_size, input: [...inputShape], fixed, ops: rows, entries, references };
}

/** The whole network with each mixed op fixed to a candidate, measured once (or taken from the cache). */
export async function measureChoice(model: Module, inputShape: readonly number[], runtime: LatencyRuntime, t: Timing, ops: Array<[string, MixedOp]>, choice: readonly number[], cache?: LatencyCache): Promise<LatencyStats> {
  const j = choiceJob(model, inputShape, ops, choice);
  return (await measureJobs(runtime, [j], t, 1, cache)).stats.get(j.key)!;
}

/** fixed + Σ blocks, for one candidate index per mixed op (in the table's order). */
export function predictLatency(table: LatencyTable, choice: readonly number[]): number {
  if (choice.length !== table.ops.length) throw new Error(`predictLatency: ${choice.length} choices for ${table.ops.length} mixed ops`);
  return table.ops.reduce((a, op, i) => a + op.ms[choice[i]], table.fixed);
}

/** The candidate each of the model's mixed ops runs now (its chosen one). */
export function currentChoice(model: Module): number[] {
  return tableOps(model).map(([, op]) => op.chosenIndex());
}
