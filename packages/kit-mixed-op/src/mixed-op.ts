/**
 * Mixed operators: a Module holding every candidate op of one Slot plus an arch param that says
 * how they combine (a weighted sum, a sampled path, an index). The plugins (WeightedSum, BinGate,
 * GumbelSum, Index ...) extend the classes here, so optimizers, estimators and exporters can find
 * and drive any mixed op through one small API without depending on the plugin that made it.
 */
import { z } from 'zod';
import type { ArchDescribable } from './arch-desc.js';
import { archDescOf, hasArchDesc } from './arch-desc.js';
import { ModnasError, Module, CategoricalParam, TensorParam, defineComponent, tf } from '@modnas/core';
import type { BuildContext, ComponentDef, ComponentSpec, SlotSpec, ComponentRef, ArchParam, Rng } from '@modnas/core';

/** Brand on every mixed op; a `Symbol.for` key so two copies of core still recognise each other's ops. */
export const MIXED_OP_BRAND: unique symbol = Symbol.for('@modnas/core:MixedOp');

/** The seed's MobileNetV2 candidates, used when a config names no primitives. */
export const DEFAULT_PRIMITIVES: readonly string[] = ['MB3E3', 'MB3E6', 'MB5E3', 'MB5E6', 'MB7E3', 'MB7E6'];

/** A candidate as a config names it: a primitive id, or `{ type: Id, ...args }`. */
export type PrimitiveSpec = string | ComponentSpec;

export interface MixedOpCandidate {
  /** Unique within the op: the primitive id, with `_1`, `_2` ... appended to repeats. */
  name: string;
  /** What it was built from. */
  spec: PrimitiveSpec;
  module: Module;
}

const primitiveSpecSchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

/**
 * Config keys every mixed op has. DefaultMixedOpConstructor passes `{ ...mixed_op, primitives }`,
 * so `primitives` lives in the mixed op's own config.
 */
export function mixedOpConfigShape(defaultPrefix: string) {
  return {
    primitives: z
      .array(primitiveSpecSchema)
      .min(1)
      .default(() => [...DEFAULT_PRIMITIVES])
      .describe('Candidate ops: primitive ids or { type, ...args } specs, each built for the Slot this mixed op fills'),
    param: z
      .string()
      .default('')
      .describe('Name of the arch param; an existing param of that name is shared (one param for several mixed ops). Empty: a new param named <prefix>_<n>'),
    prefix: z.string().min(1).default(defaultPrefix).describe('Prefix of the generated arch param name'),
  };
}

/** Config keys of the mixed ops whose arch param is a logits tensor α. */
export function tensorMixedOpConfigShape(defaultPrefix = 't') {
  return {
    ...mixedOpConfigShape(defaultPrefix),
    init: z.enum(['normal', 'zeros']).default('normal').describe('Initial α: normal (std 1e-3, seeded; as the original) or zeros'),
  };
}

/** `refs()` of a mixed op: its primitives, validated before anything is built. */
export function mixedOpRefs(config: { primitives: readonly PrimitiveSpec[] }): ComponentRef[] {
  return config.primitives.map((spec, i) => ({ kind: 'primitive' as const, spec, path: `primitives.${i}` }));
}

/** The config keys a mixed op over a tensor α has (tensorMixedOpConfigShape). */
export interface TensorMixedOpConfig extends MixedOpConfig {
  init: 'normal' | 'zeros';
}

/** The config keys every mixed op has (mixedOpConfigShape). */
export interface MixedOpConfig {
  primitives: PrimitiveSpec[];
  param: string;
  prefix: string;
}

/**
 * A mixed-op component: its primitives are validated before anything is built (refs) and its
 * candidates built for the Slot it fills here, once for every mixed op; `make` puts the op
 * together from them (and makes or shares its arch param).
 */
export function defineMixedOp<S extends z.ZodType<MixedOpConfig>>(def: {
  id: string;
  aliases?: readonly string[];
  description: string;
  schema: S;
  make(candidates: MixedOpCandidate[], config: z.output<S>, ctx: BuildContext): MixedOp;
}): ComponentDef<'mixed-op', S> {
  return defineComponent({
    kind: 'mixed-op',
    id: def.id,
    aliases: def.aliases,
    description: def.description,
    schema: def.schema,
    refs: mixedOpRefs,
    async create(config, ctx, slot) {
      const candidates = await buildCandidates(ctx, config.primitives, slot);
      try {
        return def.make(candidates, config, ctx);
      } catch (e) {
        for (const c of candidates) c.module.dispose();
        throw e;
      }
    },
  });
}

/**
 * A mixed op whose arch param is a logits tensor α over its candidates (WeightedSum, GumbelSum,
 * BinGate): α is made here (a named param shared, else a new one), `make` gets it.
 */
export function defineTensorMixedOp<S extends z.ZodType<TensorMixedOpConfig>>(def: {
  id: string;
  aliases?: readonly string[];
  description: string;
  schema: S;
  make(candidates: MixedOpCandidate[], alpha: TensorParam, config: z.output<S>, ctx: BuildContext): MixedOp;
}): ComponentDef<'mixed-op', S> {
  return defineMixedOp({
    ...def,
    make: (candidates, config, ctx) => def.make(candidates, tensorArchParam(ctx, candidates.length, { name: config.param, prefix: config.prefix, init: config.init }), config, ctx),
  });
}

function specType(spec: PrimitiveSpec): string {
  return typeof spec === 'string' ? spec : spec.type;
}

/** Build every candidate for the Slot through the registry (`ctx.build('primitive', spec, slot)`). */
export async function buildCandidates(ctx: BuildContext, primitives: readonly PrimitiveSpec[], slot: SlotSpec | undefined): Promise<MixedOpCandidate[]> {
  if (!slot) {
    throw new ModnasError('MODNAS_E_MIXEDOP_INPUT', 'a mixed op was created without the Slot it fills (chnIn, chnOut, stride)', {
      fix: "build mixed ops through a constructor, or pass the slot: ctx.build('mixed-op', spec, { chnIn, chnOut, stride })",
      where: ctx.where,
    });
  }
  if (primitives.length === 0) {
    throw new ModnasError('MODNAS_E_MIXEDOP_EMPTY', 'a mixed op needs at least one primitive', { fix: 'list candidate ops under primitives, e.g. [MB3E3, MB3E6]', where: ctx.where });
  }
  const out: MixedOpCandidate[] = [];
  const used = new Set<string>();
  try {
    for (const [i, spec] of primitives.entries()) {
      const base = specType(spec);
      let name = base;
      for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
      used.add(name);
      const module = await ctx.build('primitive', spec, { ...slot }, `${ctx.where}.primitives.${i}`);
      out.push({ name, spec, module });
    }
  } catch (e) {
    for (const c of out) c.module.dispose();
    throw e;
  }
  return out;
}

/** Softmax of plain numbers (max-shifted). */
export function softmaxOf(values: readonly number[]): number[] {
  const m = Math.max(...values);
  const e = values.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * The base of every mixed op. Candidates are child modules under their names (so weights have
 * paths like `impl.MB3E6.0.weight`); subclasses say which candidate is chosen and how the
 * candidates combine in `forward` (which may depend on `this.training`).
 *
 * API for optimizers, estimators and exporters:
 * - `candidates()`, `candidateNames()`, `candidateSpecs()`, `numCandidates`
 * - `archParam`: the op's arch param (`alpha` on tensor ops, `param` on Index)
 * - `probs()`: the op's distribution over candidates (softmax(α), or one-hot of the index)
 * - `chosenIndex()`: the candidate an export picks (argmax α, or the categorical value)
 * - `sampledIndex`: the candidate the last forward ran, when it ran exactly one
 * - `toArchDesc()`: the chosen candidate's desc (its own `toArchDesc()`, else its spec: the primitive id)
 */
export abstract class MixedOp extends Module implements ArchDescribable {
  readonly [MIXED_OP_BRAND] = true;
  private readonly cands: readonly MixedOpCandidate[];

  constructor(candidates: readonly MixedOpCandidate[]) {
    super();
    if (candidates.length === 0) throw new ModnasError('MODNAS_E_MIXEDOP_EMPTY', `${this.constructor.name} needs at least one candidate`);
    this.cands = [...candidates];
    for (const c of this.cands) this.addModule(c.name.replace(/\./g, '_'), c.module);
  }

  /** The arch param that controls this op. */
  abstract get archParam(): ArchParam;

  /** Probability (or weight) of each candidate, in candidate order. */
  abstract probs(): number[];

  /** The candidate an exported architecture keeps. */
  abstract chosenIndex(): number;

  /** The candidate the last forward ran, if it ran exactly one (sampling and index ops). */
  get sampledIndex(): number | undefined {
    return undefined;
  }

  get numCandidates(): number {
    return this.cands.length;
  }

  candidates(): Module[] {
    return this.cands.map((c) => c.module);
  }

  candidateNames(): string[] {
    return this.cands.map((c) => c.name);
  }

  candidateSpecs(): PrimitiveSpec[] {
    return this.cands.map((c) => c.spec);
  }

  /** Description of candidate i: the module's own `toArchDesc()` if it has one, else its spec. */
  candidateDesc(i: number): unknown {
    const c = this.cands[i];
    if (!c) throw new ModnasError('MODNAS_E_MIXEDOP_INDEX', `${this.constructor.name} has no candidate ${i} (it has ${this.cands.length})`);
    return hasArchDesc(c.module) ? archDescOf(c.module) : c.spec;
  }

  toArchDesc(): unknown {
    return this.candidateDesc(this.chosenIndex());
  }

  /** Descs of the k most probable candidates, best first (the original's `to_arch_desc(k)`). */
  topK(k = 1): unknown[] {
    const p = this.probs();
    return p
      .map((v, i) => [v, i] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, Math.max(0, k))
      .map(([, i]) => this.candidateDesc(i));
  }

  override describe(): string {
    return `${this.archParam.name}: ${this.candidateNames().join(', ')}`;
  }

  /** Every mixed op of a network, pre-order with its path (the original's `MixedOp.gen`). */
  static find(model: Module): Array<[string, MixedOp]> {
    const out: Array<[string, MixedOp]> = [];
    for (const [path, m] of model.modules()) if (isMixedOp(m)) out.push([path, m]);
    return out;
  }
}

export function isMixedOp(m: unknown): m is MixedOp {
  return typeof m === 'object' && m !== null && (m as Record<symbol, unknown>)[MIXED_OP_BRAND] === true;
}

/** A mixed op driven by a logits tensor α of shape [numCandidates] (DARTS, SNAS, ProxylessNAS). */
export abstract class TensorMixedOp extends MixedOp {
  readonly alpha: TensorParam;

  constructor(candidates: readonly MixedOpCandidate[], alpha: TensorParam) {
    super(candidates);
    if (alpha.shape.length !== 1 || alpha.shape[0] !== candidates.length) {
      throw new ModnasError('MODNAS_E_MIXEDOP_PARAM', `arch param "${alpha.name}" has shape [${alpha.shape}], but ${this.constructor.name} has ${candidates.length} candidates`, {
        fix: `share a param only between mixed ops with the same number of candidates (shape [${candidates.length}])`,
      });
    }
    this.alpha = alpha;
  }

  get archParam(): TensorParam {
    return this.alpha;
  }

  /** softmax(α). */
  probs(): number[] {
    return softmaxOf(this.alpha.toArray());
  }

  /** argmax α. */
  chosenIndex(): number {
    return this.alpha.argmax();
  }

  /** Σ_i w_i · out_i, with w a [numCandidates] tensor (gradients flow into w and the outputs). */
  protected weightedSum(outputs: readonly tf.Tensor[], weights: tf.Tensor): tf.Tensor {
    const ws = tf.unstack(weights);
    return tf.addN(outputs.map((o, i) => tf.mul(o, ws[i])));
  }
}

/** A mixed op that runs the one candidate a categorical param names (SPOS, evolution, random search). */
export abstract class CategoricalMixedOp extends MixedOp {
  readonly param: CategoricalParam;

  constructor(candidates: readonly MixedOpCandidate[], param: CategoricalParam) {
    super(candidates);
    const names = candidates.map((c) => c.name);
    if (param.choices.length !== names.length || param.choices.some((v, i) => v !== names[i])) {
      throw new ModnasError('MODNAS_E_MIXEDOP_PARAM', `arch param "${param.name}" has choices ${JSON.stringify(param.choices)}, but ${this.constructor.name} has candidates ${JSON.stringify(names)}`, {
        fix: 'share a categorical param only between mixed ops with the same primitives',
      });
    }
    this.param = param;
  }

  get archParam(): CategoricalParam {
    return this.param;
  }

  /** One-hot of the current index. */
  probs(): number[] {
    return this.candidateNames().map((_, i) => (i === this.param.index ? 1 : 0));
  }

  chosenIndex(): number {
    return this.param.index;
  }
}

/** What the param helpers need of a BuildContext. */
export interface ArchParamHost {
  readonly space: BuildContext['space'];
  readonly rng: Rng;
  readonly where?: string;
}

/**
 * The α of a tensor mixed op: the param named `name` when it exists (shared), else a new
 * TensorParam of shape [size] in the space, named `name` or `<prefix>_<n>`.
 */
export function tensorArchParam(host: ArchParamHost, size: number, opts: { name?: string; prefix: string; init?: 'normal' | 'zeros' }): TensorParam {
  if (opts.name && host.space.has(opts.name)) {
    const p = host.space.get(opts.name);
    if (p.type !== 'tensor') {
      throw new ModnasError('MODNAS_E_MIXEDOP_PARAM', `arch param "${opts.name}" is a ${p.type} param, but this mixed op needs a tensor param to share`, { fix: 'use another name under param', where: host.where });
    }
    return p as TensorParam;
  }
  const init = opts.init === 'zeros' ? 'zeros' : Array.from({ length: size }, () => 1e-3 * host.rng.normal());
  return host.space.add(new TensorParam({ name: opts.name || undefined, shape: [size], init }), opts.prefix);
}

/**
 * The param of an index mixed op: the categorical param named `name` when it exists (shared),
 * else a new one over `choices` whose initial value is `initial` (default: drawn from host.rng).
 */
export function categoricalArchParam(host: ArchParamHost, choices: readonly string[], opts: { name?: string; prefix: string; initial?: number }): CategoricalParam {
  if (opts.name && host.space.has(opts.name)) {
    const p = host.space.get(opts.name);
    if (p.type !== 'categorical') {
      throw new ModnasError('MODNAS_E_MIXEDOP_PARAM', `arch param "${opts.name}" is a ${p.type} param, but this mixed op needs a categorical param to share`, { fix: 'use another name under param', where: host.where });
    }
    return p as CategoricalParam;
  }
  const initial = opts.initial ?? host.rng.int(choices.length);
  return host.space.add(new CategoricalParam({ name: opts.name || undefined, choices, default: initial }), opts.prefix);
}
