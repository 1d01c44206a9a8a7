import type { BuildContext, ComponentRef, ComponentSpec, Module, Slot, SlotSpec } from '@modnas/core';
import { ModnasError, Sequential, looseName, tf, z } from '@modnas/core';

/** Shared by DAGLayer and MultiChainLayer: their preprocessing, edges and channel checks. */

const specSchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

export const preprocSchema = z
  .union([specSchema, z.array(specSchema).min(1)])
  .nullable()
  .default(null)
  .describe("Primitives run on the inputs first (the original's preproc): one per input (a Slot has one), or one spec for all; each maps the input to edge_kwargs._chn_in channels (default: DAGLayer the Slot's chnOut, MultiChainLayer its chnIn) at stride 1. null: none");

export const edgeClsSchema = specSchema
  .default('Slot')
  .describe("What each edge is (the original's edge_cls): 'Slot' (an empty Slot, for a constructor to fill: a search over the edges), or a primitive spec whose op fills every edge's Slot");

export const edgeKwargsSchema = z
  .record(z.string(), z.unknown())
  .default({})
  .describe("Arguments of every edge (the original's edge_kwargs): _chn_in (an int, or a list whose length is the number of states each edge reads; also the channels preproc maps to), _chn_out (DAGLayer: the edges' output channels, default the Slot's chnOut); _stride is set by the layer; other keys become the edge Slots' args");

export const nameSchema = z.string().min(1).nullable().default(null).describe('Edges are named <name>_<index> (arch params shared by name across layers with the same name); null: unnamed');

export type PrimitiveSpec = string | ComponentSpec;

/** The edge_kwargs keys the layers read; the rest go into the edge Slots' args. */
export interface EdgeKwargs {
  /** Channels preproc maps each input to. */
  chnCur: number | undefined;
  /** States each edge reads (the original's n_input_e). */
  edgeInputs: number;
  /** Explicit output channels of the edges. */
  chnOut: number | undefined;
  args: Record<string, unknown>;
}

const badArgs = (layer: string, what: string, where: string, fix: string): ModnasError => new ModnasError('MODNAS_E_LAYER_ARGS', `${layer}: ${what}`, { fix, where });

const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

export function edgeKwargs(layer: string, kw: Record<string, unknown>, where: string, aliases: readonly string[] = []): EdgeKwargs {
  const { _chn_in, _chn_out, _stride: _s, ...rest } = kw;
  let chnInGiven = _chn_in;
  for (const a of aliases) {
    if (chnInGiven === undefined || chnInGiven === null) chnInGiven = rest[a];
    delete rest[a];
  }
  let chnCur: number | undefined;
  let edgeInputs = 1;
  if (chnInGiven !== undefined && chnInGiven !== null) {
    const list = Array.isArray(chnInGiven) ? (chnInGiven as unknown[]) : [chnInGiven];
    if (list.length === 0 || !list.every(posInt)) throw badArgs(layer, `edge_kwargs._chn_in must be a positive int or a list of them, got ${JSON.stringify(chnInGiven)}`, `${where}.edge_kwargs._chn_in`, 'give e.g. 16 or [16]');
    chnCur = list[0];
    edgeInputs = Array.isArray(chnInGiven) ? list.length : 1;
  }
  if (_chn_out !== undefined && _chn_out !== null && !posInt(_chn_out)) throw badArgs(layer, `edge_kwargs._chn_out must be a positive int, got ${JSON.stringify(_chn_out)}`, `${where}.edge_kwargs._chn_out`, 'give e.g. 16, or leave it out');
  return { chnCur, edgeInputs, chnOut: _chn_out ?? undefined, args: rest };
}

/** The preproc specs, one per input. */
export function preprocSpecs(layer: string, preproc: PrimitiveSpec | PrimitiveSpec[] | null, nInputs: number, where: string): PrimitiveSpec[] | null {
  if (preproc === null) return null;
  const list = Array.isArray(preproc) ? preproc : Array.from({ length: nInputs }, () => preproc);
  if (list.length !== nInputs) throw badArgs(layer, `preproc has ${list.length} entries for ${nInputs} input(s)`, `${where}.preproc`, `give ${nInputs} preproc spec(s), one per input`);
  return list;
}

export async function buildPreprocs(specs: PrimitiveSpec[], chnIn: readonly number[], chnCur: number, ctx: BuildContext): Promise<Module[]> {
  const out: Module[] = [];
  try {
    for (let i = 0; i < specs.length; i++) out.push(await ctx.build('primitive', specs[i], { chnIn: chnIn[i], chnOut: chnCur, stride: 1 }, `${ctx.where}.preproc.${i}`));
  } catch (e) {
    for (const m of out) m.dispose();
    throw e;
  }
  return out;
}

export const isSlotCls = (spec: PrimitiveSpec): boolean => typeof spec === 'string' && looseName(spec) === 'slot';

/** Fill every edge Slot with the edge_cls primitive (built for that Slot's spec). */
export async function fillEdges(slots: readonly Slot[], edgeCls: PrimitiveSpec, ctx: BuildContext): Promise<void> {
  if (isSlotCls(edgeCls)) return;
  for (const s of slots) s.fill(await ctx.build('primitive', edgeCls, { chnIn: s.chnIn, chnOut: s.chnOut, stride: s.stride, args: s.args }, `${ctx.where}.edge_cls`));
}

/** A layer filling a Slot must give the Slot's chnOut. */
export function checkChannels(layer: string, got: number, slot: SlotSpec, where: string, fix: string): void {
  if (got !== slot.chnOut) throw new ModnasError('MODNAS_E_LAYER_CHANNELS', `${layer} built for a Slot ${slot.chnIn}->${slot.chnOut} (stride ${slot.stride}) would output ${got} channels, not ${slot.chnOut}`, { fix, where });
}

/** The refs of the primitives a layer config names (preproc, edge_cls), for up-front validation. */
export function layerRefs(c: { preproc: PrimitiveSpec | PrimitiveSpec[] | null; edge_cls: PrimitiveSpec }): ComponentRef[] {
  const refs: ComponentRef[] = [];
  if (c.preproc !== null) {
    if (Array.isArray(c.preproc)) c.preproc.forEach((p, i) => refs.push({ kind: 'primitive', spec: p, path: `preproc.${i}` }));
    else refs.push({ kind: 'primitive', spec: c.preproc, path: 'preproc' });
  }
  if (!isSlotCls(c.edge_cls)) refs.push({ kind: 'primitive', spec: c.edge_cls, path: 'edge_cls' });
  return refs;
}

/** An edge reading several states reads them concatenated along channels (a Slot here takes one tensor). */
export const edgeInput = (xs: readonly tf.Tensor[]): tf.Tensor => (xs.length === 1 ? xs[0] : tf.concat(xs as tf.Tensor[], 3));

/**
 * A layer's preprocessing: one module per input, added to `layer` as `preprocs`, each giving
 * `chnPreproc` channels; the input states' channels (the raw inputs' without preprocs).
 */
export function addPreprocs(layer: Module, o: { preprocs?: readonly Module[]; chnPreproc?: number }, chnIn: readonly number[], cls: string, where: string): { preprocs: Sequential | undefined; chnStates: number[] } {
  if (!o.preprocs) return { preprocs: undefined, chnStates: [...chnIn] };
  if (o.preprocs.length !== chnIn.length || o.chnPreproc === undefined) {
    throw new ModnasError('MODNAS_E_LAYER_ARGS', `${cls}: ${o.preprocs.length} preproc module(s) for ${chnIn.length} input(s)${o.chnPreproc === undefined ? ', and no chnPreproc' : ''}`, { fix: 'give one preproc per input and their output channels', where });
  }
  return { preprocs: layer.addModule('preprocs', new Sequential([...o.preprocs])), chnStates: chnIn.map(() => o.chnPreproc as number) };
}

/** A layer's input states: one tensor per input (else MODNAS_E_MODEL_INPUT), each through its preproc. */
export function inputStates(cls: string, nInput: number, preprocs: Sequential | undefined, xs: readonly tf.Tensor[]): tf.Tensor[] {
  if (xs.length !== nInput) {
    throw new ModnasError('MODNAS_E_MODEL_INPUT', `${cls} has ${nInput} input(s), got ${xs.length}`, { fix: `run it with ${nInput} tensor(s)` });
  }
  return preprocs ? xs.map((x, i) => preprocs.at(i).call(x)) : [...xs];
}
