export { componentRng, CategoricalSpaceOptim } from './categorical-optim.js';
export type { AdamArgs, AdamState, GradientOptimizerState } from './grad-optim.js';
export { DARTS_ADAM_DEFAULTS, adamArgsFields, adamArgsOf, ArchAdam, GradientSearchOptimizer, gradsOf, argmaxAssignment } from './grad-optim.js';
export type { LatencyConstraint } from './latency-constraint.js';
export { CONSTRAINT_CODE, NO_LATENCY_CONSTRAINT, isFeasible, latencyConstraintFields, latencyConstraintOf, latencyViolation } from './latency-constraint.js';
