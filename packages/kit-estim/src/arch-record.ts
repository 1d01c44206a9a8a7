/**
 * What the dashboard (@modnas/ui) draws besides metrics: the network's Slots with their shapes and
 * candidates (stream 'slots', once per estimator), and for gradient methods softmax(α) of every
 * mixed op after each epoch (stream 'alpha', and the 'epoch:end' event for the run's TensorBoard
 * files). Both are small: a few numbers per mixed op.
 * Mixed ops live in kit-mixed-op, which kits do not import, so they are recognised by their API
 * (`candidateNames()`, `probs()`, `archParam`).
 */
import type { AlphaProbs, EstimContext, Module } from '@modnas/core';
import type { SlotRecord } from '@modnas/services';
import { Slot } from '@modnas/core';

interface MixedOpLike {
  candidateNames(): string[];
  probs(): number[];
  readonly archParam: { readonly name: string; readonly type: string };
}

function asMixedOp(m: Module | undefined): MixedOpLike | undefined {
  const x = m as unknown as Partial<MixedOpLike> | undefined;
  return x && typeof x.candidateNames === 'function' && typeof x.probs === 'function' && typeof x.archParam?.name === 'string' ? (x as MixedOpLike) : undefined;
}


/** The Slots of the estimator's model, in traversal order (the order arch descriptions use). */
export function describeSlots(model: Module): SlotRecord[] {
  return Slot.find(model).map(([path, s]) => {
    const op = asMixedOp(s.impl);
    return { path, chnIn: s.chnIn, chnOut: s.chnOut, stride: s.stride, ...(op ? { param: op.archParam.name, candidates: op.candidateNames() } : {}) };
  });
}

/** softmax(α) of every mixed op driven by a tensor param, one entry per param (shared params once). */
export function alphaProbs(model: Module): AlphaProbs[] {
  const seen = new Set<string>();
  const out: AlphaProbs[] = [];
  for (const [, m] of model.modules()) {
    const op = asMixedOp(m);
    if (!op || op.archParam.type !== 'tensor' || seen.has(op.archParam.name)) continue;
    seen.add(op.archParam.name);
    out.push({ param: op.archParam.name, candidates: op.candidateNames(), probs: op.probs().map((p) => Math.round(p * 1e6) / 1e6) });
  }
  return out;
}

const slotsWritten = new WeakSet<EstimContext>();

/** Contexts built by hand (tests, tools) may carry no network. */
const hasModel = (ctx: EstimContext): boolean => typeof (ctx.model as Partial<Module> | undefined)?.modules === 'function';

/** Write the 'slots' record the first time an estimator reports (no-op for a model without Slots). */
export function recordSlots(ctx: EstimContext): void {
  if (slotsWritten.has(ctx) || !hasModel(ctx)) return;
  slotsWritten.add(ctx);
  const slots = describeSlots(ctx.model);
  if (slots.length > 0) ctx.store.append('slots', { estim: ctx.name, slots, time: new Date().toISOString() });
}

/**
 * Write softmax(α) after an epoch (stream 'alpha') and return it for the 'epoch:end' event (the
 * run's TensorBoard writer draws it); undefined when the model has no tensor-driven mixed op.
 */
export function recordAlpha(ctx: EstimContext, epoch: number): AlphaProbs[] | undefined {
  if (!hasModel(ctx)) return undefined;
  const ops = alphaProbs(ctx.model);
  if (ops.length === 0) return undefined;
  ctx.store.append('alpha', { estim: ctx.name, epoch, ops, time: new Date().toISOString() });
  return ops;
}
