import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { prepareExperiment } from './experiment.js';
import type { Callback, CategoricalParam, EventBus, Exporter, Logger, StateEstimator, StateOptimizer, StateTransformer } from '@modnas/core';
import { MemoryExperimentStore, ServiceTokens } from '@modnas/services';
import { container as rootContainer } from 'tsyringe';
import { Module, Slot, definePlugin, Registry, Tokens, resolveToken, tf } from '@modnas/core';
import { runExperiment } from './runner.js';
import { tinyDataset } from './test-fixtures.js';

/** y = x * w: a module whose "op" is a name and a scale. */
class Op extends Module {
  readonly w: tf.Variable;
  constructor(readonly opName: string) {
    super();
    this.w = this.addParam('w', tf.scalar(opName === 'big' ? 2 : 1));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, this.w);
  }
}

/** Chooses among ops by a categorical param (a minimal Index mixed op). */
class Choice extends Module {
  constructor(readonly param: CategoricalParam) {
    super();
    for (const c of param.choices) this.addModule(String(c), new Op(String(c)));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.getModule(String(this.param.value))!.call(x);
  }
}

class Net extends Module {
  readonly s1 = this.addModule('s1', new Slot({ chnIn: 1 }));
  readonly s2 = this.addModule('s2', new Slot({ chnIn: 1 }));
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mean(this.s2.call(this.s1.call(x)), [1, 2]);
  }
}

function registry(): Registry {
  const r = new Registry();
  const none = z.strictObject({});
  r.register(
    definePlugin({
      meta: { name: '@test/runner', version: '1.0.0' },
      components: [
        tinyDataset(40, 3, 10),
        { kind: 'backbone', id: 'TwoSlots', description: 'x', schema: none, create: () => new Net() },
        {
          kind: 'construct',
          id: 'ChoiceConstructor',
          description: 'x',
          schema: none,
          create: (_c, ctx): StateTransformer => ({
            apply(model) {
              for (const [, s] of Slot.find(model)) s.fill(new Choice(ctx.space.categorical({ choices: ['small', 'big'] }, 'op')));
              return model;
            },
          }),
        },
        {
          kind: 'construct',
          id: 'DescConstructor',
          description: 'x',
          schema: none,
          create: (_c, ctx): StateTransformer => ({
            apply(model) {
              const desc = resolveToken(ctx.container, Tokens.ArchDesc) as string[];
              Slot.find(model).forEach(([, s], i) => s.fill(new Op(desc[i])));
              return model;
            },
          }),
        },
        {
          kind: 'trainer',
          id: 'NoTrainer',
          description: 'x',
          schema: none,
          create: (): StateOptimizer => ({
            batchSize: 4,
            setEpoch() {},
            currentLr: () => 0,
            trainStep: () => ({ loss: 0, correct: 0, count: 0 }),
            evalStep: () => ({ loss: 0, correct: 0, count: 0 }),
            loss: () => tf.scalar(0),
            reset() {},
            state: () => ({}),
            restore() {},
            dispose() {},
          }),
        },
        {
          kind: 'estim',
          id: 'ScoreAll',
          description: 'scores every point of the space by the output of the network',
          schema: z.strictObject({ epochs: z.number().int().positive().default(3) }),
          create: (c): StateEstimator => ({
            async run(ctx) {
              let best: { arch: Record<string, string | number>; score: number; metrics: Record<string, number> } | undefined;
              const size = Number(ctx.space.size());
              for (let i = 0; i < size; i++) {
                const arch = ctx.space.fromIndex(i);
                ctx.space.apply(arch);
                const score = tf.tidy(() => ctx.model.call(tf.ones([1, 1, 1, 1])).dataSync()[0]);
                ctx.store.append('candidates', { arch, score });
                ctx.logger.debug(`candidate ${i}: ${score}`);
                if (!best || score > best.score) best = { arch, score, metrics: { score } };
              }
              return { best, metrics: { epochs: c.epochs, candidates: size } };
            },
          }),
        },
        {
          kind: 'estim',
          id: 'Epochs',
          description: 'counts epochs until its signal says stop; each epoch reported on the bus',
          schema: z.strictObject({ epochs: z.number().int().positive().default(10) }),
          create: (c): StateEstimator => ({
            async run(ctx) {
              let done = 0;
              for (let e = 0; e < c.epochs; e++) {
                if (ctx.signal?.aborted) break;
                done++;
                await ctx.events.emit('epoch:end', { estim: ctx.name, epoch: e, epochs: c.epochs, metrics: { done } });
              }
              return { metrics: { done } };
            },
          }),
        },
        {
          kind: 'callback',
          id: 'StopAt',
          description: 'stops each estimator after `at` epochs',
          schema: z.strictObject({ at: z.number().int().positive() }),
          create: (c): Callback => ({
            attach(events: EventBus) {
              let stop: ((reason: string) => void) | undefined;
              events.on('estim:begin', (e) => void (stop = e.stop));
              events.on('epoch:end', ({ epoch }) => {
                if (epoch + 1 === c.at) stop?.(`reached ${c.at}`);
              });
            },
          }),
        },
        {
          kind: 'exporter',
          id: 'SlotNames',
          description: 'x',
          schema: none,
          create: (): Exporter => ({
            export: (model) => Slot.find(model).map(([, s]) => (s.impl instanceof Choice ? String(s.impl.param.value) : (s.impl as Op).opName)),
          }),
        },
      ],
    }),
  );
  return r;
}

describe('runExperiment', () => {
  it('a callback may end an estimator early (estim:begin stop): it ends as done, says why, and the run goes on with the next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-stop-'));
    const cfg = { name: 'stop', output_dir: dir, data: { type: 'Tiny' }, model: { type: 'TwoSlots' }, construct: [{ type: 'ChoiceConstructor' }], trainer: { type: 'NoTrainer' }, estim: { one: { type: 'Epochs' }, two: { type: 'Epochs', epochs: 2 } }, callbacks: { stop: { type: 'StopAt', at: 3 } }, export: { d: { type: 'SlotNames' } } };
    const r = registry();
    const { plan } = await prepareExperiment(cfg, [], { registry: r, discover: false });
    const s = await runExperiment(plan, { registry: r });
    expect(s.estims.one).toMatchObject({ metrics: { done: 3 }, stopped: 'reached 3' });
    expect(s.estims.two.metrics).toEqual({ done: 2 });
    expect(s.estims.two.stopped).toBeUndefined();
    expect(readFileSync(join(dir, 'stop', 'logs', 'run.log'), 'utf8')).toContain('estim one: stopped early: reached 3');
  });

  it('builds, searches, exports the best arch, and trains the network an arch_desc describes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-run-'));
    const r = registry();
    const base = {
      name: 'search',
      output_dir: dir,
      data: { type: 'Tiny' },
      model: { type: 'TwoSlots' },
      construct: [{ type: 'ChoiceConstructor' }],
      trainer: { type: 'NoTrainer' },
      estim: { search: { type: 'ScoreAll' } },
      export: { default: { type: 'SlotNames' } },
    };
    const before = tf.memory().numTensors;
    const { plan } = await prepareExperiment(base, ['quick=true'], { registry: r, discover: false });
    const summary = await runExperiment(plan, { registry: r });
    expect(tf.memory().numTensors).toBe(before);
    expect(summary.estims.search.best?.arch).toEqual({ op_0: 'big', op_1: 'big' });
    expect(summary.estims.search.metrics).toEqual({ epochs: 1, candidates: 4 }); // quick caps epochs
    const out = join(dir, 'search');
    const archFile = join(out, 'outputs', 'arch_search_best.yaml');
    expect(parseYaml(readFileSync(archFile, 'utf8'))).toEqual(['big', 'big']);
    expect(existsSync(join(out, 'logs', 'run.log'))).toBe(true);
    expect(readFileSync(join(out, 'logs', 'candidates.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(JSON.parse(readFileSync(join(out, 'outputs', 'summary.json'), 'utf8')).estims.search.outputs).toEqual([archFile]);

    // final training from the exported description (the seed's desc_construct)
    const { plan: trainPlan } = await prepareExperiment(
      { ...base, name: 'train', construct: [], arch_desc: archFile, desc_construct: { arch_desc: { type: 'DescConstructor' } } },
      [],
      { registry: r, discover: false },
    );
    const s2 = await runExperiment(trainPlan, { registry: r });
    expect(s2.numParams).toBe(2);
    expect(parseYaml(readFileSync(join(dir, 'train', 'outputs', 'arch_search_best.yaml'), 'utf8'))).toEqual(['big', 'big']);
  });

  it('binds the experiment folder (Tokens.OutputDir) for what it builds when it writes one, and none when it keeps results in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-outdir-'));
    const r = registry();
    const seen: Array<string | undefined> = [];
    r.register(
      definePlugin({
        meta: { name: '@test/outdir', version: '1.0.0' },
        components: [{ kind: 'exporter', id: 'OutDirProbe', description: 'x', schema: z.strictObject({}), create: (_c, ctx): Exporter => (seen.push(resolveToken(ctx.container, Tokens.OutputDir)), { export: () => null }) }],
      }),
    );
    const cfg = { name: 'o', output_dir: dir, data: { type: 'Tiny' }, model: { type: 'TwoSlots' }, construct: [{ type: 'ChoiceConstructor' }], trainer: { type: 'NoTrainer' }, estim: { search: { type: 'ScoreAll' } }, export: { d: { type: 'OutDirProbe' } } };
    const { plan } = await prepareExperiment(cfg, [], { registry: r, discover: false });
    await runExperiment(plan, { registry: r });
    await runExperiment(plan, { registry: r, persist: false, backend: { backend: 'cpu', source: 'builtin', skipped: [] } });
    expect(seen).toEqual([join(dir, 'o'), undefined]);
  });

  it('stops between estimators when aborted and still writes the summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-abort-'));
    const r = registry();
    const { plan } = await prepareExperiment(
      { name: 'a', output_dir: dir, data: { type: 'Tiny' }, model: { type: 'TwoSlots' }, construct: [{ type: 'ChoiceConstructor' }], trainer: { type: 'NoTrainer' }, estim: { one: { type: 'ScoreAll' }, two: { type: 'ScoreAll' } }, export: { d: { type: 'SlotNames' } } },
      [],
      { registry: r, discover: false },
    );
    const ac = new AbortController();
    ac.abort();
    const s = await runExperiment(plan, { registry: r, signal: ac.signal });
    expect(s.aborted).toBe(true);
    expect(Object.keys(s.estims)).toEqual([]);
    expect(existsSync(join(dir, 'a', 'outputs', 'summary.json'))).toBe(true);
  });

  it('keeps results in memory only when persist is false, with the same numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-mem-'));
    const r = registry();
    const cfg = { name: 'm', output_dir: dir, data: { type: 'Tiny' }, model: { type: 'TwoSlots' }, construct: [{ type: 'ChoiceConstructor' }], trainer: { type: 'NoTrainer' }, estim: { search: { type: 'ScoreAll' } }, export: { d: { type: 'SlotNames' } } };
    const { plan } = await prepareExperiment(cfg, [], { registry: r, discover: false });
    const mem = await runExperiment(plan, { registry: r, persist: false, backend: { backend: 'cpu', source: 'builtin', skipped: [] } });
    expect(existsSync(join(dir, 'm'))).toBe(false);
    expect(mem.estims.search.outputs).toEqual([]);
    const disk = await runExperiment(plan, { registry: r });
    expect(mem.estims.search.best).toEqual(disk.estims.search.best);
    expect(mem.estims.search.metrics).toEqual(disk.estims.search.metrics);
  });

  it("records the search space once per run (stream 'space'): every param with its choices; no graph when the space declares none", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-space-'));
    const r = registry();
    const cfg = { name: 'sp', output_dir: dir, data: { type: 'Tiny' }, model: { type: 'TwoSlots' }, construct: [{ type: 'ChoiceConstructor' }], trainer: { type: 'NoTrainer' }, estim: { one: { type: 'ScoreAll' }, two: { type: 'ScoreAll' } }, export: { d: { type: 'SlotNames' } } };
    const { plan } = await prepareExperiment(cfg, [], { registry: r, discover: false });
    const store = new MemoryExperimentStore();
    const parent = rootContainer.createChildContainer();
    parent.registerInstance(ServiceTokens.ExperimentStore, store);
    const a = await runExperiment(plan, { registry: r, container: parent, persist: false });
    const b = await runExperiment(plan, { registry: r, container: parent, persist: false });
    for (const run of [a.run!, b.run!]) {
      const recs = store.records('space', run);
      expect(recs).toHaveLength(1); // two estimators, one record
      const { time, ...space } = recs[0].record;
      expect(typeof time).toBe('string');
      expect(space).toEqual({ params: [{ name: 'op_0', type: 'categorical', choices: ['small', 'big'] }, { name: 'op_1', type: 'categorical', choices: ['small', 'big'] }] });
      // written before the first estimator reports
      expect(recs[0].id).toBeLessThan(store.records('candidates', run)[0].id);
    }
  });

  it('uses the store and the logger a caller registers in its container, and nothing else (services swapped through DI alone)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-di-'));
    const r = registry();
    const cfg = { name: 'di', output_dir: dir, log_level: 'debug', data: { type: 'Tiny' }, model: { type: 'TwoSlots' }, construct: [{ type: 'ChoiceConstructor' }], trainer: { type: 'NoTrainer' }, estim: { search: { type: 'ScoreAll' } }, export: { d: { type: 'SlotNames' } } };
    const { plan } = await prepareExperiment(cfg, [], { registry: r, discover: false });
    const store = new MemoryExperimentStore();
    const lines: string[] = [];
    const logger: Logger = { debug: (m) => lines.push(`debug ${m}`), info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
    const parent = rootContainer.createChildContainer();
    parent.registerInstance(ServiceTokens.ExperimentStore, store);
    parent.registerInstance(Tokens.Logger, logger);

    const s = await runExperiment(plan, { registry: r, container: parent });
    // the run, its records and its checkpoints are in the caller's store, not one the runner chose
    expect(store.runs().map((x) => [x.id, x.status])).toEqual([[s.run, 'done']]);
    expect(store.records('candidates', s.run)).toHaveLength(4);
    expect(store.latestCheckpoint(s.run!)?.kind).toBe('estim');
    expect(lines.some((l) => l.includes('no experiment store is installed'))).toBe(false);
    // the caller's logger got the runner's lines and the estimator's (through ctx.logger)
    expect(lines.some((l) => /^info estim search: done/.test(l))).toBe(true);
    expect(lines.filter((l) => /^debug candidate \d: /.test(l))).toHaveLength(4);
    // the run log is still written beside it
    expect(readFileSync(join(dir, 'di', 'logs', 'run.log'), 'utf8')).toContain('candidate 3');
  });
});
