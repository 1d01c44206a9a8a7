import { ModnasError } from '@modnas/core';
import { describeConformance } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { BullMQExecutor, bullMQExecutorSchema } from './bullmq-executor.js';

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

describe('BullMQExecutor', () => {
  it('connects lazily: creating it (config validation, conformance) opens no Redis connection', async () => {
    const ex = new BullMQExecutor(bullMQExecutorSchema.parse({ redis: 'redis://127.0.0.1:1' }));
    expect(ex.remote).toBe(true);
    expect(ex.description).toBe('BullMQ workers on queue "modnas" at redis://127.0.0.1:1');
    await ex.close();
  });

  it('refuses to open outside a run (no experiment image to ship)', async () => {
    const ex = new BullMQExecutor(bullMQExecutorSchema.parse({}));
    const ctx = { container: { isRegistered: () => false }, logger: console } as never;
    await expect(ex.open(ctx, { evaluateCandidate: async () => ({ arch: {}, score: 0, metrics: {} }) })).rejects.toSatisfy((e: unknown) => e instanceof ModnasError && e.code === 'MODNAS_E_EXECUTOR_CONTEXT');
  });
});
