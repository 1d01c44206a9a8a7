import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { BullMQExecutor, bullMQExecutor, bullMQExecutorSchema } from './bullmq-executor.js';

export { BullMQExecutor, bullMQExecutor, bullMQExecutorSchema };
export type { BullMQExecutorConfig, BullMQJobData } from './bullmq-executor.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [bullMQExecutor],
});
