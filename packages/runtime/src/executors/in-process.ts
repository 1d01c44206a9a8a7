import { defineComponent, z } from '@modnas/core';
import { InProcessExecutor } from '@modnas/kit-estim';

export const inProcessExecutorSchema = z.strictObject({});

/** The default executor as a component (`executor: { type: InProcessExecutor }`); the executor itself is kit-estim's. */
export const inProcessExecutor = defineComponent({
  kind: 'executor',
  id: 'InProcessExecutor',
  description: 'Evaluates candidates one by one in the run process (the default)',
  schema: inProcessExecutorSchema,
  create: () => new InProcessExecutor(),
});
