import { ModnasError, looseName, tf, z } from '@modnas/core';

/**
 * The dataflow parts of a layer (the original's registry `layer_def`): mergers combine states,
 * enumerators pick the predecessors of each edge, allocators hand each edge its share of them.
 * They are values of DAGLayer's and MultiChainLayer's config, not components: plain classes,
 * looked up by the original's names (case, '_' and '-' ignored). Tensors are NHWC here, so
 * channels are axis 3 (the original's axis 1).
 */

/** Combines a list of states into one. */
export interface Merger {
  /** Channels of the merged output, given the channels of every state. */
  chnOut(chnStates: readonly number[]): number;
  merge(states: readonly tf.Tensor[]): tf.Tensor;
  /** Indices of the states that the merge reads. */
  mergeRange(nStates: number): number[];
}

/** Picks, for a node with `nStates` states before it, the predecessor index lists of its edges. */
export interface Enumerator {
  enumerate(nStates: number, nInputs: number): number[][];
  /** How many edges `enumerate` yields. */
  lenEnum(nStates: number, nInputs: number): number;
}

/** Hands an edge its input from the states it reads (`sidx`) into node state `curState`. */
export interface Allocator {
  alloc(states: readonly tf.Tensor[], sidx: readonly number[], curState: number): tf.Tensor[];
  /** Channels of each allocated input; called once per edge at build time, before `alloc`. */
  chnIn(chnStates: readonly number[], sidx: readonly number[], curState: number): number[];
}

const CHANNEL_AXIS = 3;
const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
const sumOf = (states: readonly tf.Tensor[]): tf.Tensor => (states.length === 1 ? states[0] : tf.addN(states as tf.Tensor[]));
const needStates = (who: string, states: readonly tf.Tensor[]): void => {
  if (states.length === 0) throw new ModnasError('MODNAS_E_LAYER_DEF_EMPTY', `${who} has no state to merge`, { fix: 'lower its start, or give the layer more nodes' });
};

/** Concatenation of states[start:] along channels. */
export class ConcatMerger implements Merger {
  constructor(readonly start = 0) {}
  chnOut(chn: readonly number[]): number {
    return chn.slice(this.start).reduce((a, b) => a + b, 0);
  }
  merge(states: readonly tf.Tensor[]): tf.Tensor {
    const s = states.slice(this.start);
    needStates('ConcatMerger', s);
    return s.length === 1 ? s[0] : tf.concat(s, CHANNEL_AXIS);
  }
  mergeRange(nStates: number): number[] {
    return range(this.start, nStates);
  }
}

/**
 * Sum of states[start:] divided by the number of all states (as the original does: with a start
 * above 0 this is not the mean of the merged ones).
 */
export class AvgMerger implements Merger {
  constructor(readonly start = 0) {}
  chnOut(chn: readonly number[]): number {
    return chn[chn.length - 1];
  }
  merge(states: readonly tf.Tensor[]): tf.Tensor {
    const s = states.slice(this.start);
    needStates('AvgMerger', s);
    return tf.div(sumOf(s), states.length);
  }
  mergeRange(nStates: number): number[] {
    return range(this.start, nStates);
  }
}

/** Sum of states[start:]. */
export class SumMerger implements Merger {
  constructor(readonly start = 0) {}
  chnOut(chn: readonly number[]): number {
    return chn[chn.length - 1];
  }
  merge(states: readonly tf.Tensor[]): tf.Tensor {
    const s = states.slice(this.start);
    needStates('SumMerger', s);
    return sumOf(s);
  }
  mergeRange(nStates: number): number[] {
    return range(this.start, nStates);
  }
}

/** The last state (start is accepted and ignored, as in the original). */
export class LastMerger implements Merger {
  constructor(_start = 0) {}
  chnOut(chn: readonly number[]): number {
    return chn[chn.length - 1];
  }
  merge(states: readonly tf.Tensor[]): tf.Tensor {
    needStates('LastMerger', states);
    return states[states.length - 1];
  }
  mergeRange(nStates: number): number[] {
    return [nStates - 1];
  }
}

/** Every combination of nInputs of the states, in lexicographic order (itertools.combinations). */
export class CombinationEnumerator implements Enumerator {
  enumerate(nStates: number, nInputs: number): number[][] {
    const out: number[][] = [];
    const pick = (from: number, acc: number[]): void => {
      if (acc.length === nInputs) {
        out.push([...acc]);
        return;
      }
      for (let i = from; i <= nStates - (nInputs - acc.length); i++) pick(i + 1, [...acc, i]);
    };
    if (nInputs <= nStates) pick(0, []);
    return out;
  }
  lenEnum(nStates: number, nInputs: number): number {
    return this.enumerate(nStates, nInputs).length;
  }
}

/** One edge reading the last nInputs states, latest first. */
export class LastNEnumerator implements Enumerator {
  enumerate(nStates: number, nInputs: number): number[][] {
    return [range(0, nInputs).map((i) => nStates - i - 1)];
  }
  lenEnum(_nStates: number, _nInputs: number): number {
    return 1;
  }
}

/** One edge reading the first nInputs states. */
export class FirstNEnumerator implements Enumerator {
  enumerate(_nStates: number, nInputs: number): number[][] {
    return [range(0, nInputs)];
  }
  lenEnum(_nStates: number, _nInputs: number): number {
    return 1;
  }
}

/** One edge reading states (nStates - 1 + i) div width, i < nInputs: a tree of the given width. */
export class TreeEnumerator implements Enumerator {
  constructor(readonly width = 2) {}
  enumerate(nStates: number, nInputs: number): number[][] {
    return [range(0, nInputs).map((i) => Math.floor((nStates - 1 + i) / this.width))];
  }
  lenEnum(_nStates: number, _nInputs: number): number {
    return 1;
  }
}

/** One edge reading every state, latest first (nInputs is ignored, as in the original). */
export class ReverseEnumerator implements Enumerator {
  enumerate(nStates: number, _nInputs: number): number[][] {
    return [range(0, nStates).map((i) => nStates - i - 1)];
  }
  lenEnum(_nStates: number, _nInputs: number): number {
    return 1;
  }
}

/** Every edge gets its predecessors whole. */
export class ReplicateAllocator implements Allocator {
  constructor(
    readonly nInputs: number,
    readonly nStates: number,
  ) {}
  alloc(states: readonly tf.Tensor[], _sidx: readonly number[], _curState: number): tf.Tensor[] {
    return [...states];
  }
  chnIn(chnStates: readonly number[], _sidx: readonly number[], _curState: number): number[] {
    return [...chnStates];
  }
}

/**
 * Each state's channels are split evenly among the nodes after it (`nStates` here is the number
 * of nodes): state si gives node `curState` the slice number curState - max(nInputs, si + 1) of
 * min(nNodes, nInputs + nNodes - si - 1) equal slices, the last slice taking the remainder.
 */
export class EvenSplitAllocator implements Allocator {
  readonly totStates: number;
  private readonly slices = new Map<string, [begin: number, size: number]>();

  constructor(
    readonly nInputs: number,
    readonly nStates: number,
  ) {
    this.totStates = nInputs + nStates;
  }

  alloc(states: readonly tf.Tensor[], sidx: readonly number[], curState: number): tf.Tensor[] {
    return states.map((s, i) => {
      const sl = this.slices.get(`${sidx[i]},${curState}`);
      if (!sl) throw new ModnasError('MODNAS_E_LAYER_DEF_STATE', `EvenSplitAllocator: no slice of state ${sidx[i]} for state ${curState}`, { fix: 'call chnIn() for every edge at build time before alloc()' });
      return tf.slice(s, [0, 0, 0, sl[0]], [-1, -1, -1, sl[1]]);
    });
  }

  chnIn(chnStates: readonly number[], sidx: readonly number[], curState: number): number[] {
    return chnStates.map((chn, i) => {
      const si = sidx[i];
      const etot = Math.min(this.nStates, this.totStates - si - 1);
      const eidx = curState - Math.max(this.nInputs, si + 1);
      const part = Math.floor(chn / etot);
      const last = eidx === etot - 1;
      const size = last ? chn - part * eidx : part;
      this.slices.set(`${si},${curState}`, [part * eidx, size]);
      return size;
    });
  }
}

/** What a layer_def does in a layer, and the config keys that take it. */
export type LayerDefRole = 'merger' | 'enumerator' | 'allocator';

interface LayerDefEntry {
  role: LayerDefRole;
  /** Its own args (the ones the layer passes, n_inputs and n_states of an allocator, are not). */
  args: Record<string, z.ZodType>;
  make(args: Record<string, unknown>, given: { nInputs: number; nStates: number; start: number }): Merger | Enumerator | Allocator;
}

const startArg = { start: z.number().int().min(0).describe('Index of the first state merged') };
const DEFS: Record<string, LayerDefEntry> = {
  ConcatMerger: { role: 'merger', args: startArg, make: (a, g) => new ConcatMerger((a.start as number | undefined) ?? g.start) },
  AvgMerger: { role: 'merger', args: startArg, make: (a, g) => new AvgMerger((a.start as number | undefined) ?? g.start) },
  SumMerger: { role: 'merger', args: startArg, make: (a, g) => new SumMerger((a.start as number | undefined) ?? g.start) },
  LastMerger: { role: 'merger', args: startArg, make: (a, g) => new LastMerger((a.start as number | undefined) ?? g.start) },
  EvenSplitAllocator: { role: 'allocator', args: {}, make: (_a, g) => new EvenSplitAllocator(g.nInputs, g.nStates) },
  ReplicateAllocator: { role: 'allocator', args: {}, make: (_a, g) => new ReplicateAllocator(g.nInputs, g.nStates) },
  CombinationEnumerator: { role: 'enumerator', args: {}, make: () => new CombinationEnumerator() },
  FirstNEnumerator: { role: 'enumerator', args: {}, make: () => new FirstNEnumerator() },
  LastNEnumerator: { role: 'enumerator', args: {}, make: () => new LastNEnumerator() },
  ReverseEnumerator: { role: 'enumerator', args: {}, make: () => new ReverseEnumerator() },
  TreeEnumerator: { role: 'enumerator', args: { width: z.number().int().min(1).describe('Branching of the tree') }, make: (a) => new TreeEnumerator((a.width as number | undefined) ?? 2) },
};

/** The original's layer_def names this plugin takes (as values of DAGLayer's and MultiChainLayer's config). */
export const LAYER_DEFS: readonly string[] = Object.keys(DEFS);

/** The names of one role. */
export const layerDefNames = (role: LayerDefRole): string[] => LAYER_DEFS.filter((n) => DEFS[n].role === role);

/** A layer_def as a config gives it: a name, `{ type, args: {...} }` or `{ type, ...args }`. */
export type LayerDefSpec = string | { type: string; args?: Record<string, unknown>; [arg: string]: unknown };

const parsed = (role: LayerDefRole, spec: LayerDefSpec, where?: string): { name: string; entry: LayerDefEntry; args: Record<string, unknown> } => {
  const type = typeof spec === 'string' ? spec : spec.type;
  const valid = layerDefNames(role);
  const name = LAYER_DEFS.find((n) => looseName(n) === looseName(type));
  const entry = name === undefined ? undefined : DEFS[name];
  if (name === undefined || entry === undefined || entry.role !== role) {
    const what = entry ? `is a ${entry.role}, not a ${role}` : 'is not a known layer_def';
    throw new ModnasError('MODNAS_E_LAYER_DEF_UNKNOWN', `${role} "${type}" ${what}; valid ${role}s: ${valid.join(', ')}`, {
      fix: `name one of ${valid.join(', ')} (case, '_' and '-' are ignored)`,
      where,
    });
  }
  let args: Record<string, unknown> = {};
  if (typeof spec !== 'string') {
    const { type: _t, args: nested, ...rest } = spec;
    args = { ...rest, ...(nested && typeof nested === 'object' ? nested : {}) };
  }
  const res = z.strictObject(Object.fromEntries(Object.entries(entry.args).map(([k, s]) => [k, s.optional()]))).safeParse(args);
  if (!res.success) {
    const keys = Object.keys(entry.args);
    throw new ModnasError('MODNAS_E_LAYER_DEF_ARGS', `${name}: bad args ${JSON.stringify(args)}: ${res.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`, {
      fix: keys.length > 0 ? `${name} takes ${keys.join(', ')}` : `${name} takes no args`,
      where,
    });
  }
  return { name, entry, args: res.data };
};

/** Build a merger; `start` is the layer's default for it (overridden by the spec's own start). */
export function buildMerger(spec: LayerDefSpec, start = 0, where?: string): Merger {
  const { entry, args } = parsed('merger', spec, where);
  return entry.make(args, { nInputs: 0, nStates: 0, start }) as Merger;
}

export function buildEnumerator(spec: LayerDefSpec, where?: string): Enumerator {
  const { entry, args } = parsed('enumerator', spec, where);
  return entry.make(args, { nInputs: 0, nStates: 0, start: 0 }) as Enumerator;
}

/** Build an allocator for a layer of nInputs inputs and nStates nodes (or chains). */
export function buildAllocator(spec: LayerDefSpec, nInputs: number, nStates: number, where?: string): Allocator {
  const { entry, args } = parsed('allocator', spec, where);
  return entry.make(args, { nInputs, nStates, start: 0 }) as Allocator;
}

/** The name a spec resolves to (its canonical spelling), or the coded error. */
export function layerDefName(role: LayerDefRole, spec: LayerDefSpec): string {
  return parsed(role, spec).name;
}

/** Config schema of a layer_def of one role: the spec, checked against the names and args of that role. */
export function layerDefSchema(role: LayerDefRole, def: string, description: string) {
  return z
    .union([z.string().min(1), z.looseObject({ type: z.string().min(1), args: z.record(z.string(), z.unknown()).optional() })])
    .superRefine((spec, ctx) => {
      try {
        parsed(role, spec);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message.split('\n')[0] });
      }
    })
    .default(def)
    .describe(description);
}
