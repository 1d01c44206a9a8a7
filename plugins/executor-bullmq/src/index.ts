import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { BullMQExecutor, bullMQExecutor, bullMQExecutorSchema } from './bullmq-executor.js';

export { BullMQExecutor, bullMQExecutor, bullMQExecutorSchema };
export type { BullMQExecutorConfig, BullMQJobData } from './bullmq-executor.js';
export { STOP_WITHOUT_REDIS_MS, connectionUrl } from './bullmq-executor.js';
export type { Secret } from './auth.js';
export { REDIS_PASSWORD_ENV, SECRET_ENV, SECRET_FILE_ENV, WORKER_AUTH_CODE, loadSecret, openJob, redactUrl, signJob } from './auth.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [bullMQExecutor],
});
