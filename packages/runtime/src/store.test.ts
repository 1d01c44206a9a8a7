// The store service through the runner: a store registered from outside replaces the default by
// config alone, is bound to ServiceTokens.ExperimentStore (its run's records to Tokens.Store, what
// ctx.store is), and carries an interrupted run to an exact resume.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { ResultStore, SearchOptimizer, StateEstimator, TrialResult } from '@modnas/core';
import { EventBus, Registry, Tokens, definePlugin } from '@modnas/core';
import { estimCheckpoints, reportCandidate } from '@modnas/kit-estim';
import { prepareExperiment } from './experiment.js';
import type { ExperimentStore, StoreFactory } from '@modnas/services';
import { MemoryExperimentStore, ServiceTokens } from '@modnas/services';
import { runExperiment } from './runner.js';

const none = z.strictObject({});

/** Everything the test plugin's components saw. */
interface Seen {
  opened: Array<{ dir: string; experiment: string }>;
  boundStore?: unknown;
  recorderIsCtxStore?: boolean;
  defaultCreated: number;
}

function registry(store: ExperimentStore, seen: Seen): Registry {
  const r = new Registry();
  r.register(
    definePlugin({
      meta: { name: '@test/store', version: '1.0.0' },
      components: [
        {
          kind: 'space',
          id: 'ThreeChoices',
          description: 'two categorical params of three values',
          schema: none,
          create: (_c, ctx) => {
            ctx.space.categorical({ choices: ['a', 'b', 'c'] }, 'x');
            ctx.space.categorical({ choices: ['a', 'b', 'c'] }, 'y');
            return { describe: () => '3 x 3' };
          },
        },
        {
          kind: 'optim',
          id: 'Walk',
          description: 'a seeded random walk over the space, with its state',
          schema: none,
          create: (_c, ctx): SearchOptimizer => {
            const rng = ctx.rng.fork(7);
            let steps = 0;
            return {
              hasNext: () => true,
              next: (n) => Array.from({ length: n }, () => ctx.space.random(rng)),
              step(fb) {
                steps += fb.results.length;
              },
              state: () => ({ rng: rng.getState(), steps }),
              restore(s) {
                const st = s as { rng: number; steps: number };
                rng.setState(st.rng);
                steps = st.steps;
              },
            };
          },
        },
        {
          kind: 'estim',
          id: 'Candidates',
          description: 'scores candidates with a draw of its rng, checkpointing after each',
          schema: z.strictObject({ n: z.number().int().default(8) }),
          create: (c): StateEstimator => ({
            async run(ctx) {
              seen.boundStore = ctx.container.resolve(ServiceTokens.ExperimentStore);
              seen.recorderIsCtxStore = ctx.container.resolve(Tokens.Store) === ctx.store;
              const ckpt = estimCheckpoints(ctx);
              const at = ckpt.resumed<{ i: number; best?: TrialResult }>();
              let best = at?.best;
              for (let i = at?.i ?? 0; i < c.n; i++) {
                if (ctx.signal?.aborted) break;
                const [arch] = ctx.optim!.next(1);
                const score = ctx.rng.next() + (arch.x === 'c' ? 1 : 0);
                const r: TrialResult = { arch, score, metrics: { score } };
                await reportCandidate(ctx, r, i);
                await ctx.optim!.step({ results: [r] });
                if (!best || score > best.score) best = r;
                await ckpt.save('candidate', { i: i + 1, best });
              }
              return { best, metrics: { score: best?.score ?? 0 } };
            },
          }),
        },
        {
          kind: 'store',
          id: 'SqliteStore',
          description: 'a stand-in for the default store: must not be created when the config names another',
          schema: none,
          create: () => {
            seen.defaultCreated++;
            return new MemoryExperimentStore();
          },
        },
        {
          kind: 'store',
          id: 'TestMemoryStore',
          description: 'an in-memory ExperimentStore registered from outside core',
          schema: none,
          create: (): StoreFactory => ({
            open: (where) => {
              seen.opened.push(where);
              return store;
            },
          }),
        },
      ],
    }),
  );
  return r;
}

const config = (dir: string, extra: Record<string, unknown> = {}) => ({
  name: 'st',
  output_dir: dir,
  seed: 5,
  space: { type: 'ThreeChoices' },
  optim: { type: 'Walk' },
  estim: { search: { type: 'Candidates', n: 8 } },
  checkpoint: { candidates: 1 },
  export: {},
  ...extra,
});

function archs(s: ResultStore & ExperimentStore, run: string): unknown[] {
  return s.records('candidates', run).map((r) => [r.record.index, r.record.arch, r.record.score]);
}

describe('the experiment store service', () => {
  it('a store registered from outside, named by config alone, replaces the default and is bound to ServiceTokens.ExperimentStore', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-store-'));
    const store = new MemoryExperimentStore();
    const seen: Seen = { opened: [], defaultCreated: 0 };
    const r = registry(store, seen);
    const { plan } = await prepareExperiment(config(dir, { store: { type: 'TestMemoryStore' } }), [], { registry: r, discover: false });
    const s = await runExperiment(plan, { registry: r });
    expect(seen.defaultCreated).toBe(0);
    expect(seen.opened).toEqual([{ dir: join(dir, 'st'), experiment: 'st' }]);
    expect(seen.boundStore).toBe(store);
    expect(seen.recorderIsCtxStore).toBe(true);
    expect(s.run).toBe('r1');
    expect(store.runs().map((x) => [x.id, x.status])).toEqual([['r1', 'done']]);
    expect(store.records('candidates', 'r1')).toHaveLength(8);
    expect(store.latestCheckpoint('r1')?.kind).toBe('estim');
    expect(existsSync(join(dir, 'st', 'modnas.db'))).toBe(false);
    // without the store key, the default (here the stand-in) is used
    const { plan: p2 } = await prepareExperiment(config(dir, { name: 'st2' }), [], { registry: r, discover: false });
    await runExperiment(p2, { registry: r });
    expect(seen.defaultCreated).toBe(1);
  });

  it('an interrupted run resumes from its last checkpoint to the trials and result of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-store-'));
    const seen: Seen = { opened: [], defaultCreated: 0 };
    const ref = new MemoryExperimentStore();
    const rr = registry(ref, seen);
    const { plan: refPlan } = await prepareExperiment(config(dir, { name: 'ref', store: { type: 'TestMemoryStore' } }), [], { registry: rr, discover: false });
    const whole = await runExperiment(refPlan, { registry: rr });

    const store = new MemoryExperimentStore();
    const r = registry(store, seen);
    const { plan } = await prepareExperiment(config(dir, { store: { type: 'TestMemoryStore' } }), [], { registry: r, discover: false });
    const ac = new AbortController();
    const events = new EventBus();
    let n = 0;
    events.on('candidate:end', () => {
      if (++n === 3) ac.abort();
    });
    const cut = await runExperiment(plan, { registry: r, signal: ac.signal, events });
    expect(cut.aborted).toBe(true);
    expect(store.runs()[0].status).toBe('interrupted');
    expect(store.records('candidates', 'r1')).toHaveLength(3);

    const resumed = await runExperiment(plan, { registry: r, resume: true });
    expect(resumed.run).toBe('r1');
    expect(resumed.resumed).toBe(true);
    expect(store.runs().map((x) => [x.id, x.status, x.resumes])).toEqual([['r1', 'done', 1]]);
    expect(archs(store, 'r1')).toEqual(archs(ref, 'r1'));
    expect(resumed.estims.search.best).toEqual(whole.estims.search.best);

    // a rerun without --resume is a new run; its trials do not mix with r1's
    const again = await runExperiment(plan, { registry: r });
    expect(again.run).toBe('r2');
    expect(archs(store, 'r2')).toEqual(archs(ref, 'r1'));
    expect(store.records('candidates', 'r1')).toHaveLength(8);
  });
});
