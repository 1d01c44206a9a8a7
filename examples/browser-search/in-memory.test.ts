// The page's search, in Node: runtime's runInMemory (what the page runs, with no files) on the
// quickstart's config, shrunk to seconds, finds what runExperiment finds on the same plan and
// backend: the same best architecture, score and metrics; its run is in the memory store, done.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '@modnas/core';
import { prepareExperiment, runExperiment, runInMemory } from '@modnas/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const quickstart = fileURLToPath(new URL('../quickstart/search.yaml', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'modnas-in-memory-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const overrides = [
  `output_dir=${out}`,
  'data_provider={train_portion: 0.5, train_size: 48, valid_size: 32}',
  'trainer.batch_size=16',
  'trainer.warmup_steps=0',
  'estim.warmup.epochs=1',
  'estim.search.epochs=1',
];

describe('runInMemory (the browser page\'s search)', () => {
  it('finds what runExperiment finds on the same plan, writes no file, and leaves its run done in the memory store', async () => {
    const { plan } = await prepareExperiment([quickstart], overrides);
    const onDisk = await runExperiment(plan, { persist: false });
    // runInMemory runs on the backend set (a page chooses its own): the one runExperiment chose
    expect(tf.getBackend()).toBe(onDisk.backend.backend);
    const mem = await runInMemory(plan);
    try {
      expect(Object.keys(mem.estims)).toEqual(['warmup', 'search']);
      const [a, b] = [onDisk.estims.search, mem.estims.search];
      expect(a.best).toBeDefined();
      expect(b.best?.arch).toEqual(a.best?.arch);
      expect(b.best?.score).toBeCloseTo(a.best!.score, 6);
      expect(b.metrics).toEqual(a.metrics);
      expect(mem.spaceSize).toBe(onDisk.spaceSize);
      // the exporter's description of the found network: the fixed first block, then one primitive per searchable block
      const desc = b.exports.default as string[];
      expect(desc).toHaveLength(1 + Object.keys(b.best!.arch).length);
      expect(desc[0]).toBe('MB3E1');
      for (const d of desc.slice(1)) expect(parse(readFileSync(quickstart, 'utf8')).construct.search.primitives.concat('NIL')).toContain(d);
      const [run] = mem.store.runs();
      expect(run).toMatchObject({ id: mem.run, status: 'done', experiment: 'quickstart' });
      expect(mem.store.read('candidates').length).toBeGreaterThan(0);
    } finally {
      await mem.dispose();
    }
  }, 180_000);

  it('refuses what needs a process or files (a remote executor, callbacks), naming the key', async () => {
    const { plan } = await prepareExperiment([quickstart], [...overrides, 'executor={type: WorkerThreadsExecutor}']);
    await expect(runInMemory(plan)).rejects.toMatchObject({ code: 'MODNAS_E_CONFIG_INVALID', where: 'executor' });
  });
});
