// writers/ read by TensorBoard itself: the quickstart search (cut to seconds with -o) and a training
// of the architecture it found run through the built command, then TensorBoard's EventAccumulator
// (the Python reader behind `tensorboard --logdir`) loads each run's folder, and its scalars must be
// the store's: every epoch metric, softmax(α) of every param, the best score so far. The Python
// comes from MODNAS_TEST_TENSORBOARD_PYTHON (a venv with `pip install tensorboard`; .ci/run makes
// one); without it the test skips with that reason, unless MODNAS_REQUIRE_SERVICES=1 and the
// variable is set, when it must run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getRegistry } from '@modnas/core';
import { discoverPlugins } from '@modnas/discovery';
import type { ExperimentStore } from '@modnas/services';
import { openExistingStore } from '@modnas/services';
import { root, runCli } from '../test/run-cli.js';
import { servicesRequired } from './test-services.js';

const python = process.env.MODNAS_TEST_TENSORBOARD_PYTHON ?? '';
const importable = python !== '' && spawnSync(python, ['-c', 'import tensorboard.backend.event_processing.event_accumulator'], { stdio: 'ignore' }).status === 0;
const run = importable || (servicesRequired && python !== '');
const why =
  python === '' ? 'MODNAS_TEST_TENSORBOARD_PYTHON is unset: skipped (a python with tensorboard; .ci/run makes one)'
  : importable ? `TensorBoard from ${python}`
  : `${python} cannot import tensorboard (pip install tensorboard)${run ? ', which MODNAS_REQUIRE_SERVICES=1 requires' : ': skipped'}`;

/** What EventAccumulator reads from a run folder: the file version and tag -> [step, value] (every point: size_guidance 0). */
const READ = `
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
ea = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0})
ea.Reload()
print(json.dumps({'version': ea.file_version, 'scalars': {t: [[e.step, e.value] for e in ea.Scalars(t)] for t in ea.Tags()['scalars']}}))
`;

function tensorboard(dir: string): { version: number; scalars: Record<string, Array<[number, number]>> } {
  const r = spawnSync(python, ['-c', READ, dir], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { version: number; scalars: Record<string, Array<[number, number]>> };
}

/** The scalars the store says a run's folder holds (float32, as simple_value keeps them). */
function fromStore(store: ExperimentStore, run: string): Record<string, Array<[number, number]>> {
  const want: Record<string, Array<[number, number]>> = {};
  const add = (tag: string, step: number, v: number): void => void (want[tag] ??= []).push([step, Math.fround(v)]);
  for (const { record: m } of store.records('metrics', run)) {
    for (const [k, v] of Object.entries(m)) if (!['estim', 'epoch', 'epochs', 'time'].includes(k) && typeof v === 'number') add(`${m.estim as string}/${k}`, (m.epoch as number) + 1, v);
  }
  for (const { record: a } of store.records('alpha', run)) {
    for (const op of a.ops as Array<{ param: string; candidates: string[]; probs: number[] }>) op.candidates.forEach((c, i) => add(`${a.estim as string}/alpha/${op.param}/${c}`, (a.epoch as number) + 1, op.probs[i]));
  }
  const best = new Map<string, { n: number; best: number }>();
  for (const { record: c } of store.records('candidates', run)) {
    const b = best.get(c.estim as string) ?? { n: 0, best: -Infinity };
    best.set(c.estim as string, b);
    b.n++;
    if (typeof c.score === 'number' && c.score > b.best) b.best = c.score;
    if (Number.isFinite(b.best)) add(`${c.estim as string}/best_score`, b.n, b.best);
  }
  return want;
}

const sorted = (o: Record<string, unknown>): string[] => Object.keys(o).sort();

const out = mkdtempSync(join(tmpdir(), 'modnas-writers-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe(`writers/: TensorBoard event files of every run (${why})`, () => {
  it.skipIf(!run)("the quickstart search and a training of its architecture: TensorBoard's reader gets the store's scalars", async () => {
    expect(importable, why).toBe(true);
    const registry = getRegistry();
    discoverPlugins({ cwd: root, registry });

    const search = await runCli(['run', 'examples/quickstart/search.yaml', '--output-dir', out, '-o', 'data_provider.train_size=256', '-o', 'data_provider.valid_size=64', '-o', 'estim.warmup.epochs=1', '-o', 'estim.search.epochs=2']);
    expect(search.code, search.stderr).toBe(0);
    const exp = join(out, 'quickstart');
    const folder = join(exp, 'writers', 'r1');
    const files = readdirSync(folder);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${hostname().replace(/[.]/g, '\\.')}$`));

    const tb = tensorboard(folder);
    expect(tb.version).toBe(2); // "brain.Event:2" in the first event
    const store = (await openExistingStore(exp, registry))!;
    let want: Record<string, Array<[number, number]>>;
    try {
      want = fromStore(store, 'r1');
    } finally {
      store.close();
    }
    expect(sorted(tb.scalars)).toEqual(sorted(want));
    expect(tb.scalars).toEqual(want);
    // what the quickstart's store holds: two estimators' metrics, α of its six searchable blocks
    for (const tag of ['warmup/loss', 'warmup/acc', 'warmup/train_loss', 'search/acc', 'search/arch_updates', 'search/best_score']) expect(tb.scalars).toHaveProperty([tag]);
    expect(tb.scalars['search/loss'].map(([s]) => s)).toEqual([1, 2]);
    expect(new Set(Object.keys(tb.scalars).filter((t) => t.startsWith('search/alpha/')).map((t) => t.split('/')[2])).size).toBe(6);
    for (const p of ['t_0', 't_3']) {
      const probs = Object.entries(tb.scalars).filter(([t]) => t.startsWith(`search/alpha/${p}/`)).map(([, v]) => v[1][1]);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }

    // a training run of the architecture found: the trainer's epochs, in its own experiment's writers/
    const arch = join(exp, 'outputs', 'arch_search_best.yaml');
    const train = await runCli(['train', 'examples/quickstart/train.yaml', '--arch', arch, '--output-dir', out, '-o', 'data_provider.train_size=256', '-o', 'data_provider.valid_size=64', '-o', 'estim.train.epochs=2']);
    expect(train.code, train.stderr).toBe(0);
    const texp = join(out, 'quickstart-train');
    const tstore = (await openExistingStore(texp, registry))!;
    let twant: Record<string, Array<[number, number]>>;
    try {
      twant = fromStore(tstore, 'r1');
    } finally {
      tstore.close();
    }
    const ttb = tensorboard(join(texp, 'writers', 'r1'));
    expect(ttb.scalars).toEqual(twant);
    expect(ttb.scalars['train/train_loss'].map(([s]) => s)).toEqual([1, 2]);
    expect(Object.keys(ttb.scalars).some((t) => t.includes('/alpha/') || t.endsWith('best_score'))).toBe(false);
  }, 240_000);
});
