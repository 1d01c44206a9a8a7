// RegressionEstim through the runtime's runner: an estimator that evaluates candidates "for real"
// (a known score) runs first, then RegressionEstim, whose predictor learns from those candidates
// (predictor.from_estim), ranks the rest of the space. One optimizer (a grid) serves both.
import type { Assignment, SearchOptimizer } from '@modnas/core';
import { Registry, defineComponent, definePlugin, z } from '@modnas/core';
import { reportCandidate } from '@modnas/kit-estim';
import { prepareExperiment, runExperiment } from '@modnas/runtime';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';

const W: Record<string, Record<string, number>> = { a: { x: 0.1, y: 0.5, z: 0.3 }, b: { x: 0.4, y: 0.0, z: 0.2 }, c: { x: 0.0, y: 0.25, z: 0.6 } };
const f = (a: Assignment): number => W.a[a.a] + W.b[a.b] + W.c[a.c];

const none = z.strictObject({});
const testPlugin = definePlugin({
  meta: { name: '@test/regression-e2e', version: '1.0.0' },
  components: [
    defineComponent({
      kind: 'space',
      id: 'Toy27Space',
      description: '3 params of 3 values',
      schema: none,
      create(_c, ctx) {
        for (const n of ['a', 'b', 'c']) ctx.space.categorical({ name: n, choices: ['x', 'y', 'z'] });
        return { describe: () => '3 params of 3 values' };
      },
    }),
    defineComponent({
      kind: 'optim',
      id: 'Toy27Grid',
      description: 'Every point once, in the order 0, 5, 10, ... (mod 27)',
      schema: none,
      create(_c, ctx): SearchOptimizer {
        let i = 0;
        const size = (): number => Number(ctx.space.size());
        return {
          hasNext: () => i < size(),
          next: (n) => Array.from({ length: Math.min(n, size() - i) }, () => ctx.space.fromIndex((5 * i++) % size())),
          step: () => undefined,
          state: () => i,
          restore: (s) => void (i = s as number),
        };
      },
    }),
    defineComponent({
      kind: 'estim',
      id: 'Toy27Eval',
      description: 'Scores n candidates by the known function',
      schema: z.strictObject({ n: z.number().int().default(14).describe('Candidates') }),
      create: (c) => ({
        async run(ctx) {
          const cands = ctx.optim?.next(c.n) ?? [];
          for (const [i, arch] of cands.entries()) await reportCandidate(ctx, { arch, score: f(arch), metrics: { acc: f(arch) } }, i);
          return { metrics: { candidates: cands.length } };
        },
      }),
    }),
  ],
});

describe('RegressionEstim through the runner', () => {
  it('learns from the first estimator’s 14 candidates and ranks the other 13 by prediction', async () => {
    const r = new Registry();
    for (const p of [plugin, testPlugin]) r.register(p);
    const config = {
      name: 'regression-e2e',
      space: { type: 'Toy27Space' },
      optim: { type: 'Toy27Grid' },
      estim: {
        select: { type: 'Toy27Eval', n: 14 },
        predict: { type: 'RegressionEstim', epochs: 0, arch_update_batch: 5, predictor: { from_estim: 'select', steps: 300, ensemble_size: 3 } },
      },
      export: {},
    };
    const { plan } = await prepareExperiment(config, [], { registry: r, discover: false });
    const s = await runExperiment(plan, { registry: r, persist: false });
    expect(s.estims.predict.metrics.predictor_records).toBe(14);
    expect(s.estims.predict.metrics.candidates).toBe(13);
    // the 13 points the predictor never saw: indices 5k mod 27 for k = 14..26; its pick is the best of them
    const rest = Array.from({ length: 13 }, (_, k) => (5 * (k + 14)) % 27);
    const sp = { fromIndex: (i: number): Assignment => ({ a: 'xyz'[i % 3], b: 'xyz'[Math.floor(i / 3) % 3], c: 'xyz'[Math.floor(i / 9)] }) };
    const truth = rest.map((i) => sp.fromIndex(i)).sort((x, y) => f(y) - f(x));
    expect(s.estims.predict.best?.arch).toEqual(truth[0]);
    // an unseen point's prediction is near its true score (the scores span 0.1 .. 1.5)
    expect(Math.abs((s.estims.predict.best?.score ?? 0) - f(truth[0]))).toBeLessThan(0.2);
  });
});
