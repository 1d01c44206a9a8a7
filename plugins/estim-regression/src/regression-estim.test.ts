import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Assignment, SearchOptimizer, TrialResult } from '@modnas/core';
import { ArchSpace, Rng, tf } from '@modnas/core';
import { TinySgdTrainer, makeEstimContext, tinySearchNet } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import type { ScoreRecord } from './regression-estim.js';
import { RegressionEstim, fitPredictor, predictorSchema, regressionEstim, regressionEstimSchema } from './regression-estim.js';

/** 3 params of 3 values (27 points); a known score: separable plus one interaction. */
function space(): ArchSpace {
  const s = new ArchSpace();
  for (const n of ['a', 'b', 'c']) s.categorical({ name: n, choices: ['x', 'y', 'z'] });
  return s;
}
const W: Record<string, Record<string, number>> = { a: { x: 0.1, y: 0.5, z: 0.3 }, b: { x: 0.4, y: 0.0, z: 0.2 }, c: { x: 0.0, y: 0.25, z: 0.6 } };
const f = (a: Assignment): number => W.a[a.a] + W.b[a.b] + W.c[a.c] + (a.a === a.c ? 0.15 : 0);
const all = (s: ArchSpace): Assignment[] => Array.from({ length: Number(s.size()) }, (_, i) => s.fromIndex(i));

/** Proposes every point of the space once, in index order; keeps what step() got. */
function gridOptim(s: ArchSpace): SearchOptimizer & { fed: TrialResult[] } {
  let i = 0;
  const fed: TrialResult[] = [];
  return {
    fed,
    hasNext: () => i < Number(s.size()),
    next: (n) => Array.from({ length: Math.min(n, Number(s.size()) - i) }, () => s.fromIndex(i++)),
    step: ({ results }) => void fed.push(...results),
    state: () => i,
    restore: (x) => void (i = x as number),
  };
}

function run(config: Record<string, unknown>, seed = 0) {
  const s = space();
  const model = tinySearchNet(s);
  const optim = gridOptim(s);
  const ctx = makeEstimContext({ model, space: s, trainer: new TinySgdTrainer(), optim, seed });
  const estim = new RegressionEstim(regressionEstimSchema.parse(config));
  return { s, optim, ctx, estim, dispose: () => (model.dispose(), s.dispose()) };
}

const FIT = { steps: 300, ensemble_size: 3, width: 16 };

describe('RegressionEstim', () => {
  it('scores each candidate by the predictor: the reported scores are its predictions, fed back, the best is the best predicted', async () => {
    const s0 = space();
    // the predictor learns from 14 of the 27 points (every other index), evaluated "for real" by f
    const records: ScoreRecord[] = all(s0)
      .filter((_, i) => i % 2 === 0)
      .map((arch) => ({ arch, score: f(arch) }));
    const r = run({ epochs: 9, arch_update_batch: 3, predictor: { records, ...FIT } }, 7);
    const before = tf.memory().numTensors;
    const out = await r.estim.run(r.ctx);
    expect(tf.memory().numTensors).toBe(before);
    // the same fit, made here from the same stream (the estimator forks the experiment's stream with predictor.seed)
    const ref = fitPredictor(s0.discrete(), records, predictorSchema.parse({ records, ...FIT }), new Rng(7).fork(0));
    const cands = all(s0);
    const pred = ref.predict(cands);
    ref.dispose();
    const recs = r.ctx.store.read('candidates') as Array<{ arch: Assignment; score: number; metrics: Record<string, number> }>;
    expect(recs).toHaveLength(27);
    recs.forEach((c, i) => {
      expect(c.arch).toEqual(cands[i]);
      expect(c.score).toBeCloseTo(pred.mean[i], 5);
      expect(c.metrics.predicted).toBe(c.score);
      expect(c.metrics.predicted_std).toBeCloseTo(pred.std[i], 5);
    });
    expect(r.optim.fed.map((t) => t.score)).toEqual(recs.map((c) => c.score));
    expect(out.best?.score).toBe(Math.max(...recs.map((c) => c.score)));
    expect(out.metrics.predictor_records).toBe(14);
    r.dispose();
  });

  it('the fitted predictor generalises: on the 13 points it never saw, it ranks the best first and errs little', () => {
    const s = space();
    const pts = all(s);
    const train = pts.filter((_, i) => i % 2 === 0).map((arch) => ({ arch, score: f(arch) }));
    const held = pts.filter((_, i) => i % 2 === 1);
    const p = fitPredictor(s.discrete(), train, predictorSchema.parse(FIT), new Rng(1));
    const { mean } = p.predict(held);
    p.dispose();
    const truth = held.map(f);
    const mae = truth.reduce((acc, t, i) => acc + Math.abs(t - mean[i]), 0) / held.length;
    // the scores span 0.1 .. 1.35 (sd about 0.3): a fit that ignored the arch would err about 0.25
    expect(mae).toBeLessThan(0.1);
    const bestHeld = truth.indexOf(Math.max(...truth));
    expect(Array.from(mean).indexOf(Math.max(...mean))).toBe(bestHeld);
    s.dispose();
  });

  it('learns from a records file (JSON lines, a run’s candidates) with target: acc, skipping unfinished records and archs outside the space', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regression-'));
    try {
      const file = join(dir, 'candidates.jsonl');
      const lines = [
        ...all(space()).map((arch, i) => ({ estim: 'select', index: i, arch, status: 'done', score: null, metrics: { acc: f(arch) } })),
        { arch: { a: 'x', b: 'x', c: 'x' }, status: 'diverged', score: null, metrics: {} },
        { arch: { a: 'w', b: 'x', c: 'x' }, status: 'done', score: 1, metrics: { acc: 9 } },
      ];
      writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const r = run({ epochs: 0, arch_update_batch: 9, predictor: { path: file, target: 'acc', ...FIT } });
      const out = await r.estim.run(r.ctx);
      expect(out.metrics.predictor_records).toBe(27);
      expect(out.metrics.candidates).toBe(27);
      // trained on every point, the best predicted is the true best: a=y, b=x, c=z (0.5 + 0.4 + 0.6 = 1.5;
      // the runner-up a=z, b=x, c=z scores 0.3 + 0.4 + 0.6 + 0.15 = 1.45)
      expect(out.best?.arch).toEqual({ a: 'y', b: 'x', c: 'z' });
      expect(out.best?.score).toBeCloseTo(1.5, 1);
      r.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('from_estim: learns from the candidates an earlier estimator put in the run’s store', async () => {
    const r = run({ epochs: 3, predictor: { from_estim: 'select', ...FIT } });
    for (const arch of all(r.s)) r.ctx.store.append('candidates', { estim: 'select', arch, status: 'done', score: f(arch), metrics: {} });
    r.ctx.store.append('candidates', { estim: 'other', arch: { a: 'x', b: 'x', c: 'x' }, status: 'done', score: 100, metrics: {} });
    const out = await r.estim.run(r.ctx);
    expect(out.metrics.predictor_records).toBe(27);
    // x,x,x scored 100 by the other estimator: not learned, so its prediction stays near f = 0.25
    const first = (r.ctx.store.read('candidates') as Array<{ estim: string; arch: Assignment; score: number }>).find((c) => c.estim === 'search');
    expect(first?.arch).toEqual({ a: 'x', b: 'x', c: 'x' });
    expect(Math.abs((first?.score ?? 0) - f({ a: 'x', b: 'x', c: 'x' }))).toBeLessThan(0.2);
    r.dispose();
  });

  it('fails with a fix when the predictor has nothing to learn from', async () => {
    const none = run({});
    await expect(none.estim.run(none.ctx)).rejects.toThrow(/nothing to learn from/);
    none.dispose();
    const empty = run({ predictor: { from_estim: 'select' } });
    await expect(empty.estim.run(empty.ctx)).rejects.toThrow(/"select" has no evaluated candidates/);
    empty.dispose();
    const outside = run({ predictor: { records: [{ arch: { a: 'q' }, score: 1 }] } });
    await expect(outside.estim.run(outside.ctx)).rejects.toThrow(/none of the 1 predictor records/);
    outside.dispose();
    expect(() => regressionEstim.schema.parse({ predictor: { model: 'xgb' } })).toThrow();
  });
});
