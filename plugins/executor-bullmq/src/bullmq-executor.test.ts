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

  it('shows its Redis without the password', () => {
    const ex = new BullMQExecutor(bullMQExecutorSchema.parse({ redis: 'redis://alice:s3cr3t@10.0.0.5:6379' }));
    expect(ex.description).toBe('BullMQ workers on queue "modnas" at redis://alice:***@10.0.0.5:6379');
  });

  it('preflight: no shared secret stops the run before any training (MODNAS_E_WORKER_AUTH); with one it says where it came from', async () => {
    const saved = { file: process.env.MODNAS_WORKER_SECRET_FILE, value: process.env.MODNAS_WORKER_SECRET };
    delete process.env.MODNAS_WORKER_SECRET_FILE;
    delete process.env.MODNAS_WORKER_SECRET;
    const lines: string[] = [];
    const logger = { debug: () => undefined, info: (l: string) => lines.push(l), warn: (l: string) => lines.push(`warn ${l}`), error: () => undefined };
    try {
      await expect(new BullMQExecutor(bullMQExecutorSchema.parse({})).preflight(logger)).rejects.toSatisfy((e: unknown) => e instanceof ModnasError && e.code === 'MODNAS_E_WORKER_AUTH');
      process.env.MODNAS_WORKER_SECRET = 'k'.repeat(32);
      await new BullMQExecutor(bullMQExecutorSchema.parse({ redis: 'redis://u:pw@h:1' })).preflight(logger);
      expect(lines).toEqual([expect.stringMatching(/^warn executor: the Redis URL carries its password/), 'executor: jobs and results are signed with the shared secret from MODNAS_WORKER_SECRET']);
    } finally {
      for (const [k, v] of [['MODNAS_WORKER_SECRET_FILE', saved.file], ['MODNAS_WORKER_SECRET', saved.value]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('refuses to open outside a run (no experiment image to ship)', async () => {
    const ex = new BullMQExecutor(bullMQExecutorSchema.parse({}));
    const ctx = { container: { isRegistered: () => false }, logger: console } as never;
    await expect(ex.open(ctx, { evaluateCandidate: async () => ({ arch: {}, score: 0, metrics: {} }) })).rejects.toSatisfy((e: unknown) => e instanceof ModnasError && e.code === 'MODNAS_E_EXECUTOR_CONTEXT');
  });
});
