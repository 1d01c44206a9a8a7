// The run's TensorBoard event files through the runner: writers/<run id>/ holds one file whose
// scalars are the store's epoch metrics and the best score so far per candidate; a resumed run's
// file equals an uninterrupted run's (no step twice); writer.enabled: false writes none. The file is
// read with kit-io's test reader here, and with TensorBoard's own in packages/cli's writers e2e test.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import type { SearchOptimizer, StateEstimator, TrialResult } from '@modnas/core';
import { EventBus, Registry, definePlugin } from '@modnas/core';
import { estimCheckpoints, reportCandidate, reportEpoch } from '@modnas/kit-estim';
import type { ExperimentStore, StoreFactory } from '@modnas/services';
import { MemoryExperimentStore } from '@modnas/services';
import { readEventFile, scalarsByTag } from '../../kit-io/test/read-tfevents.js';
import { prepareExperiment } from './experiment.js';
import { runExperiment } from './runner.js';
import { RunWriter, epochScalars } from './writers.js';

const none = z.strictObject({});
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'modnas-writers-'));
  dirs.push(d);
  return d;
};

function registry(store: ExperimentStore): Registry {
  const r = new Registry();
  r.register(
    definePlugin({
      meta: { name: '@test/writers', version: '1.0.0' },
      components: [
        {
          kind: 'space',
          id: 'ThreeChoices',
          description: 'one categorical param of three values',
          schema: none,
          create: (_c, ctx) => {
            ctx.space.categorical({ choices: ['a', 'b', 'c'] }, 'x');
            return { describe: () => '3' };
          },
        },
        {
          kind: 'optim',
          id: 'Draw',
          description: 'seeded random draws',
          schema: none,
          create: (_c, ctx): SearchOptimizer => {
            const rng = ctx.rng.fork(3);
            return {
              hasNext: () => true,
              next: (n) => Array.from({ length: n }, () => ctx.space.random(rng)),
              step() {},
              state: () => ({ rng: rng.getState() }),
              restore: (s) => rng.setState((s as { rng: number }).rng),
            };
          },
        },
        {
          kind: 'estim',
          id: 'Epochs',
          description: 'reports made-up metrics per epoch',
          schema: z.strictObject({ epochs: z.number().int().default(3) }),
          create: (c): StateEstimator => ({
            async run(ctx) {
              for (let e = 0; e < c.epochs; e++) await reportEpoch(ctx, e, c.epochs, { loss: 1 / (e + 1), acc: e / 10 });
              return { metrics: {} };
            },
          }),
        },
        {
          kind: 'estim',
          id: 'Candidates',
          description: 'scores candidates with its rng, checkpointing after each; every third diverges',
          schema: z.strictObject({ n: z.number().int().default(8) }),
          create: (c): StateEstimator => ({
            async run(ctx) {
              const ckpt = estimCheckpoints(ctx);
              const at = ckpt.resumed<{ i: number }>();
              for (let i = at?.i ?? 0; i < c.n; i++) {
                if (ctx.signal?.aborted) break;
                const [arch] = ctx.optim!.next(1);
                const score = i % 3 === 2 ? -Infinity : ctx.rng.next();
                const r: TrialResult = { arch, score, metrics: { score } };
                await reportCandidate(ctx, { ...r, ...(score === -Infinity ? { status: 'diverged' as const } : {}) }, i);
                await ckpt.save('candidate', { i: i + 1 });
              }
              return { metrics: {} };
            },
          }),
        },
        {
          kind: 'store',
          id: 'TestMemoryStore',
          description: 'the test store',
          schema: none,
          create: (): StoreFactory => ({ open: () => store }),
        },
      ],
    }),
  );
  return r;
}

const config = (dir: string, extra: Record<string, unknown> = {}) => ({
  name: 'w',
  output_dir: dir,
  seed: 2,
  space: { type: 'ThreeChoices' },
  optim: { type: 'Draw' },
  estim: { warmup: { type: 'Epochs', epochs: 3 }, search: { type: 'Candidates', n: 8 } },
  store: { type: 'TestMemoryStore' },
  checkpoint: { candidates: 1 },
  export: {},
  ...extra,
});

const eventFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.includes('tfevents')) : []);

/** The one event file of a run folder, as tag -> [step, value]. */
function series(dir: string): Map<string, Array<[number, number]>> {
  const files = eventFiles(dir);
  expect(files).toHaveLength(1);
  return scalarsByTag(readEventFile(join(dir, files[0])));
}

/** What the store says the scalars are, as float32 (simple_value is a float). */
function expected(store: ExperimentStore, run: string): Map<string, Array<[number, number]>> {
  const want = new Map<string, Array<[number, number]>>();
  const add = (tag: string, step: number, v: number): void => void want.set(tag, [...(want.get(tag) ?? []), [step, Math.fround(v)]]);
  for (const { record: m } of store.records('metrics', run)) for (const k of ['loss', 'acc']) add(`${m.estim as string}/${k}`, (m.epoch as number) + 1, m[k] as number);
  let best = -Infinity;
  store.records('candidates', run).forEach(({ record: c }, i) => {
    if (typeof c.score === 'number' && c.score > best) best = c.score;
    // a first diverged candidate would have no best yet: the search's first is scored
    add('search/best_score', i + 1, best);
  });
  return want;
}

describe("the run's TensorBoard event files (writers/)", () => {
  it('writes writers/<run id>/ with the epoch metrics and the best score so far, step by step', async () => {
    const dir = tmp();
    const store = new MemoryExperimentStore();
    const r = registry(store);
    const { plan } = await prepareExperiment(config(dir), [], { registry: r, discover: false });
    expect(plan.config.writer).toEqual({ enabled: true });
    await runExperiment(plan, { registry: r });
    const got = series(join(dir, 'w', 'writers', 'r1'));
    expect([...got.keys()].sort()).toEqual(['search/best_score', 'warmup/acc', 'warmup/loss']);
    expect(got.get('warmup/loss')).toEqual([[1, 1], [2, Math.fround(0.5)], [3, Math.fround(1 / 3)]]);
    expect(got).toEqual(expected(store, 'r1'));
    // diverged candidates (3rd, 6th) keep the best so far; the series never falls
    const best = got.get('search/best_score')!.map(([, v]) => v);
    expect(best).toHaveLength(8);
    expect(best.every((v, i) => i === 0 || v >= best[i - 1])).toBe(true);

    // a second run gets its own folder (a line of its own in TensorBoard)
    await runExperiment(plan, { registry: r });
    expect(series(join(dir, 'w', 'writers', 'r2'))).toEqual(expected(store, 'r2'));
  });

  it('a resumed run rewrites its folder from the store: the same points as an uninterrupted run, none twice', async () => {
    const dir = tmp();
    const refStore = new MemoryExperimentStore();
    const rr = registry(refStore);
    const { plan: refPlan } = await prepareExperiment(config(dir, { name: 'ref' }), [], { registry: rr, discover: false });
    await runExperiment(refPlan, { registry: rr });
    const whole = series(join(dir, 'ref', 'writers', 'r1'));

    const store = new MemoryExperimentStore();
    const r = registry(store);
    const { plan } = await prepareExperiment(config(dir), [], { registry: r, discover: false });
    const ac = new AbortController();
    const events = new EventBus();
    let n = 0;
    events.on('candidate:end', () => {
      if (++n === 4) ac.abort();
    });
    const cut = await runExperiment(plan, { registry: r, signal: ac.signal, events });
    expect(cut.aborted).toBe(true);
    expect(series(join(dir, 'w', 'writers', 'r1')).get('search/best_score')).toHaveLength(4);
    // the abort leaves the bus: nothing the next run emits on it reaches r1's file
    await events.emit('epoch:end', { estim: 'x', epoch: 0, epochs: 1, metrics: { stray: 1 } });
    expect(series(join(dir, 'w', 'writers', 'r1')).has('x/stray')).toBe(false);

    await runExperiment(plan, { registry: r, resume: true });
    expect(series(join(dir, 'w', 'writers', 'r1'))).toEqual(whole);
  });

  it('writer.enabled: false (and a run kept in memory) writes no writers/ folder', async () => {
    const dir = tmp();
    const r = registry(new MemoryExperimentStore());
    const { plan } = await prepareExperiment(config(dir), ['writer.enabled=false'], { registry: r, discover: false });
    await runExperiment(plan, { registry: r });
    expect(existsSync(join(dir, 'w', 'outputs'))).toBe(true);
    expect(existsSync(join(dir, 'w', 'writers'))).toBe(false);
    const { plan: mem } = await prepareExperiment(config(dir, { name: 'm' }), [], { registry: r, discover: false });
    await runExperiment(mem, { registry: r, persist: false, backend: { backend: 'cpu', source: 'builtin', skipped: [] } });
    expect(existsSync(join(dir, 'm'))).toBe(false);
  });

  it('draws softmax(α) as <estim>/alpha/<param>/<candidate>, beside the metrics of the epoch', async () => {
    expect(epochScalars('search', { acc: 0.5 }, [{ param: 't_0', candidates: ['MB3E3', 'NIL'], probs: [0.75, 0.25] }])).toEqual([
      { tag: 'search/acc', value: 0.5 },
      { tag: 'search/alpha/t_0/MB3E3', value: 0.75 },
      { tag: 'search/alpha/t_0/NIL', value: 0.25 },
    ]);
    const dir = tmp();
    const events = new EventBus();
    const w = RunWriter.open(dir, undefined, 'r1');
    const off = w.attach(events, 'r1');
    await events.emit('epoch:end', { estim: 'search', epoch: 1, epochs: 2, metrics: { acc: 0.5 }, alpha: [{ param: 't_0', candidates: ['a', 'b'], probs: [0.75, 0.25] }] });
    off();
    await events.emit('epoch:end', { estim: 'search', epoch: 2, epochs: 2, metrics: { acc: 0.75 } });
    expect([...series(dir)]).toEqual([
      ['search/acc', [[2, 0.5]]],
      ['search/alpha/t_0/a', [[2, 0.75]]],
      ['search/alpha/t_0/b', [[2, 0.25]]],
    ]);
  });
});
