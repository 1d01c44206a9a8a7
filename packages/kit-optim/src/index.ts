export { componentRng, CategoricalSpaceOptim } from './categorical-optim.js';
export type { Encoder } from './encoding.js';
export { MAX_PATH_FEATURES, adjacencyEncoder, pathEncoder } from './encoding.js';
export type { EnsembleOptions, FittedEnsemble, Prediction } from './ensemble.js';
export { fitEnsemble } from './ensemble.js';
export type { AdamArgs, AdamState, GradientOptimizerState } from './grad-optim.js';
export { DARTS_ADAM_DEFAULTS, adamArgsFields, adamArgsOf, ArchAdam, GradientSearchOptimizer, gradsOf, argmaxAssignment } from './grad-optim.js';
export type { LatencyConstraint } from './latency-constraint.js';
export { CONSTRAINT_CODE, NO_LATENCY_CONSTRAINT, isFeasible, latencyConstraintFields, latencyConstraintOf, latencyViolation } from './latency-constraint.js';
