import type { BuildContext, ComponentRef, ComponentSpec, Module, Slot } from '@modnas/core';
import type { PrimitiveSpec } from './mixed-op.js';

/** The keys a constructor that fills Slots with mixed ops reads (DefaultMixedOpConstructor, MobileNetV2SearchConstructor). */
export interface MixedOpConstructorConfig {
  mixed_op: string | ComponentSpec;
  primitives: readonly PrimitiveSpec[];
  /** The original's name for primitives; used instead of them when given. */
  candidates: readonly PrimitiveSpec[] | null;
}

/** The id a candidate spec names. */
export const primitiveId = (p: PrimitiveSpec): string => (typeof p === 'string' ? p : p.type);

/** The mixed-op spec for a list of candidates: `{ ...mixed_op, primitives }` (mixed_op's own primitives win). */
export function mixedOpSpec(mixedOp: string | ComponentSpec, primitives: readonly PrimitiveSpec[]): ComponentSpec {
  const spec: ComponentSpec = typeof mixedOp === 'string' ? { type: mixedOp } : { ...mixedOp };
  const args = spec.args as Record<string, unknown> | undefined;
  return 'primitives' in spec || (args && typeof args === 'object' && 'primitives' in args) ? spec : { ...spec, primitives: [...primitives] };
}

export function candidatesOf(config: Pick<MixedOpConstructorConfig, 'primitives' | 'candidates'>): PrimitiveSpec[] {
  return [...((config.candidates ?? config.primitives) as PrimitiveSpec[])];
}

/** What a mixed-op constructor refers to: the mixed op (with its primitives) and each primitive. */
export function mixedOpConstructorRefs(config: MixedOpConstructorConfig): ComponentRef[] {
  const prims = candidatesOf(config);
  return [
    { kind: 'mixed-op', spec: mixedOpSpec(config.mixed_op, prims), path: 'mixed_op' },
    ...prims.map((p, i): ComponentRef => ({ kind: 'primitive', spec: p, path: `${config.candidates ? 'candidates' : 'primitives'}.${i}` })),
  ];
}

/** Build the mixed op for one Slot through the registry (the mixed op builds its candidates). */
export async function buildMixedOp(slot: Slot, mixedOp: string | ComponentSpec, primitives: readonly PrimitiveSpec[], ctx: BuildContext, at?: string): Promise<Module> {
  return ctx.build('mixed-op', mixedOpSpec(mixedOp, primitives), { chnIn: slot.chnIn, chnOut: slot.chnOut, stride: slot.stride, args: slot.args }, at);
}
