// `modnas bench` through the real command: its repeats are runs of one experiment in the store
// the config selects (one run per seed, with its trials), and repeat.json summarises them.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalStore } from '@modnas/store-journal';
import { SqliteStore } from '@modnas/store-sqlite';
import type { ExperimentStore } from '@modnas/services';
import { afterAll, describe, expect, it } from 'vitest';
import { root, runCli } from '../test/run-cli.js';

const out = mkdtempSync(join(tmpdir(), 'modnas-bench-'));
/** NAS-Bench-201 random search, 200 trials a run (a few milliseconds each). */
const config = join(root, 'packages', 'cli', 'src', 'fixtures', 'bench-tabular.yaml');
const TRIALS = 200;

afterAll(() => rmSync(out, { recursive: true, force: true }));

const cli = runCli;

interface RepeatFile {
  runs: Array<{ seed: number; value: number; storeRun?: string; best?: { score: number } }>;
  mean: number;
  store?: string;
}

describe('modnas bench', () => {
  for (const [storeType, file] of [
    ['SqliteStore', 'modnas.db'],
    ['JournalStore', 'journal.jsonl'],
  ] as const) {
    it(`keeps its repeats in the experiment's store (${storeType}): one run per seed, each with its trials; repeat.json is their summary`, async () => {
      const name = `bench-${storeType}`;
      const dir = join(out, name);
      const r = await cli(['bench', config, '--runs', '3', '-o', `name=${name}`, '-o', `output_dir=${out}`, '-o', `store.type=${storeType}`, '-o', `estim.search.max_queries=${TRIALS}`, '-o', 'estim.search.time_budget=1000000000', '-o', 'seed=7']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`runs r1\\.\\.r3 of the experiment's store \\(\\w+ ${dir}/${file}\\)`));
      expect(existsSync(join(dir, file))).toBe(true);
      // the light path: the store and the summary, no per-run files
      expect(existsSync(join(dir, 'logs'))).toBe(false);
      const summary = JSON.parse(readFileSync(join(dir, 'outputs', 'repeat.json'), 'utf8')) as RepeatFile;
      expect(summary.runs.map((x) => [x.seed, x.storeRun])).toEqual([
        [7, 'r1'],
        [8, 'r2'],
        [9, 'r3'],
      ]);

      const store: ExperimentStore = storeType === 'SqliteStore' ? new SqliteStore(join(dir, 'modnas.db'), name) : new JournalStore(dir, name, undefined, { readOnly: true });
      try {
        const runs = store.runs();
        expect(runs.map((x) => [x.id, x.experiment, x.status])).toEqual([
          ['r1', name, 'done'],
          ['r2', name, 'done'],
          ['r3', name, 'done'],
        ]);
        expect(runs.map((x) => (x.config as { seed: number }).seed)).toEqual([7, 8, 9]);
        const trials = runs.map((x) => store.records('trials', x.id).map((t) => t.record));
        for (const [i, ts] of trials.entries()) {
          expect(ts.map((t) => t.query)).toEqual(Array.from({ length: TRIALS }, (_, k) => k + 1));
          // the run's best trial is the one repeat.json reports
          expect(Math.max(...ts.map((t) => t.fitness as number))).toBe(summary.runs[i].best?.score);
        }
        // different seeds searched differently
        const archs = trials.map((ts) => JSON.stringify(ts.slice(0, 10).map((t) => t.arch)));
        expect(new Set(archs).size).toBe(3);
      } finally {
        store.close();
      }
    });
  }
});
