import type { DependencyContainer } from 'tsyringe';
import type { EstimCheckpoints } from '@modnas/core';
import { Tokens, resolveToken } from '@modnas/core';

const NO_CHECKPOINTS: EstimCheckpoints = { resumed: () => undefined, save: () => undefined };

/**
 * The experiment's checkpoints as an estimator sees them (Tokens.Checkpoints, bound by the
 * runner): `resumed()` is the position the estimator saved in the checkpoint being resumed, and
 * `save(kind, position)` is called at each epoch or candidate boundary. A no-op outside the
 * runner (unit tests).
 */
export function estimCheckpoints(ctx: { container: DependencyContainer }): EstimCheckpoints {
  return resolveToken(ctx.container, Tokens.Checkpoints) ?? NO_CHECKPOINTS;
}
