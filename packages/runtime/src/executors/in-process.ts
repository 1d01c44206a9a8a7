import type { EstimContext } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { inProcessSession } from '@modnas/kit-estim';
import type { CandidateEvaluator, Executor, ExecutorSession } from '@modnas/services';

export const inProcessExecutorSchema = z.strictObject({});

/** The default: candidates evaluated one by one in the run's own process, on its own network. */
export class InProcessExecutor implements Executor {
  readonly description = 'the run process';
  readonly remote = false;

  async open(ctx: EstimContext, evaluator: CandidateEvaluator): Promise<ExecutorSession> {
    return inProcessSession(ctx, evaluator);
  }

  async close(): Promise<void> {}
}

export const inProcessExecutor = defineComponent({
  kind: 'executor',
  id: 'InProcessExecutor',
  description: 'Evaluates candidates one by one in the run process (the default)',
  schema: inProcessExecutorSchema,
  create: () => new InProcessExecutor(),
});
