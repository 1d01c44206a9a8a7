/**
 * The latency lookup table of a search space on one target (ProxylessNAS's latency model, the
 * original's StatsLUTMetrics): every candidate of every mixed op, at the input shape its op sees,
 * is measured once inside a small network (the candidate alone), less the cost of running an
 * empty network of that shape (so each run's fixed overhead is counted once, not per block).
 * Candidates that are the same computation at the same shape (same graph signature) share one
 * entry. The part outside the mixed ops is measured in context: the whole network at a few
 * reference architectures, less their blocks, the median taken. A network's predicted latency is
 * `fixed + Σ blocks`. Entries are cached on disk by target, runtime version, machine, batch and
 * graph signature, so another experiment on the same machine reuses them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger, Module, Rng } from '@modnas/core';
import { Module as ModuleBase, silentLogger, tf } from '@modnas/core';
import { writeFileAtomic } from '@modnas/kit-io';
import type { MixedOp } from '@modnas/kit-mixed-op';
import { MixedOp as MixedOpBase, fixCandidates, opInputShapes } from '@modnas/kit-mixed-op';
import type { Graph } from '@modnas/model-export';
import type { LatencyRuntime, LatencyTarget, RuntimeInfo } from './runtimes.js';
import { inferenceGraph } from './runtimes.js';
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
  /** The whole networks the fixed part comes from. */
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

/** A module that only runs x -> relu(x): the "empty" network of a shape (input in, output out). */
class Passthrough extends ModuleBase {
  override forward(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }
}

export interface TableOptions {
  timing: Timing;
  /** Whole networks measured for the fixed part (at least 1). */
  references?: number;
  rng?: Rng;
  cache?: LatencyCache;
  logger?: Logger;
}

/** Measure a network's graph (or take it from the cache). */
async function measured(runtime: LatencyRuntime, module: Module, inputShape: readonly number[], t: Timing, cache: LatencyCache | undefined, graph = inferenceGraph(module, inputShape)): Promise<LatencyStats & { key: string; nodes: number }> {
  const key = graphSignature(graph);
  const hit = cache?.get(key);
  if (hit) return { ...hit, key, nodes: graph.nodes.length };
  const s = summarize(await runtime.measure({ module, inputShape, graph }, t));
  cache?.set(key, s);
  return { ...s, key, nodes: graph.nodes.length };
}

/** The mixed ops a table covers: every mixed op of the model, in order. */
export function tableOps(model: Module): Array<[string, MixedOp]> {
  return MixedOpBase.find(model);
}

export async function buildLatencyTable(model: Module, inputShape: readonly number[], runtime: LatencyRuntime, opts: TableOptions): Promise<LatencyTable> {
  const t = opts.timing;
  const logger = opts.logger ?? silentLogger;
  const info = await runtime.info();
  const ops = tableOps(model);
  const shapes = opInputShapes(model, inputShape, ops.map(([, op]) => op));
  const entries: LatencyTable['entries'] = {};
  const empties = new Map<string, number>();
  const t0 = Date.now();
  let fresh = 0;
  const tableOps_: LatencyTable['ops'] = [];
  for (const [path, op] of ops) {
    const shape = shapes.get(op)?.slice(1);
    const row = { path, candidates: op.candidateNames(), keys: [] as string[], ms: [] as number[] };
    for (const c of op.candidates()) {
      if (!shape) {
        row.keys.push('unused');
        row.ms.push(0);
        continue;
      }
      const g = inferenceGraph(c, shape);
      if (g.nodes.length === 0) {
        row.keys.push('identity');
        row.ms.push(0);
        continue;
      }
      const key = graphSignature(g);
      if (!entries[key]) {
        const shapeKey = shape.join('x');
        let empty = empties.get(shapeKey);
        if (empty === undefined) {
          empty = (await measured(runtime, new Passthrough(), shape, t, opts.cache)).median;
          empties.set(shapeKey, empty);
        }
        const hit = opts.cache?.get(key) !== undefined;
        const s = await measured(runtime, c, shape, t, opts.cache, g);
        if (!hit) fresh++;
        entries[key] = { ms: s.median - empty, iqr: s.iqr, shape, empty };
      }
      row.keys.push(key);
      row.ms.push(entries[key].ms);
    }
    tableOps_.push(row);
  }
  // the fixed part, in context: whole networks at reference architectures
  const n = Math.max(1, opts.references ?? 3);
  const choices: number[][] = [ops.map(() => 0), ops.map(([, op]) => op.numCandidates - 1)];
  while (choices.length < n) choices.push(ops.map(([, op]) => (opts.rng ? opts.rng.int(op.numCandidates) : Math.floor(Math.random() * op.numCandidates))));
  const references: LatencyTable['references'] = [];
  for (const choice of choices.slice(0, n)) {
    const s = await measureChoice(model, inputShape, runtime, t, ops, choice, opts.cache);
    const blocks = tableOps_.reduce((a, r, i) => a + r.ms[choice[i]], 0);
    references.push({ choice, measured: s.median, iqr: s.iqr, blocks });
  }
  const fixed = summarize(references.map((r) => r.measured - r.blocks)).median;
  logger.info(`latency table ${info.target}: ${Object.keys(entries).length} entries (${fresh} measured, ${Object.keys(entries).length - fresh} from the cache) for ${ops.length} mixed ops, fixed part ${fixed.toFixed(3)} ms from ${references.length} whole networks, in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${info.runtime}`);
  return { version: TABLE_VERSION, target: info.target, runtime: info.runtime, machine: info.machine, batch_size: t.batch_size, input: [...inputShape], fixed, ops: tableOps_, entries, references };
}

/** The whole network with each mixed op fixed to a candidate, measured. */
export async function measureChoice(model: Module, inputShape: readonly number[], runtime: LatencyRuntime, t: Timing, ops: Array<[string, MixedOp]>, choice: readonly number[], cache?: LatencyCache): Promise<LatencyStats> {
  const undo = fixCandidates(new Map(ops.map(([, op], i) => [op, choice[i]])));
  try {
    return await measured(runtime, model, inputShape, t, cache);
  } finally {
    undo();
  }
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
