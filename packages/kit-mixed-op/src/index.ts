export type { ArchDescribable, ArchDescConvert, BuildsFromArchDesc } from './arch-desc.js';
export { hasArchDesc, archDescOf, unwrapArchDesc, parseArchDesc, writeArchDesc } from './arch-desc.js';
export type { PrimitiveSpec, MixedOpCandidate, ArchParamHost, MixedOpConfig, TensorMixedOpConfig } from './mixed-op.js';
export { MIXED_OP_BRAND, DEFAULT_PRIMITIVES, mixedOpConfigShape, tensorMixedOpConfigShape, mixedOpRefs, defineMixedOp, defineTensorMixedOp, buildCandidates, softmaxOf, MixedOp, isMixedOp, TensorMixedOp, CategoricalMixedOp, tensorArchParam, categoricalArchParam } from './mixed-op.js';
export type { MixedOpConstructorConfig } from './build.js';
export { primitiveId, mixedOpSpec, candidatesOf, mixedOpConstructorRefs, buildMixedOp } from './build.js';
export type { FillOptions } from './slot-fill.js';
export { resolveArchDesc, slotSpec, isOpSpec, entrySpec, fillSlotsFromArchDesc, archDescRefs } from './slot-fill.js';
export { fixCandidates, chosen, opInputShapes } from './subnet.js';
